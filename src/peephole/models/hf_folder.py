"""Hugging Face vision model folders (``save_pretrained``): an image classifier, object detector or semantic
segmentation model, with the image processor saved beside it, loaded offline (``local_files_only``) by
:func:`peephole.load_model` and ``peephole explain --model FOLDER``; a text-prompted model (an image–text model such
as CLIP, a detector such as OWL-ViT) with its processor and the queries it is to tell apart or find (``queries=``,
``--query``). Folders of text classifiers are :mod:`peephole.models.text`'s."""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from peephole.errors import InputError
from peephole.models.hf_segmentation import SEGMENTATION_HEADS

#: the heads (class-name suffixes in ``config.json``'s ``architectures``) a vision folder may hold
VISION_HEADS = (
    "ForImageClassification", "ForImageClassificationWithTeacher", "ForObjectDetection", *SEGMENTATION_HEADS, "ForSegmentation"
)  # fmt: skip
#: the head of an image–text model a zero-shot classifier reads (CLIP, SigLIP, ...: transformers' own list)
ZERO_SHOT = "ZeroShotImageClassification"


def architectures(path: str | Path) -> list[str]:
    """The model classes a folder's ``config.json`` names (its ``architectures``); none without one."""
    try:
        config = json.loads((Path(path) / "config.json").read_text())
    except (OSError, ValueError):
        return []
    names = config.get("architectures") if isinstance(config, dict) else None
    names = [names] if isinstance(names, str) else names  # one name written without its list
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def vision_head(path: str | Path) -> str | None:
    """The vision head a model folder's ``config.json`` names (one of :data:`VISION_HEADS`, or :data:`ZERO_SHOT`),
    else None."""
    names = architectures(path)
    for name in names:
        for head in VISION_HEADS:
            if name.endswith(head):
                return head
    return ZERO_SHOT if set(names) & set(zero_shot_architectures()) else None


def zero_shot_architectures() -> tuple[str, ...]:
    """The image–text models transformers classifies zero-shot with (none without transformers)."""
    try:
        from transformers.models.auto.modeling_auto import MODEL_FOR_ZERO_SHOT_IMAGE_CLASSIFICATION_MAPPING_NAMES as names
    except ImportError:
        return ()
    return tuple(names.values())


def pretrained(auto: Any, path: str | Path) -> Any:
    """``auto.from_pretrained(path)``, offline, refusing a folder that lacks weights of the model it builds: transformers
    would start them at random (a checkpoint of another head, e.g. a masked language model read as a classifier) and
    every map would explain a random head."""
    model, info = auto.from_pretrained(path, local_files_only=True, trust_remote_code=False, output_loading_info=True)
    missing = sorted(info.get("missing_keys") or ())  # weights of another shape: transformers raises itself
    if missing:
        raise InputError(
            f"{path} holds no weights for {len(missing)} parameters of a "
            f"{type(model).__name__} ({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}): transformers would "
            "start them at random; it holds another head (see its config.json's architectures)"
        )
    return model


def load_vision_folder(path: str | Path, queries: Sequence[str] | None = None, template: str | None = None) -> Any:
    """The classifier (:class:`~peephole.models.hf_image.HFImageClassifier`), detector
    (:func:`~peephole.models.hf_detection.hf_detector`) or segmentation model
    (:class:`~peephole.models.hf_segmentation.HFSegmenter`) saved in ``path``, with its image processor when one is saved;
    a text-prompted one — an image–text model (:class:`~peephole.models.hf_zero_shot.HFZeroShotClassifier`) or a
    detector such as OWL-ViT — with its processor, telling apart or finding ``queries`` (an image–text model's each
    written into ``template``; a detector's are its prompts as they are)."""
    try:
        import transformers
    except ImportError as exc:
        raise InputError(f"{path} holds a Hugging Face model: pip install transformers") from exc
    from peephole.models.hf_grounded import TEXT_LAYOUTS

    head = vision_head(path)
    try:
        kind = getattr(
            transformers.AutoConfig.from_pretrained(path, local_files_only=True, trust_remote_code=False), "model_type", None
        )
    except Exception as exc:  # not JSON (OSError), an unknown model type (ValueError), an id2label list (AttributeError)
        raise InputError(f"cannot load a vision model from {path}: {type(exc).__name__}: {exc}") from exc
    prompted = head == ZERO_SHOT or (head == "ForObjectDetection" and kind in TEXT_LAYOUTS)
    if prompted and queries is None:
        what = "tell apart" if head == ZERO_SHOT else "find"
        raise InputError(
            f"{path} holds a text-prompted model ({kind}): say what to {what}, load_model(path, queries=['a cat', ...]) "
            "or --query 'a cat' on the command line"
        )
    if queries is not None and not prompted:
        raise InputError(
            f"queries are for a text-prompted model (CLIP, SigLIP, OWL-ViT, OWLv2, Grounding DINO); {path} holds a {kind}"
        )
    if template is not None and head != ZERO_SHOT:
        raise InputError(f"a template is for an image–text classifier's queries (CLIP, SigLIP); {path} holds a {kind}")
    auto = {
        ZERO_SHOT: transformers.AutoModelForZeroShotImageClassification,
        "ForObjectDetection": transformers.AutoModelForZeroShotObjectDetection
        if prompted
        else transformers.AutoModelForObjectDetection,
        "ForSemanticSegmentation": transformers.AutoModelForSemanticSegmentation,
        "ForUniversalSegmentation": transformers.AutoModelForUniversalSegmentation,
        "ForInstanceSegmentation": transformers.AutoModelForInstanceSegmentation,
    }.get(head, transformers.AutoModelForImageClassification)
    if head == "ForSegmentation":  # a DETR with its mask head: no auto class maps them all (Conditional DETR's)
        from peephole.models.hf_detection import SEGMENTING_DETRS

        held = architectures(path)
        found = [n for n in held if n in SEGMENTING_DETRS and hasattr(transformers, n)]
        if not found:
            what = ", ".join(held)
            raise InputError(f"{path} holds a {what}: not one of the segmenting DETRs Peephole reads, {SEGMENTING_DETRS}")
        auto = getattr(transformers, found[0])
    try:
        model = pretrained(auto, path)
        if prompted or "task_inputs" in inspect.signature(model.forward).parameters:  # OneFormer tokenises its task
            processor = transformers.AutoProcessor.from_pretrained(path, local_files_only=True, trust_remote_code=False)
        elif (Path(path) / "preprocessor_config.json").is_file():
            processor = transformers.AutoImageProcessor.from_pretrained(path, local_files_only=True, trust_remote_code=False)
        else:
            processor = None
    except InputError:  # pretrained's own, naming the folder already
        raise
    except Exception as exc:  # weights of another shape (RuntimeError), a processor that fetches files (no network)
        exports = sorted(p.name for p in Path(path).glob("*.onnx"))
        if exports and isinstance(exc, OSError):  # Optimum's export: the ONNX file instead of the weights
            raise InputError(
                f"{path} holds no PyTorch weights but an ONNX export ({', '.join(exports)}): give that file as the model "
                f"({Path(path) / exports[0]}); its processor and class names are read from this folder"
            ) from exc
        raise InputError(f"cannot load a vision model from {path}: {type(exc).__name__}: {exc}") from exc
    if head == ZERO_SHOT:
        from peephole.models.hf_zero_shot import HFZeroShotClassifier

        return HFZeroShotClassifier(model, processor, queries, **({} if template is None else {"template": template}))
    if head in ("ForObjectDetection", "ForSegmentation"):
        from peephole.models.hf_detection import hf_detector

        return hf_detector(model, processor, queries=queries)
    if head in SEGMENTATION_HEADS:
        from peephole.models.hf_segmentation import HFSegmenter

        return HFSegmenter(model, processor)
    from peephole.models.hf_image import HFImageClassifier

    return HFImageClassifier(model, processor)
