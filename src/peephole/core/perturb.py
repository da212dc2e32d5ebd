"""Maskers: turn keep-masks into model inputs (keep the part, replace the rest).

A masker is *bound* to one input x once (so expensive work such as blurring happens once) and
then maps a batch of keep-masks ``(B, *feature_shape)`` to a batch of model inputs. Where the model says
where its inputs live (:class:`Arrays`: a torch model's device), :meth:`Masker.bind_to` builds them there: the
input and its baseline are copied to the device once, and each batch sends only its keep-masks (one byte per
pixel instead of twelve for an RGB float image); elsewhere (NumPy models, text) the batch is built on the host.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from peephole.errors import InputError

BoundMasker = Callable[[np.ndarray], Any]

#: From this many values per input on, :class:`BaselineMasker` fills each row from its majority side and
#: copies only the minority's features (6–9× faster for small parts at 224×224×3); below it (measured
#: crossover ~32×32×3) one masked copy of the whole batch is faster than a Python loop over its rows.
ROW_LOOP_MIN_SIZE = 4096


@dataclass(frozen=True)
class Arrays:
    """Where a model takes its inputs: ``xp``, an Array API namespace (``array_api_compat.torch``), on ``device``."""

    xp: Any
    device: Any

    def asarray(self, a: np.ndarray) -> Any:
        """A host array copied to the device (a copy on the CPU too: the batch never shares the input's memory)."""
        return self.xp.asarray(a, device=self.device, copy=True)


def check_masks(keep: np.ndarray, x: Any, what: str = "keep-masks") -> None:
    """One :class:`InputError` unless the masks' shape is ``x``'s leading axes."""
    if keep.shape[1:] != x.shape[: keep.ndim - 1]:
        raise InputError(f"{what} of shape {keep.shape[1:]} do not match input of shape {x.shape}")


def trailing(a: Any, xp: Any, masks: np.ndarray, x: Any) -> Any:
    """Device masks ``a`` (shaped as ``masks``) with one axis of 1 per trailing axis of ``x`` (channels broadcast)."""
    return xp.reshape(a, (*masks.shape, *(1,) * (x.ndim - masks.ndim + 1)))


class Masker(ABC):
    """Builds perturbed inputs x_j from x and the keep-mask m_j."""

    @abstractmethod
    def bind(self, x: Any) -> BoundMasker:
        """Return a function mapping keep-masks ``(B, *shape)`` to a batch of model inputs."""

    def bind_to(self, x: Any, arrays: Arrays | None = None) -> BoundMasker:
        """:meth:`bind`, building the batches with ``arrays`` (on the model's device) where this masker can; by
        default (and with ``arrays`` None) on the host."""
        return self.bind(x)


class BoundOnce(Masker):
    """``masker`` bound to ``x`` once, for a method that calls :func:`~peephole.core.run.run` many times on
    the same input (PAMI path's steps, adaptive PAMI's groups): the binding's work (the 49×49 blur) is done once."""

    def __init__(self, masker: Masker, x: Any) -> None:
        self.masker, self.x, self.bound = masker, x, {}

    def bind(self, x: Any) -> BoundMasker:
        return self.bind_to(x)

    def bind_to(self, x: Any, arrays: Arrays | None = None) -> BoundMasker:
        if x is not self.x:
            raise ValueError("this masker is bound to another input")
        if arrays not in self.bound:
            self.bound[arrays] = self.masker.bind_to(x, arrays)
        return self.bound[arrays]


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
            self.check(keep, x)
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

    def check(self, keep: np.ndarray, x: Any) -> None:
        check_masks(keep, x)
        if keep.dtype != bool:
            raise InputError(f"{type(self).__name__} needs boolean keep-masks, got {keep.dtype} (soft masks: SoftMasker)")

    def bind_to(self, x: Any, arrays: Arrays | None = None) -> BoundMasker:
        """On a device: ``where(m_j, x, b(x))``, x and the baseline copied there once, each batch's masks sent."""
        if arrays is None:
            return self.bind(x)
        x = np.asarray(x)
        xs = arrays.asarray(x)
        bs = arrays.asarray(np.broadcast_to(np.asarray(self.baseline(x), dtype=x.dtype), x.shape))

        def apply(keep: np.ndarray) -> Any:
            self.check(keep, x)
            return arrays.xp.where(trailing(arrays.asarray(keep), arrays.xp, keep, x), xs, bs)

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
            check_masks(m, x, "masks")
            out = np.multiply(m.astype(np.float32, copy=False).reshape(m.shape + (1,) * (x.ndim - m.ndim + 1)), diff)
            out += b  # one buffer, filled in place
            return out

        return apply

    def bind_to(self, x: Any, arrays: Arrays | None = None) -> BoundMasker:
        """On a device: ``m·(x − b) + b``, x − b and b copied there once, each batch's masks sent."""
        if arrays is None:
            return self.bind(x)
        x = np.asarray(x, np.float32)
        b = np.broadcast_to(np.asarray(self.base.baseline(x), np.float32), x.shape)
        diff, base = arrays.asarray(x - b), arrays.asarray(b)

        def apply(m: np.ndarray) -> Any:
            check_masks(m, x, "masks")
            return trailing(arrays.asarray(m.astype(np.float32, copy=False)), arrays.xp, m, x) * diff + base

        return apply
