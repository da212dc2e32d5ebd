"""Designs over a tiling: one row of values per query, one value per part (HSIC and Sobol attribution, µFidelity).

The parts must tile the input once per group: each feature in exactly one part of each group (a grid of cells,
one or several segmentations, a text's words). Design row ``z_i`` (values in [0, 1] for the parts of the row's
group) becomes the keep-mask ``z_i[label(feature)]``: 0/1 for HSIC's binary designs, soft for Sobol's (the hidden
share of a pixel then blends towards the masker's baseline, as Xplique's perturbation functions do). Masks are
built per query batch from the label maps: memory O(batch × features), whatever the number of parts or designs.
A partition of several groups (PAMI's segmentations) gives each group its own block of designs and its own
estimates; the groups' maps are averaged (as Eq. 1 averages them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from peephole.core.aggregate import Aggregator
from peephole.core.partition import MAX_FEATURES, MAX_PARTS, Partition, State, check_limit, saved_array, saved_params
from peephole.errors import InputError


def tiling_labels(parts: Partition, batch: int = 64) -> np.ndarray:
    """``(n_groups, *shape)`` int64: the (global) index of the part of each group that covers each feature.

    An :class:`InputError` when a feature lies in no part or in two parts of one group (sliding windows)."""
    n = int(np.prod(parts.shape))
    labels = np.full((parts.n_groups, n), -1, np.int64)
    groups = parts.groups
    for start in range(0, parts.n_parts, batch):
        stop = min(start + batch, parts.n_parts)
        masks = np.asarray(parts.masks(start, stop))
        if masks.dtype != bool:
            raise InputError("designs need parts given as boolean masks, not soft masks")
        for j, keep in zip(range(start, stop), masks.reshape(stop - start, n)):
            lab = labels[groups[j]]
            if (lab[keep] >= 0).any():
                raise InputError(
                    f"part {j} overlaps another part of its group: HSIC and Sobol need parts that tile the input "
                    "(e.g. 'grid', 'slic' or 'superpixels' on images, words on texts), not sliding windows"
                )
            lab[keep] = j
    if (labels < 0).any():
        raise InputError("some features lie in no part: HSIC and Sobol need parts that tile the input")
    return labels.reshape(parts.n_groups, *parts.shape)


class Designs(Partition):
    """Query i keeps feature f with weight ``z[i, labels[row_groups[i], f]]`` (bool when ``soft`` is False)."""

    def __init__(self, labels: np.ndarray, z: np.ndarray, row_groups: np.ndarray, soft: bool = False) -> None:
        labels, z, rows = np.asarray(labels, np.int64), np.asarray(z, np.float32), np.asarray(row_groups, np.int64)
        if labels.ndim < 2 or z.ndim != 2 or rows.shape != (len(z),):
            raise InputError(f"designs: labels {labels.shape}, z {z.shape}, row groups {rows.shape} do not fit")
        if labels.size and (labels.min() < 0 or labels.max() >= z.shape[1]):
            raise InputError(f"designs: labels name parts outside 0..{z.shape[1] - 1}")
        if len(rows) and (rows.min() < 0 or rows.max() >= len(labels)):
            raise InputError(f"designs: row groups outside 0..{len(labels) - 1}")
        self.labels, self.z, self.row_groups, self.soft = labels, z, rows, bool(soft)
        self.shape = tuple(labels.shape[1:])
        self._flat = labels.reshape(len(labels), -1)

    @property
    def n_parts(self) -> int:
        return len(self.z)

    @property
    def groups(self) -> np.ndarray:
        return self.row_groups

    def masks(self, start: int, stop: int) -> np.ndarray:
        vals = np.take_along_axis(self.z[start:stop], self._flat[self.row_groups[start:stop]], axis=1)
        out = vals if self.soft else vals > 0.5
        return out.reshape(stop - start, *self.shape)

    def columns(self, g: int) -> tuple[np.ndarray, np.ndarray]:
        """The rows (queries) of group ``g`` and its parts (columns of ``z``), both in order."""
        return np.flatnonzero(self.row_groups == g), np.unique(self._flat[g])

    def paint(self, weights: np.ndarray) -> np.ndarray:
        """Maps ``(K, *shape)`` float32 from per-part ``weights`` ``(K, n_parts of z)``, the groups averaged."""
        return weights[:, self._flat].mean(axis=1).reshape(-1, *self.shape).astype(np.float32)

    def state(self) -> State:
        return {"soft": self.soft}, {"labels": self.labels, "z": self.z, "row_groups": self.row_groups}

    @classmethod
    def from_state(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> Designs:
        soft = saved_params(cls.__name__, params, soft=bool)["soft"]
        labels = saved_array(cls.__name__, arrays, "labels", "iu")
        z = saved_array(cls.__name__, arrays, "z", "f", 2)
        check_limit(cls.__name__, "features", int(np.prod(labels.shape[1:], dtype=np.int64)), MAX_FEATURES)
        check_limit(cls.__name__, "designs", len(z), MAX_PARTS)
        return cls(labels, z, saved_array(cls.__name__, arrays, "row_groups", "iu", 1), soft)


class DesignAggregator(Aggregator):
    """Keeps every query's outputs; :meth:`estimate` turns one group's designs and outputs into one value per part.

    ``grid_cells=c`` (parts: one ``c×c`` grid, cells numbered row-major): the maps are the cells' values resized
    to the input by cubic interpolation (Xplique's bicubic resize of its grid) instead of painted cell by cell."""

    partition: Designs

    def __init__(self, partition: Designs, reference: np.ndarray, grid_cells: int = 0, **params: Any) -> None:
        super().__init__(partition, reference, grid_cells=int(grid_cells), **params)
        self.rows: list[np.ndarray] = []

    def add(self, start: int, masks: np.ndarray, scores: np.ndarray) -> None:
        self.rows.append(np.asarray(scores, np.float64))

    def estimate(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``(K, d)`` values of the ``d`` parts from designs ``z`` ``(n, d)`` and outputs ``y`` ``(n, K)``."""
        raise NotImplementedError

    def maps(self) -> np.ndarray:
        part = self.partition
        y = np.concatenate(self.rows) if self.rows else np.zeros((0, self.n_targets))
        weights = np.zeros((self.n_targets, part.z.shape[1]))
        for g in range(len(part.labels)):
            rows, cols = part.columns(g)
            weights[:, cols] = self.estimate(part.z[np.ix_(rows, cols)].astype(np.float64), y[rows])
        cells = self.params["grid_cells"]
        if not cells:
            return part.paint(weights)
        from scipy.ndimage import zoom

        if len(part.labels) != 1 or weights.shape[1] != cells * cells or len(part.shape) != 2:
            raise InputError(f"a cubic resize needs the parts of one {cells}×{cells} grid over an image")
        grid = weights.reshape(-1, cells, cells)
        factors = (1, part.shape[0] / cells, part.shape[1] / cells)
        return zoom(grid, factors, order=3, mode="nearest", grid_mode=True)[:, : part.shape[0], : part.shape[1]].astype(
            np.float32
        )
