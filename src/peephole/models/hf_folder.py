"""Hugging Face vision model folders (``save_pretrained``): an image classifier or an object detector, with the
image processor saved beside it, loaded offline (``local_files_only``) by :func:`peephole.load_model` and
``peephole explain --model FOLDER`` (a text-prompted detector's with its processor and the queries to find:
``--query``). Folders of text classifiers are :mod:`peephole.models.text`'s."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from peephole.errors import InputError

#: the heads (class-name suffixes in ``config.json``'s ``architectures``) a vision folder may hold
VISION_HEADS = ("ForImageClassification", "ForImageClassificationWithTeacher", "ForObjectDetection")


def vision_head(path: str | Path) -> str | None:
    """The vision head a model folder's ``config.json`` names (one of :data:`VISION_HEADS`), else None."""
    try:
        config = json.loads((Path(path) / "config.json").read_text())
    except (OSError, ValueError):
        return None
    names = config.get("architectures") if isinstance(config, dict) else None
    for name in names if isinstance(names, list) else []:
        for head in VISION_HEADS:
            if isinstance(name, str) and name.endswith(head):
                return head
    return None


def load_vision_folder(path: str | Path, queries: Sequence[str] | None = None) -> Any:
    """The classifier (:class:`~peephole.models.hf_image.HFImageClassifier`) or detector
    (:func:`~peephole.models.hf_detection.hf_detector`) saved in ``path``, with its image processor when one is saved;
    a text-prompted detector (OWL-ViT, OWLv2, Grounding DINO) with its processor, finding ``queries``."""
    try:
        import transformers
    except ImportError as exc:
        raise InputError(f"{path} holds a Hugging Face model: pip install transformers") from exc
    from peephole.models.hf_grounded import TEXT_LAYOUTS

    head = vision_head(path)
    try:
        kind = getattr(transformers.AutoConfig.from_pretrained(path, local_files_only=True), "model_type", None)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot load a vision model from {path}: {exc}") from exc
    grounded = head == "ForObjectDetection" and kind in TEXT_LAYOUTS
    if grounded and queries is None:
        raise InputError(
            f"{path} holds a text-prompted detector ({kind}): say what to find, load_model(path, queries=['a cat', ...]) "
            "or --query 'a cat' on the command line"
        )
    if queries is not None and not grounded:
        raise InputError(f"queries are for a text-prompted detector (OWL-ViT, OWLv2, Grounding DINO); {path} holds a {kind}")
    auto = (
        transformers.AutoModelForZeroShotObjectDetection
        if grounded
        else transformers.AutoModelForObjectDetection
        if head == "ForObjectDetection"
        else transformers.AutoModelForImageClassification
    )
    try:
        model = auto.from_pretrained(path, local_files_only=True)
        if grounded:
            processor = transformers.AutoProcessor.from_pretrained(path, local_files_only=True)
        elif (Path(path) / "preprocessor_config.json").is_file():
            processor = transformers.AutoImageProcessor.from_pretrained(path, local_files_only=True)
        else:
            processor = None
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot load a vision model from {path}: {exc}") from exc
    if head == "ForObjectDetection":
        from peephole.models.hf_detection import hf_detector

        return hf_detector(model, processor, queries=queries)
    from peephole.models.hf_image import HFImageClassifier

    return HFImageClassifier(model, processor)
