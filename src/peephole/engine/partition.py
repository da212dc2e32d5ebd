"""Partitions: the parts x is split into, produced lazily as boolean keep-masks.

A partition lives on a *feature shape* (``(H, W)`` for an image, ``(n_words,)`` for a text).
Parts belong to *groups*: Eq. 1 is applied inside each group, and the maps of the groups are
averaged with equal weight (PAMI Strategy II averages the maps of several segmentations).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from peephole.errors import InputError


class Partition(ABC):
    """A set of parts over ``shape``; ``masks(start, stop)`` builds only the masks asked for."""

    shape: tuple[int, ...]

    @property
    @abstractmethod
    def n_parts(self) -> int:
        """Number of parts (one model query each)."""

    @property
    @abstractmethod
    def groups(self) -> np.ndarray:
        """Group index of every part, shape ``(n_parts,)``, values ``0..n_groups-1``."""

    @abstractmethod
    def masks(self, start: int, stop: int) -> np.ndarray:
        """Keep-masks of parts ``start..stop-1``: bool array ``(stop - start, *shape)``."""

    @property
    def n_groups(self) -> int:
        return int(self.groups.max()) + 1 if self.n_parts else 0


class MaskPartition(Partition):
    """Parts given explicitly as keep-masks ``(n_parts, *shape)`` (may overlap), optionally grouped."""

    def __init__(self, masks: np.ndarray, groups: np.ndarray | None = None) -> None:
        m = np.asarray(masks)
        if m.ndim < 2 or m.dtype != bool:
            raise InputError(f"masks must be a bool array (n_parts, *shape), got {m.dtype} of shape {m.shape}")
        g = np.zeros(len(m), np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
        if g.shape != (len(m),) or (len(g) and (g.min() < 0 or np.setdiff1d(np.arange(g.max() + 1), g).size)):
            raise InputError("groups must give each part an index, using every value 0..n_groups-1")
        self.shape, self._masks, self._groups = tuple(m.shape[1:]), m, g

    @property
    def n_parts(self) -> int:
        return len(self._masks)

    @property
    def groups(self) -> np.ndarray:
        return self._groups

    def masks(self, start: int, stop: int) -> np.ndarray:
        return self._masks[start:stop]


class LabelPartition(Partition):
    """Parts given by one or more label maps over the feature shape.

    Each label map is one group; each distinct label in it is one part (a superpixel, a word
    group, a tabular feature group). Labels need not be consecutive.
    """

    def __init__(self, labels: np.ndarray | Sequence[np.ndarray]) -> None:
        maps = [np.asarray(labels)] if isinstance(labels, np.ndarray) else [np.asarray(m) for m in labels]
        if not maps:
            raise InputError("LabelPartition needs at least one label map")
        shape = maps[0].shape
        for m in maps:
            if m.shape != shape:
                raise InputError(f"label maps disagree in shape: {m.shape} vs {shape}")
            if not np.issubdtype(m.dtype, np.integer):
                raise InputError(f"label maps must hold integers, got dtype {m.dtype}")
        self.shape = tuple(shape)
        self.label_maps = maps
        self._parts: list[tuple[int, int]] = []  # (map index, label)
        for g, m in enumerate(maps):
            self._parts.extend((g, int(lab)) for lab in np.unique(m))
        self._groups = np.array([g for g, _ in self._parts], dtype=np.int64)

    @property
    def n_parts(self) -> int:
        return len(self._parts)

    @property
    def groups(self) -> np.ndarray:
        return self._groups

    def masks(self, start: int, stop: int) -> np.ndarray:
        return np.stack([self.label_maps[g] == lab for g, lab in self._parts[start:stop]])
