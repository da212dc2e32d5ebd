"""Detector adapters: any detector as ``model(batch) -> per image a dict of boxes, scores, labels`` (torchvision's
convention, read by :class:`peephole.tasks.Detection`; instance-segmentation models add ``masks``).

:func:`as_detector` takes a callable on a B×H×W×3 float batch in [0, 1] returning per image a dict (``boxes`` N×4
xyxy pixels, ``scores`` N, ``labels`` N or ``probs`` N×K), a torchvision-style detection module (a torch module
taking a list of 3×H×W tensors in [0, 1] and returning such dicts; in eval mode) or an ``ultralytics`` YOLO model
(its ``Results`` are read by duck typing: ``ultralytics`` is not a dependency). The built-in detectors are OpenCV's
Haar cascades (:mod:`peephole.models.haar`) and the PP-OCRv4 DBNet text detector (:mod:`peephole.models.dbnet`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from peephole.errors import InputError

#: instance masks are read on a grid of at most this many samples a side (nearest samples: a 1333×800 mask at 128×128,
#: a 48×40 one as it is)
MASK_GRID = 128


def grid_shape(size: Any) -> tuple[int, ...]:
    """The mask grid's shape for masks of ``size`` (H, W): at most :data:`MASK_GRID` samples a side."""
    return tuple(min(int(m), MASK_GRID) for m in size)


class Detector:
    """``detector(batch)`` -> a list of dicts (``boxes``, ``scores``, ``labels`` or ``probs``), one per image, keeping
    the detections scoring at least ``threshold`` (None: every one). Declares ``task = 'detection'``;
    ``reference_threshold``: the score a reference box needs when the task sets none (every detection still matches
    them: a transformers detector's queries, :mod:`peephole.models.hf_detection`)."""

    task = "detection"
    output = "detections"
    modality = "image"

    def __init__(
        self,
        fn: Callable[[np.ndarray], Any],
        class_names: Sequence[str] | None = None,
        threshold: float | None = None,
        batch_size: int | None = None,
        name: str | None = None,
        reference_threshold: float | None = None,
    ) -> None:
        if not callable(fn):
            raise InputError(f"a detector must be callable, got {type(fn).__name__}")
        self.fn = fn
        self.class_names = list(class_names) if class_names is not None else None
        self.threshold = threshold
        self.preferred_batch_size = batch_size
        self.name = name or getattr(fn, "__name__", type(fn).__name__)
        self.reference_threshold = reference_threshold

    def __call__(self, batch: np.ndarray) -> list[dict[str, np.ndarray]]:
        raw = self.fn(batch)
        if isinstance(raw, dict):
            raw = [raw]
        if not isinstance(raw, (list, tuple)):
            return raw  # the task names what is wrong with it
        out = [as_dict(r, np.shape(batch)[1:3]) for r in raw]
        if self.threshold is None:
            return out
        return [{k: _select(v, _keep(d, self.threshold)) for k, v in d.items()} if isinstance(d, dict) else d for d in out]

    def __repr__(self) -> str:
        return f"Detector({self.name!r}, threshold={self.threshold!r})"


def _select(v: Any, keep: np.ndarray) -> Any:
    """The rows of ``v`` that ``keep`` selects (an entry of another length is left for the task to report)."""
    return v[keep] if v is not None and v.ndim and len(v) == len(keep) else v


def _keep(d: dict[str, Any], threshold: float) -> np.ndarray:
    return np.asarray(d.get("scores", []), np.float64).reshape(-1) >= threshold


def as_dict(item: Any, size: tuple[int, ...] = ()) -> Any:
    """One image's detections as a dict of NumPy arrays: a dict as it is (tensors converted), an ``ultralytics``
    ``Results`` (``.boxes.xyxy``, ``.boxes.conf``, ``.boxes.cls``; a segmentation model's ``.masks.xy`` outlines
    filled on the image's ``size``, H, W) read by duck typing; anything else unchanged."""
    from peephole.core.query import to_numpy

    if isinstance(item, dict):
        return {k: v if v is None else on_grid(v) if k == "masks" else np.asarray(to_numpy(v)) for k, v in item.items()}
    boxes = getattr(item, "boxes", None)
    if boxes is not None and all(hasattr(boxes, a) for a in ("xyxy", "conf", "cls")):
        out = {"boxes": to_numpy(boxes.xyxy), "scores": to_numpy(boxes.conf), "labels": to_numpy(boxes.cls).astype(np.int64)}
        masks = getattr(item, "masks", None)
        if masks is not None and getattr(masks, "xy", None) is not None:  # YOLO-seg: outlines in the image's pixels
            out["masks"] = filled(masks.xy, size)
        return out
    return item


def on_grid(masks: Any) -> Any:
    """Instance masks (N×H×W, or torchvision's N×1×H×W; an array or a tensor) sampled on the :data:`MASK_GRID` grid,
    as a NumPy array: only the samples are read or leave the device (a Mask R-CNN's 100 full-size float masks are
    hundreds of MB). Anything of another shape is returned as it is, for the task to name."""
    shape = getattr(masks, "shape", None)
    if shape is None or len(shape) not in (3, 4) or (len(shape) == 4 and shape[1] != 1) or min(shape[-2:]) < 1:
        return masks
    rows, cols = (((np.arange(g) + 0.5) * m / g).astype(np.int64) for m, g in zip(shape[-2:], grid_shape(shape[-2:])))
    if hasattr(masks, "detach"):  # a tensor: sampled where it is
        import torch

        from peephole.core.query import to_numpy

        t = masks.detach()
        t = t[:, 0] if t.ndim == 4 else t
        rows, cols = (torch.as_tensor(v, device=t.device) for v in (rows, cols))
        return to_numpy(t.index_select(1, rows).index_select(2, cols))
    a = np.asarray(masks)
    a = a[:, 0] if a.ndim == 4 else a
    return a[np.ix_(np.arange(len(a)), rows, cols)]


def filled(outlines: Sequence[Any], size: tuple[int, ...]) -> Any:
    """N polygon outlines (``K×2`` x, y pixels; ultralytics' ``Masks.xy``) as N×H×W uint8 masks of the image's
    ``size`` (H, W); the outlines as they are without a size (the task names what is wrong)."""
    import cv2

    if len(size) != 2:
        return outlines
    out = np.zeros((len(outlines), int(size[0]), int(size[1])), np.uint8)
    for mask, xy in zip(out, outlines):
        try:
            points = np.asarray(xy, np.float64).reshape(-1, 2)
        except (TypeError, ValueError):
            return outlines
        points = np.clip(points[np.isfinite(points).all(axis=1)], -1, max(size) + 1)  # cv2 takes int32 points
        if len(points) >= 3:
            cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 1)
    return out


def as_detector(obj: Any, class_names: Sequence[str] | None = None, threshold: float | None = None) -> Detector:
    """``obj`` as a :class:`Detector`: itself, a transformers detection model or pipeline (or mask-classification
    model: its instances)
    (:mod:`peephole.models.hf_detection`; ``threshold``: its reference boxes' score), an ``ultralytics`` YOLO model,
    a torchvision-style detection module, or a callable on B×H×W×3 float batches in [0, 1]."""
    if isinstance(obj, Detector):
        return obj
    from peephole.models.hf_detection import finds_segments, hf_detector, is_detection_pipeline, is_hf_detector

    if is_detection_pipeline(obj) or is_hf_detector(obj) or finds_segments(obj):
        return hf_detector(obj, class_names=class_names, **({} if threshold is None else {"threshold": threshold}))
    if type(obj).__module__.split(".")[0] == "ultralytics" and hasattr(obj, "predict"):
        names = getattr(obj, "names", None)
        names = [names[k] for k in sorted(names)] if isinstance(names, dict) else names
        return Detector(yolo_fn(obj), class_names or names, threshold, name=type(obj).__name__)
    if hasattr(obj, "forward") and hasattr(obj, "parameters"):
        return Detector(torch_fn(obj), class_names, threshold, name=type(obj).__name__)
    if callable(obj):
        return Detector(obj, class_names, threshold)
    raise InputError(f"cannot use a {type(obj).__name__} as a detector: give a callable returning per image a dict of boxes")


def yolo_fn(model: Any) -> Callable[[np.ndarray], list[Any]]:
    """An ``ultralytics`` model on a float RGB batch: it is given uint8 BGR images (its own convention)."""

    def detect(batch: np.ndarray) -> list[Any]:
        images = [np.ascontiguousarray((np.clip(x, 0, 1) * 255).round().astype(np.uint8)[..., ::-1]) for x in batch]
        return list(model.predict(images, verbose=False))

    return detect


def torch_fn(module: Any) -> Callable[[np.ndarray], list[Any]]:
    """A torchvision-style detection module on a float RGB batch: a list of 3×H×W tensors on the module's device,
    no gradients. The module is never moved or switched to eval mode: one in training mode is an InputError."""
    import torch

    from peephole.models.torch import module_dtype

    if getattr(module, "training", False):
        raise InputError(f"the detection module {type(module).__name__} is in training mode; call .eval() on it first")
    first = next(iter(module.parameters()), None)
    device = first.device if first is not None else torch.device("cpu")

    def detect(batch: np.ndarray) -> list[Any]:
        with torch.no_grad():
            images = [torch.from_numpy(np.ascontiguousarray(x)).permute(2, 0, 1) for x in batch]
            return list(module([x.to(device, module_dtype(module)) for x in images]))  # a half module: half images

    return detect
