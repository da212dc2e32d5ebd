"""Adapter for an ONNX file run with onnxruntime."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import expit

from peephole.core.query import OUTPUT_KINDS
from peephole.errors import InputError
from peephole.models.preprocess import ImagePreprocess

#: ONNX input element types Peephole feeds, and the NumPy type the batch is cast to (uint8: 255·x rounded)
INPUT_TYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(uint8)": np.uint8,
}
#: Output element types read as scores; the first output of one of them is the model's
FLOAT_OUTPUTS = ("tensor(float)", "tensor(float16)", "tensor(double)")


class OnnxModel:
    """Runs an ONNX graph with onnxruntime (CPU unless ``providers`` says otherwise).

    ``preprocess=None`` feeds the N×H×W×3 [0, 1] batch unchanged (the graph does its own
    preprocessing, as Peephole's exported EfficientNet-Lite0 does). A graph whose input has a fixed batch size
    (an export without a dynamic batch axis, often 1) is run on batches of exactly that size: it is the preferred
    batch size, and a batch of another size is split, its last part padded with copies of its last input (their
    outputs dropped). A float16 or float64 input gets the batch in that type, a uint8 input ``round(255·x)``
    (after ``preprocess``); any other input type, a graph of no input or of several, or one without a float tensor
    output is an :class:`InputError` when the file is loaded. The scores are the first float tensor output (an
    exported scikit-learn or TF classifier's first output is often its int64 label, its probabilities second), with a
    warning naming the others when there are several.
    """

    modality = "image"  #: inputs are N×H×W×3 float32 RGB images in [0, 1]

    def __init__(
        self,
        path: str | Path,
        output: str,
        preprocess: ImagePreprocess | None = None,
        class_names: Sequence[str] | None = None,
        batch_size: int | None = 16,
        providers: Sequence[str] = ("CPUExecutionProvider",),
    ) -> None:
        import onnxruntime as ort

        if output not in OUTPUT_KINDS:
            raise InputError(f"output must be one of {OUTPUT_KINDS}, got {output!r}")
        p = Path(path)
        if not p.is_file():
            raise InputError(f"{p}: no such ONNX file")
        try:
            self.session = ort.InferenceSession(str(p), providers=list(providers))
        except Exception as exc:
            raise InputError(f"{p}: onnxruntime cannot load it ({exc})") from exc
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        own = "call the session from a function of your own, output= declared"
        if len(inputs) != 1:
            names = ", ".join(f"{i.name!r}" for i in inputs) or "none"
            raise InputError(f"{p}: the graph takes {len(inputs)} inputs ({names}); Peephole feeds one image batch ({own})")
        first = inputs[0]
        if first.type not in INPUT_TYPES:
            raise InputError(
                f"{p}: its input {first.name!r} takes {first.type}; Peephole feeds float or uint8 images (export the "
                f"graph with such an input, or {own})"
            )
        floats = [o for o in outputs if o.type in FLOAT_OUTPUTS]
        if not floats:
            kinds = ", ".join(f"{o.name!r} {o.type}" for o in outputs) or "none"
            raise InputError(f"{p}: no output is a float tensor (it has {kinds}); Peephole reads scores ({own})")
        scores = floats[0]
        if len(floats) > 1:  # (probabilities, features): the first is read, and the choice is said
            others = ", ".join(repr(o.name) for o in floats[1:])
            warnings.warn(
                f"{p}: the scores are read from its first float output {scores.name!r}; it also has {others} (to read "
                f"another, {own})",
                UserWarning,
                stacklevel=2,
            )
        self.input_name, self.input_dtype = first.name, INPUT_TYPES[first.type]
        self.output_name, self.output_shape = scores.name, scores.shape
        fixed = first.shape[0] if first.shape else None
        self.fixed_batch = fixed if isinstance(fixed, int) and fixed > 0 else None  #: None: any batch size
        self.output, self.preprocess = output, preprocess
        self.sigmoid = False  #: a multi-label model's logits each take a sigmoid (its scores are then probabilities)
        self.class_names = list(class_names) if class_names is not None else None
        self.preferred_batch_size = self.fixed_batch or batch_size

    @property
    def metadata(self) -> dict[str, str]:
        """The file's custom metadata (Peephole's own exports say their input layout and output kind)."""
        return dict(self.session.get_modelmeta().custom_metadata_map)

    def __call__(self, batch: Any) -> np.ndarray:
        x = self.preprocess(batch) if self.preprocess else np.ascontiguousarray(batch, dtype=np.float32)
        if self.input_dtype == np.uint8:
            x = np.clip(np.rint(x * 255), 0, 255)
        x = x.astype(self.input_dtype, copy=False)
        n = self.fixed_batch
        if n is None or len(x) == n:
            return self._run(x)
        outs = []
        for start in range(0, len(x), n):
            part = x[start : start + n]
            padded = np.concatenate([part, np.repeat(part[-1:], n - len(part), axis=0)]) if len(part) < n else part
            outs.append(self._run(padded)[: len(part)])
        return np.concatenate(outs)

    def _run(self, x: np.ndarray) -> np.ndarray:
        out = self.session.run([self.output_name], {self.input_name: x})[0]
        return expit(np.asarray(out, np.float64)) if self.sigmoid else out


#: Input normalisations a user ONNX file may declare: (mean, std) applied to [0, 1] RGB, none, or the Hugging Face
#: ``preprocessor_config.json`` saved beside the file ('processor').
NORMALISATIONS = ("imagenet", "tflite", "none", "processor")
LAYOUTS = ("nchw", "nhwc")
#: Ops after which a graph's output is a probability (Softmax, Sigmoid) or a log-probability (LogSoftmax:
#: softmax of it gives the probabilities back, so it is used as logits).
_OUTPUT_OF_FINAL_OP = {"Softmax": "probs", "Sigmoid": "probs", "LogSoftmax": "logits"}
_PASS_THROUGH = {"Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Cast"}


def final_activation(path: str | Path, output: str | None = None) -> str | None:
    """The op that makes the graph's output named ``output`` (default: its first), Softmax, Sigmoid, LogSoftmax, ...,
    looking through reshapes and casts; None without the ``onnx`` package or when the graph cannot be read."""
    try:
        import onnx

        graph = onnx.load(str(path), load_external_data=False).graph
    except Exception:  # onnx missing, or a file onnxruntime reads but onnx does not
        return None
    producer = {o: n for n in graph.node for o in n.output}
    node = producer.get(output or (graph.output[0].name if graph.output else ""))
    while node is not None and node.op_type in _PASS_THROUGH:
        node = producer.get(node.input[0])
    return node.op_type if node is not None else None


def onnx_image_model(
    path: str | Path,
    output: str | None = None,
    layout: str | None = None,
    normalise: str | None = None,
    class_names: Sequence[str] | None = None,
) -> OnnxModel:
    """An image classifier from an ONNX file, each setting declared or found, in this order:

    - ``output``: as declared; else the file's ``peephole.output`` metadata; else ``'probs'`` when the graph
      ends in Softmax or Sigmoid (so softmax is never applied twice); else ``'logits'``.
    - ``layout`` (``'nchw'`` | ``'nhwc'``): as declared; else the metadata; else ``'nhwc'`` when the input's
      last axis is 3 (or 1) and its second is not, else ``'nchw'``.
    - ``normalise`` (``'imagenet'`` mean/std, ``'tflite'`` (255x − 127)/128, ``'none'``): as declared; else
      the metadata; else ``'imagenet'`` for a three-channel input and ``'none'`` for a one-channel one.

    A one-channel input (an MNIST-style model, 1×28×28) is given the image's luma (ITU-R BT.601, as PIL's
    ``convert("L")``), normalised with the mean of the ImageNet or TFLite means and stds. A uint8 input gets the
    image's 0–255 values (``normalise='none'``, the only one it takes).

    An input that is not of four axes, of neither one nor three channels, or of a declared height or width below
    one or above :data:`~peephole.models.preprocess.MAX_INPUT_PIXELS` in all is one :class:`InputError` here
    (onnxruntime, or the resize to a 100,000-pixel side, would fail on the first batch).

    Peephole's own exports record all three in their metadata, so they load right with no argument; after them come
    what a Hugging Face folder around the file or an Ultralytics export's metadata implies (:func:`exporter_settings`).
    """
    from peephole.models.preprocess import IMAGENET_MEAN_STD, TFLITE_MEAN_STD, ImagePreprocess

    model = OnnxModel(Path(path), output=output or "scores")
    meta = model.metadata
    exported = exporter_settings(meta, path)
    if output is None:
        found = _OUTPUT_OF_FINAL_OP.get(final_activation(path, model.output_name) or "")
        output = meta.get("peephole.output") or exported.get("output") or found or "logits"
        model.sigmoid = "peephole.output" not in meta and bool(exported.get("sigmoid"))
    if output not in OUTPUT_KINDS:
        raise InputError(f"{path}: output must be one of {OUTPUT_KINDS}, got {output!r}")
    shape = list(model.session.get_inputs()[0].shape or [])
    dims = "×".join(str(d) for d in shape)
    if shape and len(shape) != 4:
        raise InputError(
            f"{path}: its input is {dims}, {len(shape)} axes; Peephole feeds image batches N×C×H×W or N×H×W×C (call "
            "the session from a function of your own, output= declared)"
        )
    if layout is None:
        last_channels = len(shape) == 4 and shape[3] in (1, 3) and shape[1] not in (1, 3)
        layout = meta.get("peephole.layout") or ("nhwc" if last_channels else "nchw")
    if layout not in LAYOUTS:
        raise InputError(f"{path}: layout must be one of {LAYOUTS}, got {layout!r}")
    channels = shape[1 if layout == "nchw" else 3] if shape else None
    if isinstance(channels, int) and channels not in (1, 3):
        raise InputError(
            f"{path}: its input is {dims}, {channels} channels in the {layout} layout; Peephole feeds RGB (3) or grey "
            f"(1) images (declare layout= if the channels are on the other axis)"
        )
    grey = channels == 1
    whole = model.input_dtype == np.uint8
    normalise = (
        normalise or meta.get("peephole.normalise") or exported.get("normalise") or ("none" if grey or whole else "imagenet")
    )
    if normalise not in NORMALISATIONS:
        raise InputError(f"{path}: normalise must be one of {NORMALISATIONS}, got {normalise!r}")
    if whole and normalise != "none":
        raise InputError(f"{path}: its input takes uint8, the image's 0–255 values; normalise must be 'none', got {normalise!r}")
    saved = exported.get("preprocess")
    if normalise == "processor" and saved is None:
        raise InputError(f"{path}: normalise='processor' reads the preprocessor_config.json beside the file; there is none")
    sides = shape[2:4] if layout == "nchw" else shape[1:3]
    size = tuple(sides) if len(sides) == 2 and all(isinstance(s, int) for s in sides) else exported.get("size")
    named = {"imagenet": IMAGENET_MEAN_STD, "tflite": TFLITE_MEAN_STD, "none": ((0.0,) * 3, (1.0,) * 3)}
    mean, std = (saved.mean, saved.std) if normalise == "processor" else named[normalise]
    if grey:
        mean, std = (float(np.mean(mean)),), (float(np.mean(std)),)
    model.output = output
    try:
        model.preprocess = ImagePreprocess(size=size, mean=mean, std=std, channels_first=layout == "nchw", grey=grey)
    except InputError as exc:
        raise InputError(f"{path}: its input is {dims}: {exc}") from exc
    model.settings = {"output": output, "layout": layout, "normalise": normalise}
    if class_names is not None or exported.get("class_names") is not None:
        model.class_names = list(class_names if class_names is not None else exported["class_names"])
    return model


#: The most characters of one metadata value read as a Python literal (an Ultralytics export's ``names``; ImageNet's
#: 1,000 names take about 20,000).
MAX_LITERAL = 1_000_000


def exporter_settings(meta: dict[str, str], path: str | Path) -> dict[str, Any]:
    """The settings a known exporter implies, for what is not declared. A file saved in a Hugging Face folder (Optimum's
    export, beside ``preprocessor_config.json`` and ``config.json``) takes what its processor and config say
    (:func:`~peephole.models.hf_image.saved_processor`: size, mean and std, class names, a multi-label model's sigmoid)
    — it got ImageNet's mean and std, a ViT's are 0.5. An Ultralytics (YOLO) export
    (``author: Ultralytics``) of a classifier takes RGB in [0, 1] unnormalised (its ``classify_transforms``: mean 0,
    std 1) and returns probabilities; its ``names`` are the class names and its ``imgsz`` the input size. An
    Ultralytics detector, segmenter, pose or OBB model is an :class:`InputError` saying how to explain it."""
    if meta.get("author") != "Ultralytics" or "task" not in meta:
        from peephole.models.hf_image import saved_processor

        saved = saved_processor(Path(path).parent)
        if saved is None:
            return {}
        return {**saved, "normalise": "processor", "size": saved["preprocess"].size}
    task = meta["task"]
    if task != "classify":
        raise InputError(
            f"{path}: an Ultralytics YOLO {task!r} model; Peephole reads the ONNX files of image classifiers (task "
            f"'classify'). Load it with ultralytics and pass the model: peephole.explain(YOLO({str(path)!r}), image, "
            "task='detection')"
        )
    out: dict[str, Any] = {"normalise": "none", "output": "probs"}
    names = _literal(meta, "names", path)
    if names is not None:
        values = list(names.values()) if isinstance(names, dict) else names
        by_index = not isinstance(names, dict) or list(names) == list(range(len(names)))
        if not (by_index and isinstance(values, list) and all(isinstance(v, str) for v in values)):
            raise InputError(f"{path}: its Ultralytics metadata 'names' is no list of class names by index 0, 1, ...")
        out["class_names"] = values
    imgsz = _literal(meta, "imgsz", path)
    if imgsz is not None:
        sides = [imgsz, imgsz] if isinstance(imgsz, int) else imgsz
        if not (isinstance(sides, (list, tuple)) and len(sides) == 2 and all(type(v) is int for v in sides)):
            raise InputError(f"{path}: its Ultralytics metadata 'imgsz' is {meta['imgsz'][:40]!r}, no size (an int or [h, w])")
        out["size"] = tuple(sides)
    return out


def _literal(meta: dict[str, str], key: str, path: str | Path) -> Any:
    """Metadata ``key`` read as the Python literal Ultralytics writes (``str(dict)``; never evaluated as code), or
    None when absent; an :class:`InputError` naming it when it is none."""
    import ast

    text = meta.get(key)
    if text is None:
        return None
    if len(text) > MAX_LITERAL:
        raise InputError(
            f"{path}: its metadata {key!r} holds {len(text):,} characters, more than Peephole reads ({MAX_LITERAL:,})"
        )
    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
        raise InputError(f"{path}: its metadata {key!r} is no Python literal ({type(exc).__name__})") from None
