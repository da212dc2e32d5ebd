"""Hugging Face ``transformers`` image classifiers: a model (ViT, ConvNeXt, ...), with its image processor, or an
``image-classification`` pipeline — logits (a multi-label model's as sigmoid probabilities, a regression head's as
scores: ``config.problem_type``, :mod:`peephole.models.hf_problem`), class names from ``config.id2label`` (unless
``class_names=``), no ``output=`` to declare.

The model runs where its parameters are (a :class:`~peephole.models.TorchModel`: never moved, eval mode during each
call only). Preprocessing is the image processor's, read once into an :class:`~peephole.models.ImagePreprocess`: its
size (``height``×``width``; a ``shortest_edge`` of s gives s×s — the whole image is explained, so the processor's
centre crop, which would hide the borders from the model, is not applied), its rescaling of 0..255 pixels
(``rescale_factor``, none without ``do_rescale``, EfficientNet's ``rescale_offset``) and ``image_mean`` /
``image_std`` when it normalises (twice ``image_std`` with EfficientNet's ``include_top``), folded into one mean and
std on [0, 1] pixels. Without a processor: the config's ``image_size`` and ImageNet's mean and std — pass the processor (or the
pipeline) to use the model's own.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from peephole.errors import InputError
from peephole.models.hf_problem import problem_output
from peephole.models.preprocess import IMAGENET_MEAN_STD, ImagePreprocess
from peephole.models.torch import TorchModel

#: transformers pipeline tasks (prefixes) whose inputs are images (a vision pipeline may have a tokenizer too)
IMAGE_PIPELINES = ("image", "object-detection", "zero-shot-image", "zero-shot-object", "depth-estimation", "mask-generation")


def is_hf_image_model(obj: Any) -> bool:
    """A transformers model taking ``pixel_values`` (an image classifier's forward; :func:`check_classifier` tells
    the other heads apart)."""
    return getattr(obj, "main_input_name", None) == "pixel_values" and hasattr(obj, "config") and hasattr(obj, "forward")


def check_classifier(model: Any) -> None:
    """An :class:`InputError` for a transformers vision model whose head is not a classifier (depth, masked image
    modelling, a bare backbone): its outputs are no class scores. A class of the user's own (defined
    outside transformers) is taken at its word."""
    name = type(model).__name__
    if type(model).__module__.split(".")[0] == "transformers" and "ForImageClassification" not in name:
        raise InputError(
            f"a transformers {name} is not an image classifier; Peephole explains image classifiers "
            "(...ForImageClassification), object detectors (...ForObjectDetection, with their image processor) and "
            "semantic segmentation models (...ForSemanticSegmentation)"
        )


def is_image_pipeline(obj: Any) -> bool:
    """A transformers ``image-classification`` pipeline."""
    return getattr(obj, "task", None) == "image-classification" and hasattr(obj, "model")


class HFImageClassifier(TorchModel):
    """``N×H×W×3`` [0, 1] batches -> ``(N, K)`` logits of a transformers image classifier (sigmoid probabilities
    for a multi-label one, scores for a regression head)."""

    modality = "image"

    def __init__(
        self, model: Any, processor: Any = None, class_names: Any = None, device: Any = None, batch_size: int | None = None
    ) -> None:
        check_classifier(model)
        class_names = class_names if class_names is not None else id2label_names(model.config)
        output, self.sigmoid = problem_output(model.config)
        super().__init__(model, output, preprocess_of(model.config, processor), device, class_names, batch_size)
        self.processor = processor

    @classmethod
    def from_pipeline(cls, pipe: Any, class_names: Any = None) -> HFImageClassifier:
        """The pipeline's model and image processor (the pipeline's own device: its model's parameters')."""
        return cls(pipe.model, getattr(pipe, "image_processor", None), class_names)

    def scores_of(self, out: Any) -> Any:
        """The output object's logits (sigmoid probabilities for a multi-label model)."""
        return out.logits.sigmoid() if self.sigmoid else out.logits


def id2label_names(config: Any) -> list[str] | None:
    """The class names ``config.id2label`` gives for classes 0..K-1, or None when it does not name each of them."""
    labels = {int(k): str(v) for k, v in (getattr(config, "id2label", None) or {}).items()}
    return [labels[i] for i in range(len(labels))] if labels and set(labels) == set(range(len(labels))) else None


def preprocess_of(config: Any, processor: Any = None) -> ImagePreprocess:
    """The processor's size, rescaling and normalisation (see the module's doc), else the config's size and ImageNet's;
    settings that are no numbers (a ``rescale_factor`` of ``"abc"``, a size of ``-5``) are one :class:`InputError`."""
    try:
        return _preprocess_of(config, processor)
    except InputError:  # ImagePreprocess's own: a size or normalisation out of bounds
        raise
    except (TypeError, ValueError) as exc:
        raise InputError(f"the model's image processor or config has settings Peephole cannot read: {exc}") from exc


def _preprocess_of(config: Any, processor: Any) -> ImagePreprocess:
    if processor is None:
        size = getattr(config, "image_size", None)
        hw = (size, size) if isinstance(size, int) else tuple(size) if size else None
        return ImagePreprocess(size=hw, mean=IMAGENET_MEAN_STD[0], std=IMAGENET_MEAN_STD[1])
    size = getattr(processor, "size", None)
    get = size.get if isinstance(size, dict) else (lambda k: getattr(size, k, None))
    hw = None
    if getattr(processor, "do_resize", True) and size is not None:
        if get("height") and get("width"):
            hw = (int(get("height")), int(get("width")))
        elif get("shortest_edge"):
            hw = (int(get("shortest_edge")),) * 2
    # the processor reads 0..255 pixels: x·255·rescale_factor (− 1 with EfficientNet's rescale_offset), then
    # (x − mean) / std (and / std again with EfficientNet's include_top); on Peephole's [0, 1] pixels that is
    # (x − mean') / std' with the scale folded in
    rescale = getattr(processor, "do_rescale", True)
    scale = 255.0 * float(getattr(processor, "rescale_factor", 1 / 255)) if rescale else 255.0
    offset = 1.0 if rescale and getattr(processor, "rescale_offset", False) else 0.0
    three = [(v if isinstance(v, (list, tuple)) else (v,) * 3) for v in (processor.image_mean, processor.image_std)]
    mean, std = three if getattr(processor, "do_normalize", True) else [(0.0,) * 3, (1.0,) * 3]
    if getattr(processor, "include_top", False):
        std = tuple(float(a) * float(b) for a, b in zip(std, three[1]))
    if abs(scale - 1.0) < 1e-9 and not offset:
        return ImagePreprocess(size=hw, mean=tuple(map(float, mean)), std=tuple(map(float, std)))
    return ImagePreprocess(
        size=hw, mean=tuple((float(m) + offset) / scale for m in mean), std=tuple(float(s) / scale for s in std)
    )


#: The most bytes of a ``config.json`` or ``preprocessor_config.json`` read beside an ONNX file (an ImageNet config,
#: its 1,000 names included, is about 70 KB)
MAX_CONFIG_BYTES = 16 * 2**20


def saved_processor(folder: str | Path) -> dict[str, Any] | None:
    """What the Hugging Face files in ``folder`` say of an ONNX model saved beside them (Optimum's export: ``model.onnx``
    with ``config.json`` and ``preprocessor_config.json``): its ``preprocess`` (size, mean and std as
    :func:`preprocess_of` reads a processor), ``class_names`` (``config.id2label``), ``output`` and ``sigmoid``
    (``config.problem_type``); None without a ``preprocessor_config.json``. Both are read as JSON (no code runs,
    transformers is not needed); a file that is no JSON object, or settings Peephole cannot read, is one
    :class:`InputError` naming it."""
    where = Path(folder) / "preprocessor_config.json"
    if not where.is_file():
        return None
    settings = _json(where)
    config = SimpleNamespace(**(_json(Path(folder) / "config.json") if (Path(folder) / "config.json").is_file() else {}))
    if isinstance(settings.get("size"), int):  # written by older processors as one side
        settings["size"] = {"height": settings["size"], "width": settings["size"]}
    try:
        preprocess = preprocess_of(config, SimpleNamespace(**settings))
        names = id2label_names(config)
    except (AttributeError, TypeError, ValueError, InputError) as exc:
        raise InputError(f"{where} (with its config.json): settings Peephole cannot read ({exc})") from exc
    output, sigmoid = problem_output(config)
    return {"preprocess": preprocess, "class_names": names, "output": output, "sigmoid": sigmoid}


def _json(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``; an :class:`InputError` naming it when it is too large, unreadable or no object."""
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise InputError(f"{path}: above {MAX_CONFIG_BYTES:,} bytes, more than a model's settings hold")
        data = json.loads(path.read_bytes())
    except InputError:
        raise
    except (OSError, ValueError, RecursionError) as exc:
        raise InputError(f"{path}: not a readable JSON file ({type(exc).__name__})") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: holds a JSON {type(data).__name__}, not the object of settings it should")
    return data
