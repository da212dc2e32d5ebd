"""Models by name: the built-in real model, or an ONNX file."""

from __future__ import annotations

from pathlib import Path

from peephole.errors import InputError
from peephole.models.base import Model

BUILTIN = ("efficientnet-lite0",)


def modality_of_name(name: str) -> str | None:
    """The input kind of a model given by name or path: image for the built-in and ONNX models, text for
    the built-in text models and Hugging Face folders, None when the name says nothing."""
    from peephole.models.text import BUILTIN as TEXT_BUILTIN

    if name in BUILTIN or name.endswith(".onnx"):
        return "image"
    if name in TEXT_BUILTIN or Path(name).is_dir():
        return "text"
    return None


def load_model(name: str = "efficientnet-lite0", backend: str = "onnx") -> Model:
    """``'efficientnet-lite0'`` (backend ``'onnx'`` or ``'torch'``), or a path to an ``.onnx`` classifier.

    A user ONNX file is taken to map N×3×H×W ImageNet-normalised input to logits; for anything else
    build :class:`~peephole.models.OnnxModel` yourself.
    """
    if name == "efficientnet-lite0":
        from peephole.models.efficientnet import efficientnet_lite0

        return efficientnet_lite0(backend)
    if name.endswith(".onnx"):
        from peephole.models.imagenet import imagenet_class_names
        from peephole.models.onnx import OnnxModel
        from peephole.models.preprocess import IMAGENET_MEAN_STD, ImagePreprocess

        model = OnnxModel(Path(name), output="logits")
        shape = model.session.get_inputs()[0].shape
        size = tuple(shape[2:4]) if len(shape) == 4 and all(isinstance(s, int) for s in shape[2:4]) else None
        model.preprocess = ImagePreprocess(size=size, mean=IMAGENET_MEAN_STD[0], std=IMAGENET_MEAN_STD[1])
        n_out = model.session.get_outputs()[0].shape[-1]
        if n_out == 1000:
            model.class_names = list(imagenet_class_names())
        return model
    raise InputError(f"unknown model {name!r}: use one of {BUILTIN} or a path to an .onnx file")
