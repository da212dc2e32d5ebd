"""Partitions of 1-D inputs (words, time steps, tabular features) into index groups.

Parts may overlap (sliding windows) and need not cover every position; Eq. 1 divides each
position's sum by the number of parts that kept it, and a position no part keeps gets 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from peephole.core.options import require
from peephole.core.partition import MAX_FEATURES, MAX_PARTS, Partition, State, check_limit, saved_array, saved_params
from peephole.errors import InputError


class IndexPartition(Partition):
    """Parts given as lists of positions over a 1-D feature axis of ``length`` positions (one group)."""

    def __init__(self, length: int, parts: Sequence[Sequence[int]], names: Sequence[str] | None = None) -> None:
        if length < 1:
            raise InputError(f"a partition needs at least one position, got length {length}")
        self.shape = (int(length),)
        self.parts: list[np.ndarray] = []
        if isinstance(parts, (str, bytes)) or not hasattr(parts, "__iter__"):
            raise InputError(f"parts must be lists of positions (integers), got {type(parts).__name__} {str(parts)[:80]!r}")
        for i, p in enumerate(parts):
            try:
                given = np.asarray(p)
            except (TypeError, ValueError) as exc:  # e.g. a ragged list
                raise InputError(f"part {i} must be a list of positions (integers), got {str(p)[:80]!r}") from exc
            if given.size and given.dtype.kind not in "iu":
                raise InputError(f"part {i} must be a list of positions (integers), got {given.dtype} {str(p)[:80]!r}")
            idx = np.unique(given.astype(np.int64).ravel())
            if idx.size == 0:
                raise InputError(f"part {i} is empty")
            if idx[0] < 0 or idx[-1] >= length:
                raise InputError(f"part {i} holds position {int(idx[0] if idx[0] < 0 else idx[-1])}, outside 0..{length - 1}")
            self.parts.append(idx)
        if not self.parts:
            raise InputError("a partition needs at least one part")
        if names is not None and len(names) != len(self.parts):
            raise InputError(f"{len(names)} part names for {len(self.parts)} parts")
        self.names = list(names) if names is not None else None

    @property
    def n_parts(self) -> int:
        return len(self.parts)

    def state(self) -> State:
        sizes = np.array([len(p) for p in self.parts], np.int64)
        return {"length": self.shape[0], "names": self.names}, {"positions": np.concatenate(self.parts), "sizes": sizes}

    @classmethod
    def from_state(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> IndexPartition:
        p = saved_params(cls.__name__, params, length=int, names=(list, None))
        positions = saved_array(cls.__name__, arrays, "positions", "iu", 1)
        sizes = saved_array(cls.__name__, arrays, "sizes", "iu", 1)
        check_limit(cls.__name__, "positions", p["length"], MAX_FEATURES)
        check_limit(cls.__name__, "parts", len(sizes), MAX_PARTS)
        if (sizes < 1).any() or int(sizes.sum()) != len(positions):
            raise InputError(f"saved {cls.__name__}: part sizes do not add up to the {len(positions)} positions")
        if p["names"] is not None and not all(isinstance(n, str) for n in p["names"]):
            raise InputError(f"saved {cls.__name__}: part names must be strings")
        parts = np.split(positions, np.cumsum(sizes)[:-1])
        return cls(p["length"], parts, p["names"])

    @property
    def coverage(self) -> np.ndarray:
        """How many parts keep each position, ``(length,)``."""
        c = np.zeros(self.shape[0], dtype=np.int64)
        for p in self.parts:
            c[p] += 1
        return c

    def masks(self, start: int, stop: int) -> np.ndarray:
        out = np.zeros((stop - start, self.shape[0]), dtype=bool)
        for i, p in enumerate(self.parts[start:stop]):
            out[i, p] = True
        return out


#: The default window and stride of a sequence's ``'windows'`` (on inputs of at least 32 positions)
DEFAULT_WINDOW, DEFAULT_STRIDE = 8, 2


@dataclass(frozen=True)
class WindowOptions:
    """The options of a ``'windows'`` partition of positions (checked by :func:`windows`)."""

    window: int | None = None  #: positions per window (unset: 8, a quarter of a shorter input, at least 1)
    stride: int | None = None  #: positions between window starts (unset: 2, at most the window)

    def __post_init__(self) -> None:
        require("window", self.window, ">= 1", lambda v: v is None or v >= 1)
        require("stride", self.stride, ">= 1", lambda v: v is None or v >= 1)

    def sized(self, length: int) -> WindowOptions:
        """These options on an input of ``length`` positions: an unset window is 8, or a quarter of a shorter input
        (a six-feature row gets one feature a part: one window of 8 made its map constant); an unset stride 2, at
        most the window."""
        window = self.window if self.window is not None else max(1, min(DEFAULT_WINDOW, length // 4))
        stride = self.stride if self.stride is not None else min(DEFAULT_STRIDE, window)
        return replace(self, window=window, stride=stride)


def window_starts(length: int, size: int, stride: int) -> list[int]:
    """Starts every ``stride`` positions, plus a last window flush with the end, so every position is kept."""
    last = max(length - size, 0)
    starts = list(range(0, last + 1, stride))
    return starts if starts[-1] == last else [*starts, last]


def windows(length: int, size: int, stride: int = 1) -> IndexPartition:
    """Sliding windows of ``size`` positions every ``stride`` (PAMI Strategy I in 1-D).

    A window longer than the input is clipped to the whole input (one part).
    """
    if size < 1 or stride < 1:
        raise InputError(f"window size and stride must be >= 1, got size={size}, stride={stride}")
    if stride > size:
        raise InputError(f"stride {stride} > window size {size}: some positions would never be kept")
    return IndexPartition(length, [range(s, min(s + size, length)) for s in window_starts(length, size, stride)])


def singletons(length: int) -> IndexPartition:
    """One part per position (each word, time step or feature alone)."""
    return IndexPartition(length, [[i] for i in range(length)])


def feature_groups(n_features: int, groups: dict[str, Sequence[int]] | Sequence[Sequence[int]]) -> IndexPartition:
    """Tabular feature groups, by name (``{'age': [0], 'address': [3, 4, 5]}``) or as index lists."""
    if isinstance(groups, dict):
        return IndexPartition(n_features, list(groups.values()), names=list(groups))
    return IndexPartition(n_features, groups)
