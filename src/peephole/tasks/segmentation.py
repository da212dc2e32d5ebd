"""Semantic segmentation: the model returns ``(N, K, h, w)`` per-pixel class scores; a target is a class; its score is
the class's mean probability over its region (Xplique's semantic-segmentation operator; Vinogradova et al., AAAI 2020,
explain a region the same way with gradients).

A class's region is where the unperturbed image's prediction (the per-pixel argmax) is that class, or the ``region``
given (an ``h×w`` mask at the model's output size, or at the input's: resized, nearest): every class is then scored
over it. ``output`` is what the model returns per pixel, as for classification: ``'logits'`` (a softmax over the K
classes at each pixel), ``'probs'`` (used as they are) or ``'scores'``; one channel of logits or probabilities is a
foreground against its background, ``[1 − p, p]``. The output size ``h×w`` may be the input's or smaller (a
SegFormer's is a quarter): regions are kept at the output's size and drawn over the input. A channels-last model
(``(N, h, w, K)``: TensorFlow, many ONNX exports) needs ``channels_last=True``: the axes cannot be told apart from the
shape alone, so give the class names too (their number must be K: a misread output is then one error).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from peephole.core.query import OUTPUT_KINDS, softmax
from peephole.errors import InputError, ModelError, NothingToExplain
from peephole.tasks.base import Scorer, Task
from peephole.tasks.classification import in_range, numbers_of, resolve_targets, two_classes

SHAPE = "(N, K, h, w): K class scores at each pixel of an h×w output (N, h, w, K with channels_last=True)"


class Segmentation(Task):
    """Explain the classes of a segmentation model over their regions: one map per class, all from one set of queries.

    ``Explanation.probabilities`` are the classes' mean probabilities over their regions on the unperturbed image (0
    for a class predicted nowhere); ``targets`` index classes (default: the ``top_k`` classes covering the most
    pixels); ``extras['regions']`` is the region map (``h×w``: each pixel's predicted class, or 1 inside the given
    region and 0 outside) and ``extras['region_given']`` says which.
    """

    name = "segmentation"

    def __init__(self, output: str = "logits", region: Any = None, channels_last: bool = False) -> None:
        if output not in OUTPUT_KINDS:
            raise InputError(f"output must be one of {OUTPUT_KINDS}, got {output!r}")
        if not isinstance(channels_last, bool):
            raise InputError(f"channels_last must be True or False, got {channels_last!r}")
        self.output = output
        self.channels_last = channels_last
        self.region = None if region is None else _given(region)
        self.labels: np.ndarray | None = None  #: (h, w) the reference's per-pixel class
        self.inside: np.ndarray | None = None  #: (h·w,) the given region at the output's size
        self.counts: np.ndarray | None = None  #: (K,) pixels per class (inside the given region)

    def bind(self, model: Any) -> Segmentation:
        """This task for ``model``: what it declares it returns (its ``output``), this task's region."""
        bound = Segmentation(getattr(model, "output", self.output), channels_last=self.channels_last)
        bound.region = self.region
        return bound

    def validate(self, raw: Any, n: int, what: str) -> np.ndarray:
        """``(n, K, h, w)`` finite float64 per-pixel scores (one channel made two, as for classification)."""
        out = numbers_of(raw, what, "per-pixel class scores")
        if out.ndim == 3 and _whole_numbers(raw):
            raise ModelError(
                f"the model returned whole numbers of shape {tuple(out.shape)} on {what}: a label map (each pixel's class)? "
                f"Return the per-pixel class scores before the argmax, {SHAPE}"
            )
        if out.ndim == 3 and n == 1:
            out = out[None]
        if self.channels_last and out.ndim == 4:
            out = out.transpose(0, 3, 1, 2)
        if out.ndim != 4 or out.shape[0] != n or min(out.shape[1:]) < 1:
            raise ModelError(f"the model returned shape {tuple(out.shape)} for {n} images on {what}; expected {SHAPE}")
        if not np.isfinite(out).all():
            raise ModelError(f"the model returned NaN or inf on {what}")
        return two_classes(in_range(out, self.output, what), self.output)

    def probabilities(self, image: np.ndarray) -> np.ndarray:
        """``(K, h·w)`` per-pixel class probabilities of one image's output (softmax over the classes for logits)."""
        flat = image.reshape(image.shape[0], -1)
        return softmax(flat[None])[0] if self.output == "logits" else flat  # softmax over axis 1: the classes

    def reference(self, out: np.ndarray) -> np.ndarray:
        """The per-pixel classes of the unperturbed output, each class's region, and its mean probability there."""
        k, h, w = out.shape[1:]
        self.labels = out[0].argmax(axis=0)
        self.inside = None if self.region is None else _resized(self.region, h, w).reshape(-1)
        if self.inside is not None and not self.inside.any():
            raise NothingToExplain(f"the given region covers no pixel of the model's {h}×{w} output: nothing to explain")
        flat = self.labels.reshape(-1)
        self.counts = np.bincount(flat if self.inside is None else flat[self.inside], minlength=k)[:k]
        return self.score(out)[0]

    def score(self, out: np.ndarray) -> np.ndarray:
        """``(B, K)``: each class's mean probability over its region (0 where the region is empty), image by image
        (the temporaries are one image's K×h×w)."""
        assert self.labels is not None and self.counts is not None
        flat, k = self.labels.reshape(-1), out.shape[1]
        n = np.maximum(self.counts, 1)
        rows = []
        for image in out:
            p = self.probabilities(image)
            if self.inside is not None:
                rows.append(p[:, self.inside].mean(axis=1))
            else:  # each pixel's probability of its own class, summed per class
                rows.append(np.bincount(flat, weights=p[flat, np.arange(len(flat))], minlength=k)[:k] / n)
        return np.stack(rows) if rows else np.zeros((0, k))

    def targets(self, reference: np.ndarray, targets: Any, top_k: int, class_names: Sequence[str] | None) -> list[int]:
        """Classes: given ones (indices or names), else the ``top_k`` covering the most pixels (of the region given)."""
        if class_names is not None and len(class_names) != len(reference):
            raise ModelError(f"the model returned {len(reference)} classes per pixel but names {len(class_names)}")
        assert self.counts is not None
        area = self.counts
        present = [int(c) for c in np.argsort(-area, kind="stable") if area[c] > 0]
        chosen = resolve_targets(reference, targets, top_k, class_names, present[:top_k] if targets is None else None)
        if self.region is None:
            empty = [t for t in chosen if area[t] == 0]
            if empty:
                name = class_names[empty[0]] if class_names else f"class {empty[0]}"
                raise InputError(f"{name} is predicted at no pixel of the image: it has no region to explain (give region=)")
        return chosen

    def scorer(self, reference: np.ndarray, targets: Sequence[int]) -> Scorer:
        """``(B, K)`` region scores of a batch; an output of another shape than the reference's is a ModelError."""
        assert self.labels is not None and self.counts is not None
        shape = (len(self.counts), *self.labels.shape)

        def score(out: np.ndarray, what: str = "batch") -> np.ndarray:
            if tuple(out.shape[1:]) != shape:
                raise ModelError(f"the model returned {tuple(out.shape[1:])} per image on {what} but {shape} before")
            return self.score(out)

        return score

    def extras(self) -> dict[str, np.ndarray]:
        """``regions`` (h×w int32: each pixel's predicted class, or the given region as 1 inside, 0 outside) and
        ``region_given`` (1 or 0)."""
        assert self.labels is not None
        regions = self.labels if self.inside is None else self.inside.reshape(self.labels.shape)
        return {"regions": regions.astype(np.int32), "region_given": np.array(int(self.region is not None), np.int32)}

    def __repr__(self) -> str:
        """Names a given region by a digest (a run's recorded settings then differ whenever the region does)."""
        given = ""
        if self.region is not None:
            given = f"region={self.region.shape} sha1:{hashlib.sha1(np.packbits(self.region).tobytes()).hexdigest()[:12]}, "
        last = ", channels_last=True" if self.channels_last else ""
        return f"Segmentation({given}output={self.output!r}{last})"


def _whole_numbers(raw: Any) -> bool:
    """Whether a NumPy array or torch tensor holds integers or booleans (a label map, not scores)."""
    dtype = getattr(raw, "dtype", None)
    if isinstance(dtype, np.dtype):
        return dtype.kind in "iub"
    floating = getattr(raw, "is_floating_point", None)  # a torch tensor (complex ones are refused before)
    return callable(floating) and not floating()


def _given(region: Any) -> np.ndarray:
    """A user-given region: a 2-D boolean (or 0/1) mask with at least one pixel inside."""
    try:
        r = np.asarray(region)
    except (TypeError, ValueError) as exc:
        raise InputError(f"region must be a 2-D boolean mask, got {type(region).__name__}") from exc
    if r.ndim != 2 or r.size == 0 or r.dtype == object or not (r.dtype == bool or np.isin(r, (0, 1)).all()):
        raise InputError(f"region must be a 2-D boolean (or 0/1) mask, got {r.dtype} of shape {r.shape}")
    if not r.any():
        raise InputError("region is empty: it must cover at least one pixel")
    return r.astype(bool)


def _resized(region: np.ndarray, h: int, w: int) -> np.ndarray:
    """``region`` at ``h×w`` (nearest pixel centres; as it is when it already is)."""
    if region.shape == (h, w):
        return region
    rows = np.minimum((np.arange(h) + 0.5) * region.shape[0] / h, region.shape[0] - 1).astype(int)
    cols = np.minimum((np.arange(w) + 0.5) * region.shape[1] / w, region.shape[1] - 1).astype(int)
    return region[np.ix_(rows, cols)]
