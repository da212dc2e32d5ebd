"""Models by name: the built-in real models (a classifier, detectors), or an ONNX file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from peephole.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from peephole.models.base import Model

BUILTIN = ("efficientnet-lite0",)
#: Built-in detectors (:mod:`peephole.models.haar`, :mod:`peephole.models.dbnet`; they declare task 'detection').
DETECTORS = ("haar-face", "haar-cat", "haar-body", "dbnet-text")


#: Model files of other frameworks, by suffix: named in the error that says how to give such a model
OTHER_FORMATS = {
    ".pt": "torch",
    ".pth": "torch",
    ".pt2": "torch.export",
    ".ckpt": "checkpoint",
    ".safetensors": "safetensors weight",
    ".bin": "weight",
    ".h5": "Keras",
    ".keras": "Keras",
    ".tflite": "TensorFlow Lite",
    ".pb": "TensorFlow",
    ".pkl": "pickle",
    ".joblib": "joblib",
}


def modality_of_name(name: str) -> str | None:
    """The input kind of a model given by name or path: image for the built-in and ONNX models, text for
    the built-in text models and Hugging Face folders (image for a vision model's), None when the name says nothing."""
    from peephole.models.hf_folder import vision_head
    from peephole.models.text import BUILTIN as TEXT_BUILTIN

    if name in BUILTIN or name in DETECTORS or name.endswith(".onnx") or vision_head(name):
        return "image"
    if name in TEXT_BUILTIN or Path(name).is_dir():
        return "text"
    return None


def load_model(
    name: str = "efficientnet-lite0",
    backend: str = "onnx",
    *,
    output: str | None = None,
    layout: str | None = None,
    normalise: str | None = None,
    side: int | None = None,
    queries: Sequence[str] | None = None,
    template: str | None = None,
) -> Model:
    """``'efficientnet-lite0'`` (backend ``'onnx'`` or ``'torch'``), a built-in detector (:data:`DETECTORS`:
    OpenCV Haar cascades for faces, cat faces, bodies, run on the image shrunk to 320 pixels; the PP-OCRv4 DBNet
    text detector, run on the image resized to 640 pixels), a path to an ``.onnx`` image classifier, or the folder of a
    Hugging Face image classifier or object detector (:mod:`peephole.models.hf_folder`; ``queries``: what a
    text-prompted model's folder is to tell apart, CLIP or SigLIP, or to find, OWL-ViT, OWLv2 or Grounding DINO;
    ``template``: the prompt each of a CLIP's or SigLIP's queries is written into, e.g. ``"a photo of a {}."``).

    ``side`` (detectors only): the longer side, in pixels, the detector works at instead (Haar cascades shrink
    larger images to it and leave smaller ones as they are; DBNet resizes to it). Larger finds smaller faces and
    text and costs more per query; boxes are always in the input image's pixels.

    For an ONNX file, ``output`` (``'probs'`` | ``'logits'`` | ``'scores'``), ``layout`` (``'nchw'`` |
    ``'nhwc'``) and ``normalise`` (``'imagenet'`` | ``'tflite'`` | ``'none'``) may be declared; what is not
    declared is read from the file (its metadata, a final Softmax, its input shape) or defaults to logits,
    NCHW by shape, ImageNet mean/std — see :func:`peephole.models.onnx.onnx_image_model`. The chosen
    settings are on ``model.settings``.
    """
    from peephole.models.hf_folder import load_vision_folder, vision_head

    if queries is not None and not (isinstance(name, str) and vision_head(name)):
        raise InputError(f"queries= is for the folder of a text-prompted model (CLIP, OWL-ViT, ...); {name!r} is none")
    if template is not None and queries is None:
        raise InputError("template= is the prompt each query goes into: give queries= with it")
    if side is not None and name not in DETECTORS:
        raise InputError(f"side= sets a built-in detector's working size; {name!r} is not one of {DETECTORS}")
    if side is not None and not (isinstance(side, int) and side >= 32):
        raise InputError(f"side must be a whole number of pixels >= 32, got {side!r}")
    if name == "efficientnet-lite0":
        if output or layout or normalise:
            raise InputError("efficientnet-lite0 has fixed settings; output=, layout= and normalise= are for .onnx files")
        from peephole.models.efficientnet import efficientnet_lite0

        return efficientnet_lite0(backend)
    if name in DETECTORS:
        if output or layout or normalise:
            raise InputError(f"{name} has fixed settings; output=, layout= and normalise= are for .onnx files")
        if name == "dbnet-text":
            from peephole.models.dbnet import dbnet_detector

            return dbnet_detector(side=side or 640)
        from peephole.models.haar import haar_detector

        return haar_detector(name.removeprefix("haar-"), max_side=side or 320)
    if name.endswith(".onnx"):
        from peephole.models.imagenet import imagenet_class_names
        from peephole.models.onnx import onnx_image_model

        model = onnx_image_model(Path(name), output, layout, normalise)
        if model.class_names is None and (model.output_shape or [None])[-1] == 1000:
            model.class_names = list(imagenet_class_names())
        return model
    if vision_head(name):
        return load_vision_folder(name, queries, template)
    if "://" in name:
        raise InputError(f"{name}: URLs are not fetched; download the model and pass its path")
    suffix = Path(name).suffix.lower()
    if suffix in OTHER_FORMATS:
        raise InputError(
            f"{name}: Peephole does not load {OTHER_FORMATS[suffix]} files by name (a pickle runs code as it loads; "
            "weights need their architecture): build the model in Python and pass it (peephole.explain(model, ...), "
            "or --model package.module:factory, a function of no arguments returning it), or export it to ONNX"
        )
    raise InputError(
        f"unknown model {name!r}: use one of {BUILTIN + DETECTORS}, a path to an .onnx file or the folder of a Hugging "
        "Face image classifier or detector"
    )
