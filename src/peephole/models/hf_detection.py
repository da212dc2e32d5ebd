"""Hugging Face ``transformers`` object detectors (DETR, YOLOS, Conditional / Deformable DETR, RT-DETR, ...): a model
with its image processor, or an ``object-detection`` pipeline, as a :class:`~peephole.models.detection.Detector`.

Each family scores its queries its own way (a softmax with a no-object class, or sigmoids over the classes), so the
processor's own ``post_process_object_detection`` reads the outputs, at threshold 0: every query is a detection of a
perturbed image, to match the reference boxes against (D-RISE's proposals). The reference boxes are those scoring at
least ``threshold`` on the unperturbed image (0.5, the pipeline's default: the adapter's ``reference_threshold``, which
a task's own threshold overrides). Inputs get the processor's size and normalisation
(:func:`peephole.models.hf_image.preprocess_of`: the whole image, resized); boxes come back in the explained image's
pixels. Text-prompted detectors (OWL-ViT, OWLv2, Grounding DINO) take ``queries``: :mod:`peephole.models.hf_grounded`;
mask-classification models (Mask2Former, MaskFormer, EoMT, OneFormer) and DETR with its mask head
(``DetrForSegmentation``, ``ConditionalDetrForSegmentation``) are instance and panoptic segmenters: :func:`instance_detector`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from peephole.errors import InputError
from peephole.models.detection import Detector, grid_shape
from peephole.models.hf_grounded import THRESHOLD, grounded_detector, is_grounded
from peephole.models.hf_image import id2label_names, preprocess_of
from peephole.models.hf_segmentation import image_processor, is_mask_classifier, reads_pixels, task_text, with_inputs

#: heads of the DETR family that segment as well as box (a mask head on the decoder's queries: DetrForSegmentation,
#: ConditionalDetrForSegmentation); their processors find instance and panoptic segments as a mask classifier's do
SEGMENTING_DETRS = ("DetrForSegmentation", "ConditionalDetrForSegmentation")


def finds_segments(obj: Any) -> bool:
    """A transformers model whose processor finds instance and panoptic segments: a mask classifier (Mask2Former,
    MaskFormer, EoMT, OneFormer) or a segmenting DETR (:data:`SEGMENTING_DETRS`)."""
    return is_mask_classifier(obj) or (reads_pixels(obj) and type(obj).__name__.endswith(SEGMENTING_DETRS))


def is_hf_detector(obj: Any) -> bool:
    """A transformers object-detection model (its class is ``...ForObjectDetection``, its input ``pixel_values``, or
    text and pixels: :mod:`peephole.models.hf_grounded`)."""
    return "ForObjectDetection" in type(obj).__name__ and (
        getattr(obj, "main_input_name", None) == "pixel_values" or is_grounded(obj)
    )


def is_detection_pipeline(obj: Any) -> bool:
    """A transformers ``object-detection`` or ``zero-shot-object-detection`` pipeline."""
    return getattr(obj, "task", None) in ("object-detection", "zero-shot-object-detection") and hasattr(obj, "model")


def hf_detector(
    obj: Any,
    processor: Any = None,
    class_names: Sequence[str] | None = None,
    threshold: float | None = None,
    queries: Sequence[str] | None = None,
    segments: str = "instance",
) -> Detector:
    """``obj`` (a transformers detection or mask-classification model with ``processor``, or a detection pipeline) as a
    :class:`Detector` whose reference boxes score at least ``threshold`` (unless the task sets its own; None: 0.5, and
    0.1 for a text-prompted detector, which finds what ``queries`` name: :mod:`peephole.models.hf_grounded`); a
    mask-classification model's ``segments``: ``"instance"`` or ``"panoptic"`` (:func:`instance_detector`)."""
    model = obj.model if is_detection_pipeline(obj) else obj
    if is_grounded(model):
        if class_names is not None:
            raise InputError(f"a {type(model).__name__}'s classes are its queries: give queries=, not class_names=")
        return grounded_detector(
            model, processor if processor is not None else obj, queries, THRESHOLD if threshold is None else threshold
        )
    if queries is not None:
        raise InputError(f"queries= is for text-prompted detectors (OWL-ViT, Grounding DINO); {type(model).__name__} takes none")
    threshold = 0.5 if threshold is None else threshold
    processor = processor if processor is not None else getattr(obj, "image_processor", None)
    if finds_segments(model):  # Mask2Former, OneFormer, DETR's mask head, ...: segment by segment, each by its mask
        return instance_detector(model, processor, class_names, threshold, segments)
    if not hasattr(processor, "post_process_object_detection"):
        raise InputError(
            f"a transformers {type(model).__name__} needs its image processor (each detector family reads its outputs "
            "its own way): pass peephole.models.hf_detection.hf_detector(model, processor), or an object-detection pipeline"
        )
    return processed(model, processor, "post_process_object_detection", boxes_of, class_names, threshold)


def instance_detector(
    model: Any, processor: Any, class_names: Any = None, threshold: float = 0.5, segments: str = "instance"
) -> Detector:
    """A mask-classification ``model`` (Mask2Former, MaskFormer, EoMT, OneFormer) or a segmenting DETR as an
    instance-segmentation :class:`Detector`: per image, every segment its ``processor``'s
    ``post_process_instance_segmentation`` (or, with ``segments="panoptic"``, ``post_process_panoptic_segmentation``:
    things and stuff, none fused) finds at threshold 0, with its mask, label and score, its box the mask's bounds;
    reference segments score at least ``threshold`` (0.5, the post-processing's default). OneFormer reads the task
    ("the task is instance") and, as its processor resizes with torchvision, its segments are read at its masks'
    size."""
    if segments not in ("instance", "panoptic"):
        raise InputError(f"segments must be 'instance' or 'panoptic', got {segments!r}")
    name = f"post_process_{segments}_segmentation"
    post = getattr(image_processor(processor), name, None)
    if post is None:
        raise InputError(
            f"a {type(model).__name__} is explained segment by segment with its image processor (it finds the "
            "segments): pass peephole.models.hf_detection.hf_detector(model, processor)"
        )
    inputs = task_text(model, processor, segments)
    own = inspect.signature(post).parameters  # binary maps where it gives them, else a map of segment ids
    options = {k: v for k, v in (("return_binary_maps", True), ("task_type", segments), ("label_ids_to_fuse", set())) if k in own}
    at = None if inputs else grid_shape  # OneFormer's at its masks' size
    return processed(model, processor, name, instances, class_names, threshold, inputs, at, **options)


def processed(
    model: Any,
    processor: Any,
    post: str,
    read: Any,
    class_names: Any,
    threshold: float,
    inputs: dict[str, Any] | None = None,
    at: Callable[[tuple[int, ...]], tuple[int, ...]] | None = tuple,
    **options: Any,
) -> Detector:
    """``model`` on the ``processor``'s size and normalisation (and ``inputs`` beside the pixels: OneFormer's task
    text), its outputs read by the image processor's ``post`` method at threshold 0 (and ``options``) at the target
    size ``at((H, W))`` of each image (unset: the image's; segments: their mask grid,
    :func:`~peephole.models.detection.grid_shape`, so that a 640×640 image's 100 queries are not resampled to 160 MB of
    masks to be sampled down to 128×128; None: the post-processing's own), each image's result made detections by
    ``read(result, (H, W))``; class names from ``config.id2label`` unless given."""
    import torch

    from peephole.models.torch import evaluating, module_device, module_dtype

    names = class_names if class_names is not None else id2label_names(model.config)
    images = image_processor(processor)
    pre, device, read_out = preprocess_of(model.config, images), module_device(model), getattr(images, post)
    net = with_inputs(model, inputs or {})

    def detect(batch: np.ndarray) -> list[dict[str, Any]]:
        b = np.asarray(batch, np.float32)
        with torch.inference_mode(), evaluating(model):
            out = net(pixel_values=torch.from_numpy(pre(b)).to(device, module_dtype(model)))
        sizes = {} if at is None else {"target_sizes": [at(b.shape[1:3])] * len(b)}
        found = read_out(out, threshold=0.0, **sizes, **options)
        return [read(r, b.shape[1:3]) for r in found]

    return Detector(detect, names, name=type(model).__name__, reference_threshold=threshold)


def boxes_of(found: dict[str, Any], size: tuple[int, ...]) -> dict[str, Any]:
    """One image's post-processed detections: its boxes, scores and labels."""
    return {k: found[k] for k in ("boxes", "scores", "labels")}


def instances(found: dict[str, Any], size: tuple[int, ...]) -> dict[str, np.ndarray]:
    """One image's post-processed instances as detections: ``masks`` (N×h×w: binary maps, or a map of segment ids as
    OneFormer's processor gives them; at the image's size H×W or the model's own), ``labels``, ``scores`` and each
    mask's bounding box in the image's pixels (pixel edges: a mask on columns 4..15 of an image's size has x0 = 4,
    x1 = 16)."""
    info = found["segments_info"]
    seg = None if found["segmentation"] is None or not info else found["segmentation"].cpu().numpy()
    if seg is None:
        masks = np.zeros((0, *size), bool)
    elif seg.ndim == 2:  # segment ids
        masks = seg[None] == np.array([s["id"] for s in info])[:, None, None]
    else:
        masks = seg.reshape(len(info), *seg.shape[-2:]) > 0
    scale = np.array([size[1] / masks.shape[2], size[0] / masks.shape[1]] * 2)  # mask pixels -> image pixels
    boxes = np.zeros((len(masks), 4))
    for box, m in zip(boxes, masks):
        rows, cols = np.flatnonzero(m.any(1)), np.flatnonzero(m.any(0))
        box[:] = np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1]) * scale if len(rows) else 0
    return {
        "boxes": boxes,
        "scores": np.array([s["score"] for s in info], np.float64),
        "labels": np.array([s["label_id"] for s in info], np.int64),
        "masks": masks,
    }
