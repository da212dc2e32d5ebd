"""Input kinds as plug-ins. Each modality is a folder beside this file; this registry names them."""

from __future__ import annotations

from typing import Any

from peephole.errors import InputError
from peephole.modalities.base import Modality

#: Modality classes by name, as ``'module:Class'`` (imported on first use).
MODALITIES = {
    "image": "peephole.modalities.image.modality:ImageModality",
    "text": "peephole.modalities.text.modality:TextModality",
    "sequence": "peephole.modalities.sequence.modality:SequenceModality",
}
_LOADED: dict[str, Modality] = {}


def get_modality(name: str | Modality) -> Modality:
    """The modality called ``name`` (or ``name`` itself when it is a :class:`Modality`)."""
    if isinstance(name, Modality):
        return name
    if name not in MODALITIES:
        raise InputError(f"unknown modality {name!r}; available: {sorted(MODALITIES)}")
    if name not in _LOADED:
        import importlib

        module, _, cls = MODALITIES[name].partition(":")
        _LOADED[name] = getattr(importlib.import_module(module), cls)()
    return _LOADED[name]


def declared_modality(model: Any) -> str | None:
    """The input kind a model declares: its ``modality`` attribute, or what a built-in model name is."""
    from peephole.models.hf_image import IMAGE_PIPELINES
    from peephole.models.registry import modality_of_name

    if isinstance(model, str) or hasattr(model, "__fspath__"):
        return modality_of_name(str(model))
    if hasattr(model, "task") and hasattr(model, "model") and isinstance(model.task, str):  # a transformers pipeline
        if model.task.startswith(IMAGE_PIPELINES):
            return "image"
        return "text" if getattr(model, "tokenizer", None) is not None else None
    declared = getattr(model, "modality", None)
    return declared if isinstance(declared, str) else None


__all__ = ["MODALITIES", "Modality", "declared_modality", "get_modality"]
