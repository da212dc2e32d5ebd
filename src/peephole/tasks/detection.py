"""Detection: the model returns boxes per image; a target is a reference box; its score is how well a perturbed
output still finds it.

A detector returns, per image of a batch, a dict in torchvision's convention: ``boxes`` (N×4, ``x0, y0, x1, y1``
pixels), ``scores`` (N) and ``labels`` (N) or class probabilities ``probs`` (N×K), optionally ``objectness`` (N).
The reference boxes are the detections on the unperturbed image (every one the detector returns at or above
``threshold``), or the ``boxes`` the user gives. The score of reference box ``t`` on a perturbed output is
D-RISE's similarity (Petsiuk et al., CVPR 2021, Eq. 2), maximised over that output's detections ``j``:

    s_t = max_j IoU(L_t, L_j) · cos(P_t, P_j) · O_j

with ``cos`` the cosine of class-probability vectors when both are given, else 1 for the same label and 0
otherwise (1 when the reference box has no label), and ``O_j`` the objectness when given — else, for a detector
without class probabilities, its ``scores`` (the detection confidence; D-RISE's ``O_j``), else 1. Every reference
box is scored on every perturbed output, so one set of queries gives the maps of all boxes.

An instance-segmentation model (Mask R-CNN, YOLO-seg, ...) also returns ``masks`` (N×H×W or torchvision's N×1×H×W,
probabilities or 0/1): the IoU is then that of the masks, each thresholded at 0.5 (torchvision's and ultralytics'
convention) and read on a grid of at most :data:`~peephole.models.detection.MASK_GRID` samples a side (nearest
samples), so an instance is explained by its outline and not its box.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from peephole.core.classes import classes_named
from peephole.core.query import real_numbers
from peephole.errors import InputError, ModelError, NothingToExplain
from peephole.tasks.base import Scorer, Task

KEYS = "boxes (N×4 x0, y0, x1, y1), scores (N), and labels (N) or probs (N×K); optionally masks (N×H×W)"


@dataclass(frozen=True)
class Detections:
    """The checked detections of one image (float64 arrays; ``labels``, ``probs``, ``objectness`` may be None)."""

    boxes: np.ndarray  #: (N, 4) x0, y0, x1, y1 pixels
    scores: np.ndarray  #: (N,)
    labels: np.ndarray | None = None  #: (N,) integer class of each box
    probs: np.ndarray | None = None  #: (N, K) class probabilities
    objectness: np.ndarray | None = None  #: (N,)
    masks: np.ndarray | None = None  #: (N, h, w) bool instance masks on the masks' grid (``models.detection.on_grid``)

    def __len__(self) -> int:
        return len(self.boxes)

    def take(self, keep: np.ndarray | slice) -> Detections:
        """The detections selected by ``keep`` (a boolean mask, indices or a slice)."""
        pick = lambda a: None if a is None else a[keep]  # noqa: E731
        return Detections(
            self.boxes[keep], self.scores[keep], pick(self.labels), pick(self.probs), pick(self.objectness), pick(self.masks)
        )

    def confidence(self) -> np.ndarray:
        """D-RISE's ``O_j``: the objectness, else the scores of a detector without class probabilities, else 1."""
        if self.objectness is not None:
            return self.objectness
        return self.scores if self.probs is None else np.ones(len(self))


def check_detections(raw: Any, what: str) -> Detections:
    """One image's output as :class:`Detections`; a :class:`ModelError` naming ``what`` and the wrong key otherwise."""
    if not isinstance(raw, dict):
        raise ModelError(f"the detector returned a {type(raw).__name__} for an image on {what}; expected a dict of {KEYS}")
    if raw.get("boxes") is None or raw.get("scores") is None:
        given = sorted(str(k) for k, v in raw.items() if v is not None)
        raise ModelError(f"the detector's output on {what} has keys {given} (None counts as absent); expected {KEYS}")

    def arr(key: str, ndim: int) -> np.ndarray | None:
        if raw.get(key) is None:
            return None
        try:
            a = real_numbers(raw[key])
        except (TypeError, ValueError) as exc:
            raise ModelError(f"the detector's {key!r} on {what} is not numeric: {exc}") from exc
        if a.size == 0:
            a = a.reshape((0,) + (4,) * (key == "boxes") + (0,) * (key == "probs"))
        if a.ndim != ndim or (key == "boxes" and a.shape[1] != 4):
            raise ModelError(f"the detector's {key!r} on {what} has shape {a.shape}; expected {KEYS}")
        if not np.isfinite(a).all():
            raise ModelError(f"the detector's {key!r} on {what} holds NaN or inf")
        return a

    boxes, scores = arr("boxes", 2), arr("scores", 1)
    labels, probs, objectness = arr("labels", 1), arr("probs", 2), arr("objectness", 1)
    assert boxes is not None and scores is not None
    for key, a in (("scores", scores), ("labels", labels), ("probs", probs), ("objectness", objectness)):
        if a is not None and len(a) != len(boxes):
            raise ModelError(f"the detector returned {len(boxes)} boxes but {len(a)} {key} on {what}")
    if labels is not None and (labels != np.round(labels)).any():
        bad = labels[labels != np.round(labels)][:3]
        raise ModelError(f"the detector's 'labels' on {what} are not whole class numbers: {bad}")
    if (boxes[:, 2] < boxes[:, 0]).any() or (boxes[:, 3] < boxes[:, 1]).any():
        raise ModelError(f"the detector returned boxes with x1 < x0 or y1 < y0 on {what}; boxes are x0, y0, x1, y1")
    masks = check_masks(raw.get("masks"), len(boxes), what)
    return Detections(boxes, scores, None if labels is None else labels.astype(np.int64), probs, objectness, masks)


def check_masks(raw: Any, n: int, what: str) -> np.ndarray | None:
    """The ``n`` instance masks sampled on their grid (:func:`peephole.models.detection.on_grid`, which a
    :class:`~peephole.models.detection.Detector` applied already), thresholded at 0.5 (``(n, h, w)`` bool); None
    without masks."""
    if raw is None:
        return None
    from peephole.models.detection import on_grid

    try:
        a = np.asarray(on_grid(raw))
    except (TypeError, ValueError) as exc:  # ragged lists
        raise ModelError(f"the detector's 'masks' on {what} are no N×H×W array: {exc}") from exc
    if a.dtype.kind not in "biuf":
        raise ModelError(f"the detector's 'masks' on {what} are not numbers ({a.dtype}); expected N×H×W")
    if a.ndim != 3 or len(a) != n or min(a.shape[1:]) < 1:
        raise ModelError(f"the detector returned masks of shape {a.shape} for {n} boxes on {what}; expected {n}×H×W")
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise ModelError(f"the detector's 'masks' on {what} hold NaN or inf")
    return a > 0.5


def mask_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(len(a), len(b))`` intersection over union of boolean masks of one shape."""
    fa, fb = a.reshape(len(a), -1).astype(np.float32), b.reshape(len(b), -1).astype(np.float32)
    inter = fa @ fb.T
    union = fa.sum(1)[:, None] + fb.sum(1)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0).astype(np.float64)


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(len(a), len(b))`` intersection over union of xyxy boxes."""
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=2)
    area = lambda x: np.prod(np.clip(x[:, 2:] - x[:, :2], 0, None), axis=1)  # noqa: E731
    union = area(a)[:, None] + area(b)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


#: reference × output pairs scored at once: a detector returning thousands of boxes is scored in column chunks, so
#: :func:`similarity`'s temporaries stay a few MiB instead of growing with the product of the two counts
PAIRS = 2**18


def similarity(ref: Detections, out: Detections) -> np.ndarray:
    """``(len(ref),)`` D-RISE similarity of each reference box to its best match in ``out`` (Eq. 2; 0 without boxes),
    the IoU that of the masks when the reference boxes have masks."""
    best = np.zeros(len(ref))
    if len(out) == 0 or len(ref) == 0:
        return best
    if ref.probs is not None and out.probs is not None and ref.probs.shape[1] != out.probs.shape[1]:
        raise ModelError(f"the detector returned {out.probs.shape[1]} class probabilities but {ref.probs.shape[1]} before")
    if ref.masks is not None and (out.masks is None or out.masks.shape[1:] != ref.masks.shape[1:]):
        got = "none" if out.masks is None else f"masks of {out.masks.shape[1]}×{out.masks.shape[2]} samples"
        raise ModelError(f"the detector returned masks of {ref.masks.shape[1]}×{ref.masks.shape[2]} samples before, now {got}")
    step = max(1, PAIRS // len(ref))
    if ref.masks is not None:  # the masks' product: at most 2**22 samples of the output's masks at once
        step = max(1, min(step, 2**22 // ref.masks[0].size))
    for start in range(0, len(out), step):
        part = out.take(slice(start, start + step))
        overlap = iou(ref.boxes, part.boxes) if ref.masks is None else mask_iou(ref.masks, part.masks)
        pairs = overlap * _class_match(ref, part) * part.confidence()[None, :]
        np.maximum(best, pairs.max(axis=1), out=best)
    return best


def _class_match(ref: Detections, out: Detections) -> np.ndarray:
    """``(len(ref), len(out))``, Eq. 2's class term: the cosine of class probabilities, else 1 for the same label and 0
    otherwise, else (no labels to compare) 1."""
    if ref.probs is not None and out.probs is not None:
        norm = np.linalg.norm(ref.probs, axis=1)[:, None] * np.linalg.norm(out.probs, axis=1)[None, :]
        return np.divide(ref.probs @ out.probs.T, norm, out=np.zeros((len(ref), len(out))), where=norm > 0)
    if ref.labels is not None and out.labels is not None:
        return (ref.labels[:, None] == out.labels[None, :]).astype(np.float64)
    if ref.labels is not None and out.probs is not None:
        return (ref.labels[:, None] == out.probs.argmax(axis=1)[None, :]).astype(np.float64)
    return np.ones((len(ref), len(out)))


class Detection(Task):
    """Explain the boxes of a detector: one map per reference box, all from one set of queries.

    ``boxes``: reference boxes to explain (M×4 xyxy pixels; ``labels`` their classes, else any class matches);
    unset, the detections on the unperturbed image scoring at least ``threshold`` (unset: the detector's own
    ``reference_threshold`` if it declares one, else every one it returns). ``segments``: for a segmenter that finds
    them (a Mask2Former, OneFormer or segmenting DETR folder), ``"instance"`` (unset) or ``"panoptic"`` segments
    (things and stuff). ``Explanation.probabilities`` are the
    reference boxes' self-similarities, ``targets`` index boxes, ``extras['boxes']``, ``extras['labels']`` (-1: none)
    and ``extras['box_scores']`` describe them.
    """

    name = "detection"

    def __init__(
        self, boxes: Any = None, labels: Any = None, threshold: float | None = None, segments: str | None = None
    ) -> None:
        self.given = None if boxes is None else _given(boxes, labels)
        if threshold is not None and not (isinstance(threshold, (int, float)) and np.isfinite(threshold)):
            raise InputError(f"threshold must be a number or None, got {threshold!r}")
        if segments not in (None, "instance", "panoptic"):
            raise InputError(f"segments must be 'instance', 'panoptic' or None, got {segments!r}")
        self.threshold, self.segments = threshold, segments
        self.ref: Detections | None = None
        self.class_names: list[str] | None = None

    def bind(self, model: Any) -> Detection:
        """This task for ``model``: its class names; without a threshold of its own, the model's
        ``reference_threshold`` (a transformers detector's 0.5) if it has one."""
        own = self.threshold if self.threshold is not None else getattr(model, "reference_threshold", None)
        bound = Detection(threshold=own, segments=self.segments)
        bound.given = self.given
        names = getattr(model, "class_names", None)
        bound.class_names = list(names) if names is not None else None
        return bound

    def adapt(self, model: Any) -> Any:
        """A callable, torch module or YOLO model as a :class:`~peephole.models.detection.Detector`; a segmenter that
        also finds instances (a Mask2Former folder) as its ``instance_detector()`` (of ``segments``); a name or path is
        loaded first (:func:`peephole.models.load_model`); models that declare a task are left as they are. Panoptic
        segments asked of a model that cannot find them: one InputError."""
        if isinstance(model, str) or hasattr(model, "__fspath__"):  # loaded here, as the modality would load it
            from peephole.models.registry import load_model

            model = load_model(str(model))
        if callable(getattr(model, "instance_detector", None)):
            return model.instance_detector(self.segments or "instance")
        if self.segments == "panoptic":  # any detector's detections are its instances (its masks where it gives them)
            raise InputError(
                f"segments={self.segments!r} is for a segmenter that finds them (a Mask2Former, OneFormer or "
                f"DetrForSegmentation folder), not a {type(model).__name__}; with a transformers model and its processor "
                "use peephole.models.hf_detection.hf_detector(model, processor, segments=...)"
            )
        if getattr(model, "task", None) is not None:
            return model
        from peephole.models.detection import as_detector

        return as_detector(model)

    def validate(self, raw: Any, n: int, what: str) -> list[Detections]:
        """One :class:`Detections` per image (a dict for one image is that image's)."""
        if isinstance(raw, dict) and n == 1:
            raw = [raw]
        if not isinstance(raw, (list, tuple)) or len(raw) != n:
            got = f"{len(raw)} items" if isinstance(raw, (list, tuple)) else f"a {type(raw).__name__}"
            raise ModelError(f"the detector returned {got} for {n} images on {what}; expected a list of {n} dicts of {KEYS}")
        return [check_detections(r, what) for r in raw]

    def reference(self, out: list[Detections]) -> np.ndarray:
        """The reference boxes (set on this bound task) and their similarity to the unperturbed output."""
        found = out[0]
        if self.given is not None:
            self.ref = self.given
        else:
            keep = np.ones(len(found), bool) if self.threshold is None else found.scores >= self.threshold
            self.ref = found.take(np.flatnonzero(keep))
        if len(self.ref) == 0:
            at = "" if self.threshold is None else f" scoring at least {self.threshold}"
            raise NothingToExplain(f"the detector found no boxes{at} on the image: nothing to explain (pass boxes= to name some)")
        return similarity(self.ref, found)

    def targets(self, reference: np.ndarray, targets: Any, top_k: int, class_names: Sequence[str] | None) -> list[int]:
        """Box indices: given ones (or a class name: its boxes), else every reference box (``top_k`` is unused)."""
        if targets is None:
            return list(range(len(reference)))
        items = [targets] if isinstance(targets, (str, int, np.integer)) else list(targets)
        out: list[int] = []
        for t in items:
            if isinstance(t, str):
                labels = self.ref.labels if self.ref is not None else None
                if not class_names or t not in class_names or labels is None:
                    raise InputError(f"unknown class {t!r} for the detector's boxes; give box indices 0..{len(reference) - 1}")
                hits = np.flatnonzero(np.isin(labels, classes_named(t, class_names)))  # every class of that name
                if not len(hits):
                    raise InputError(f"no reference box is a {t!r}")
                out.extend(int(i) for i in hits)
            elif isinstance(t, (bool, np.bool_)) or not isinstance(t, (int, np.integer)) or not 0 <= int(t) < len(reference):
                raise InputError(f"target box {t!r} is not one of the {len(reference)} reference boxes (0..{len(reference) - 1})")
            else:
                out.append(int(t))
        return out

    def scorer(self, reference: np.ndarray, targets: Sequence[int]) -> Scorer:
        """``(B, M)``: every reference box's similarity to each perturbed output (all boxes, one query set)."""
        ref = self.ref
        if ref is None:
            raise RuntimeError("Detection.scorer needs the reference: call reference() on the unperturbed output first")

        def score(out: list[Detections], what: str = "batch") -> np.ndarray:
            return np.stack([similarity(ref, d) for d in out]) if out else np.zeros((0, len(ref)))

        return score

    def output_names(self, class_names: Sequence[str] | None) -> list[str]:
        """A name per reference box: its class (or 'box') and index."""
        assert self.ref is not None
        labels = (
            self.ref.labels if self.ref.labels is not None else (None if self.ref.probs is None else self.ref.probs.argmax(1))
        )
        names = self.class_names or class_names

        def name(i: int) -> str:
            if labels is None:
                return f"box {i}"
            k = int(labels[i])
            return f"{names[k] if names and 0 <= k < len(names) else f'class {k}'} {i}"

        return [name(i) for i in range(len(self.ref))]

    def extras(self) -> dict[str, np.ndarray]:
        """The reference boxes kept with the result: ``boxes`` (M×4), ``labels`` (M; -1 none), ``box_scores`` (M), and
        an instance-segmentation model's ``masks`` (M×h×w bool, on the masks' grid)."""
        assert self.ref is not None
        labels = (
            self.ref.labels if self.ref.labels is not None else (None if self.ref.probs is None else self.ref.probs.argmax(1))
        )
        return {
            "boxes": self.ref.boxes.astype(np.float32),
            "labels": np.full(len(self.ref), -1, np.int64) if labels is None else labels.astype(np.int64),
            "box_scores": self.ref.scores.astype(np.float32),
            **({} if self.ref.masks is None else {"masks": self.ref.masks}),
        }

    def __repr__(self) -> str:
        """Names the given boxes by count and a digest of their values: a run's recorded settings (its repr) then
        differ whenever the boxes or labels do, so a resume with other boxes is refused."""
        given = ""
        if self.given is not None:
            g = self.given
            raw = g.boxes.tobytes() + (b"" if g.labels is None else g.labels.tobytes())
            given = f"boxes={len(g)} sha1:{hashlib.sha1(raw).hexdigest()[:12]}, "
        segments = "" if self.segments is None else f", segments={self.segments!r}"  # unset: as recorded before it existed
        return f"Detection({given}threshold={self.threshold!r}{segments})"


def _given(boxes: Any, labels: Any) -> Detections:
    """User-given reference boxes, checked (their scores are 1: the similarity is then the match's alone)."""
    try:
        b = np.array(boxes, dtype=np.float64).reshape(-1, 4) if np.size(boxes) % 4 == 0 else None
    except (TypeError, ValueError):
        b = None
    if b is None or not len(b) or not np.isfinite(b).all() or (b[:, 2:] <= b[:, :2]).any():
        raise InputError(f"boxes must be M×4 finite x0, y0, x1, y1 pixels with x1 > x0 and y1 > y0, got {boxes!r}")
    lab = None
    if labels is not None:
        lab = np.asarray(labels).reshape(-1)
        if len(lab) != len(b) or not np.issubdtype(lab.dtype, np.integer):
            raise InputError(f"labels must be one integer class per box ({len(b)}), got {labels!r}")
        lab = lab.astype(np.int64)
    return Detections(b, np.ones(len(b)), lab)
