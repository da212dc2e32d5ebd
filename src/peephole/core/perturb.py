"""Maskers: turn keep-masks into model inputs (keep the part, replace the rest).

A masker is *bound* to one input x once (so expensive work such as blurring happens once) and
then maps a batch of keep-masks ``(B, *feature_shape)`` to a batch of model inputs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import numpy as np

from peephole.errors import InputError

BoundMasker = Callable[[np.ndarray], Any]

#: From this many values per input on, :class:`BaselineMasker` fills each row from its majority side and
#: copies only the minority's features (6–9× faster for small parts at 224×224×3); below it (measured
#: crossover ~32×32×3) one masked copy of the whole batch is faster than a Python loop over its rows.
ROW_LOOP_MIN_SIZE = 4096


class Masker(ABC):
    """Builds perturbed inputs x_j from x and the keep-mask m_j."""

    @abstractmethod
    def bind(self, x: Any) -> BoundMasker:
        """Return a function mapping keep-masks ``(B, *shape)`` to a batch of model inputs."""


class BoundOnce(Masker):
    """``masker`` bound to ``x`` once, for a method that calls :func:`~peephole.core.run.run` many times on
    the same input (PAMI path's steps, adaptive PAMI's groups): the binding's work (the 49×49 blur) is done once."""

    def __init__(self, masker: Masker, x: Any) -> None:
        self.x, self.bound = x, masker.bind(x)

    def bind(self, x: Any) -> BoundMasker:
        if x is not self.x:
            raise ValueError("this masker is bound to another input")
        return self.bound


class BaselineMasker(Masker):
    """x_j = m_j * x + (1 - m_j) * b(x): the hidden features take the value of a baseline array.

    The keep-mask covers the leading axes of x (``(H, W)`` of an ``(H, W, C)`` image, ``(T,)`` of a
    signal); trailing axes (channels) are broadcast.
    """

    @abstractmethod
    def baseline(self, x: np.ndarray) -> np.ndarray:
        """The replacement values, broadcastable to ``x.shape``."""

    def bind(self, x: Any) -> BoundMasker:
        x = np.asarray(x)
        base = np.broadcast_to(np.asarray(self.baseline(x), dtype=x.dtype), x.shape)
        flat: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # features -> (x, baseline), one item per feature

        def items(n_feat: int) -> tuple[np.ndarray, np.ndarray]:
            """x and the baseline as ``n_feat`` contiguous items, a feature's trailing values (an RGB pixel)
            viewed as one raw item: masked copies then move whole items (about 3× faster than a broadcast mask)."""
            if n_feat not in flat:
                xs, bs = (np.ascontiguousarray(a.reshape(n_feat, -1)) for a in (x, base))
                item = np.dtype((np.void, xs.shape[1] * x.dtype.itemsize))
                flat[n_feat] = (xs.view(item).reshape(n_feat), bs.view(item).reshape(n_feat))
            return flat[n_feat]

        def apply(keep: np.ndarray) -> np.ndarray:
            if keep.shape[1:] != x.shape[: keep.ndim - 1]:
                raise InputError(f"keep-masks of shape {keep.shape[1:]} do not match input of shape {x.shape}")
            if keep.dtype != bool:
                raise InputError(f"{type(self).__name__} needs boolean keep-masks, got {keep.dtype} (soft masks: SoftMasker)")
            n_feat = int(np.prod(keep.shape[1:], dtype=np.int64))
            flat_keep = keep.reshape(len(keep), n_feat)
            xs, bs = items(n_feat)
            batch = np.empty((len(keep), *x.shape), dtype=x.dtype)  # owns its memory: the query need not copy it
            out = batch.reshape(len(keep), -1).view(xs.dtype)  # (B, n_feat) items, writing into batch
            if x.size < ROW_LOOP_MIN_SIZE:  # small inputs: one masked copy of the batch beats a loop over rows
                np.copyto(out, bs)
                np.copyto(out, xs, where=flat_keep)
            else:
                for row, k in zip(out, flat_keep):  # a small part (PAMI's keep-one, occlusion): copy only its features
                    kept = int(np.count_nonzero(k))
                    if kept <= n_feat // 4:
                        row[:] = bs
                        idx = np.flatnonzero(k)
                        row[idx] = xs[idx]
                    elif kept >= n_feat - n_feat // 4:
                        row[:] = xs
                        idx = np.flatnonzero(~k)
                        row[idx] = bs[idx]
                    else:
                        row[:] = bs
                        np.copyto(row, xs, where=k)
            return batch

        return apply


class SoftMasker(Masker):
    """``m·x + (1 − m)·b(x)`` for float masks m in [0, 1] (RISE, Score-CAM); ``b`` from a baseline masker."""

    def __init__(self, base: BaselineMasker) -> None:
        self.base = base

    def bind(self, x: Any) -> BoundMasker:
        x = np.asarray(x, np.float32)
        b = np.broadcast_to(np.asarray(self.base.baseline(x), np.float32), x.shape)
        diff = x - b

        def apply(m: np.ndarray) -> np.ndarray:
            if m.shape[1:] != x.shape[: m.ndim - 1]:
                raise InputError(f"masks of shape {m.shape[1:]} do not match input of shape {x.shape}")
            out = np.multiply(m.astype(np.float32, copy=False).reshape(m.shape + (1,) * (x.ndim - m.ndim + 1)), diff)
            out += b  # one buffer, filled in place
            return out

        return apply
