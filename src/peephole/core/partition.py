"""Partitions: the parts x is split into, produced lazily as keep-masks.

A partition lives on a *feature shape* (``(H, W)`` for an image, ``(n_words,)`` for a text).
Parts belong to *groups*: Eq. 1 is applied inside each group, and the maps of the groups are
averaged with equal weight (PAMI Strategy II averages the maps of several segmentations).
Masks are usually bool; a soft partition (RISE, Score-CAM) gives float masks in [0, 1].

Every partition that a saved explanation keeps round-trips as data: :meth:`Partition.state` gives
JSON parameters and arrays, :meth:`Partition.from_state` rebuilds it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from scipy.sparse import csr_array

from peephole.errors import InputError

State = tuple[dict[str, Any], dict[str, np.ndarray]]

#: What a saved partition may declare. Each :meth:`Partition.from_state` checks its parameters against these
#: before it allocates anything, so a small file cannot make loading take gigabytes. ``MAX_PARTS`` also bounds the
#: queries a method may be asked to plan up front (LIME's ``n_samples``, HSIC's and Sobol's ``n_designs``, RISE's
#: ``n_masks``): beyond it their designs alone would take gigabytes.
MAX_FEATURES = 1 << 27  #: features of the input (an 11585×11585 image)
MAX_PARTS = 1 << 22  #: parts (model queries)
#: Mask elements of the block of parts that coalitions and paintings build at once (:func:`blocks`).
BLOCK_ELEMENTS = 1 << 22


def saved_params(kind: str, params: Any, **types: Any) -> dict[str, Any]:
    """``params`` of a saved partition, checked: a dict with exactly the keys ``types`` names, each value of
    its type (``int`` excludes ``bool``; ``float`` accepts ints). An :class:`InputError` otherwise."""
    if not isinstance(params, dict) or set(params) != set(types):
        got = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise InputError(f"saved {kind}: parameters {got}, expected {sorted(types)}")
    for key, want in types.items():
        v = params[key]
        wants = want if isinstance(want, tuple) else (want,)
        ok = any(
            (w is int and isinstance(v, int) and not isinstance(v, bool))
            or (w is float and isinstance(v, (int, float)) and not isinstance(v, bool))
            or (w is None and v is None)
            or (w not in (int, float, None) and isinstance(v, w))
            for w in wants
        )
        if not ok:
            raise InputError(f"saved {kind}: parameter {key!r} is {type(v).__name__} {str(v)[:80]!r}")
    return params


def saved_array(kind: str, arrays: dict[str, np.ndarray], key: str, dtypes: str, ndim: int | None = None) -> np.ndarray:
    """The saved array ``key``, checked: present, of a dtype kind in ``dtypes`` (``'b'``, ``'i'``, ``'u'``, ``'f'``)
    and, when given, of ``ndim`` dimensions."""
    a = arrays.get(key)
    if not isinstance(a, np.ndarray):
        raise InputError(f"saved {kind}: array {key!r} is missing")
    if a.dtype.kind not in dtypes or (ndim is not None and a.ndim != ndim):
        raise InputError(f"saved {kind}: array {key!r} is {a.dtype} of shape {a.shape}")
    return a


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def check_limit(kind: str, what: str, n: int, limit: int) -> None:
    """An :class:`InputError` when a saved partition declares more than ``limit`` of ``what``."""
    if n > limit:
        raise InputError(f"saved {kind} declares {n} {what}, more than Peephole loads ({limit})")


class Partition(ABC):
    """A set of parts over ``shape``; ``masks(start, stop)`` builds only the masks asked for."""

    shape: tuple[int, ...]

    @property
    @abstractmethod
    def n_parts(self) -> int:
        """Number of parts (one model query each)."""

    @property
    def groups(self) -> np.ndarray:
        """Group index of every part, shape ``(n_parts,)``, values ``0..n_groups-1`` (default: one group)."""
        return np.zeros(self.n_parts, np.int64)

    @abstractmethod
    def masks(self, start: int, stop: int) -> np.ndarray:
        """Keep-masks of parts ``start..stop-1``: array ``(stop - start, *shape)``."""

    def sparse_masks(self, start: int, stop: int) -> csr_array:
        """The masks of parts ``start..stop-1`` as a sparse ``(stop - start, n_features)`` float32 matrix
        (what :func:`union` and :func:`paint` are made of); built from :meth:`masks` unless overridden."""
        return csr_array(self.masks(start, stop).reshape(stop - start, -1).astype(np.float32))

    @property
    def block_parts(self) -> int:
        """Parts :func:`blocks` takes at once: as many as fit in :data:`BLOCK_ELEMENTS` mask elements."""
        return max(1, BLOCK_ELEMENTS // max(1, self.part_elements))

    @property
    def part_elements(self) -> int:
        """The most elements one part takes while :meth:`sparse_masks` builds it (default: a dense mask)."""
        return int(np.prod(self.shape))

    @property
    def n_groups(self) -> int:
        return int(self.groups.max()) + 1 if self.n_parts else 0

    def state(self) -> State:
        """``(params, arrays)`` from which :meth:`from_state` rebuilds this partition."""
        raise NotImplementedError(f"{type(self).__name__} cannot be saved")

    @classmethod
    def from_state(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> Partition:
        """The partition :meth:`state` described."""
        raise NotImplementedError(f"{cls.__name__} cannot be loaded")


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

    def state(self) -> State:
        return {}, {"masks": self._masks, "groups": self._groups}

    @classmethod
    def from_state(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> MaskPartition:
        saved_params(cls.__name__, params)
        masks = saved_array(cls.__name__, arrays, "masks", "b")
        return cls(masks, saved_array(cls.__name__, arrays, "groups", "iu", 1))


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
        self._codes: list[np.ndarray] | None = None  # per map, each feature's part index (sparse_masks)

    @property
    def n_parts(self) -> int:
        return len(self._parts)

    @property
    def groups(self) -> np.ndarray:
        return self._groups

    def masks(self, start: int, stop: int) -> np.ndarray:
        return np.stack([self.label_maps[g] == lab for g, lab in self._parts[start:stop]])

    @property
    def block_parts(self) -> int:
        return max(1, self.n_parts)  # sparse_masks holds one entry per feature and label map, whatever the parts

    def sparse_masks(self, start: int, stop: int) -> csr_array:
        """From each label map's part index per feature (made once, int32): one entry per feature and map."""
        if self._codes is None:
            first = np.cumsum([0] + [int(np.sum(self._groups == g)) for g in range(len(self.label_maps) - 1)])
            self._codes = [
                (np.unique(m, return_inverse=True)[1].reshape(-1) + f).astype(np.int32) for m, f in zip(self.label_maps, first)
            ]
        rows, cols = [], []
        for codes in self._codes:
            at = np.flatnonzero((codes >= start) & (codes < stop))
            rows.append(codes[at] - start)
            cols.append(at)
        r, c = np.concatenate(rows), np.concatenate(cols)
        return csr_array((np.ones(len(r), np.float32), (r, c)), shape=(stop - start, int(np.prod(self.shape))))

    def state(self) -> State:
        return {}, {"labels": np.stack(self.label_maps)}

    @classmethod
    def from_state(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> LabelPartition:
        saved_params(cls.__name__, params)
        labels = saved_array(cls.__name__, arrays, "labels", "iu")
        if labels.ndim < 2 or not len(labels):
            raise InputError(f"saved {cls.__name__}: labels of shape {labels.shape}, expected (n_maps, *shape)")
        return cls(list(labels))


class Complement(Partition):
    """The parts of ``inner`` turned inside out: part j keeps everything but ``inner``'s part j (occlusion)."""

    def __init__(self, inner: Partition) -> None:
        self.inner, self.shape = inner, inner.shape

    @property
    def n_parts(self) -> int:
        return self.inner.n_parts

    @property
    def groups(self) -> np.ndarray:
        return self.inner.groups

    def masks(self, start: int, stop: int) -> np.ndarray:
        return ~self.inner.masks(start, stop)

    def state(self) -> State:
        from peephole.core.state import class_path

        params, arrays = self.inner.state()
        return {"inner": class_path(self.inner), "inner_params": params}, arrays

    @classmethod
    def from_state(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> Complement:
        from peephole.core.state import resolve

        saved_params(cls.__name__, params, inner=str, inner_params=dict)
        return cls(resolve(params["inner"], Partition).from_state(params["inner_params"], arrays))


class Coalitions(Partition):
    """Unions of the parts of ``parts``: query i keeps part j where ``z[i, j]`` (LIME, KernelSHAP samples).

    A feature is kept when any kept part covers it; with disjoint parts (one segmentation) this is
    exactly LIME's ``z[labels]``. With several groups of parts (PAMI's overlapping segmentations),
    ``row_groups[i]`` names the group whose parts query i draws from (the samplers leave the other
    groups' parts off): each segmentation gets its own coalitions, and its own surrogate fit.
    """

    def __init__(self, parts: Partition, z: np.ndarray, row_groups: np.ndarray | None = None) -> None:
        z = np.asarray(z, bool)
        if z.ndim != 2 or z.shape[1] != parts.n_parts:
            raise InputError(f"coalitions must be (n_samples, {parts.n_parts}) on/off vectors, got shape {z.shape}")
        rows = np.zeros(len(z), np.int64) if row_groups is None else np.asarray(row_groups, np.int64)
        if rows.shape != (len(z),):
            raise InputError(f"row_groups must give one group per coalition ({len(z)}), got shape {rows.shape}")
        self.parts, self.z, self.row_groups, self.shape = parts, z, rows, parts.shape

    @property
    def n_parts(self) -> int:
        return len(self.z)

    @property
    def groups(self) -> np.ndarray:
        return self.row_groups

    def masks(self, start: int, stop: int) -> np.ndarray:
        return union(self.parts, self.z[start:stop]).reshape(stop - start, *self.shape)

    def paint(self, weights: np.ndarray, density: bool = False) -> np.ndarray:
        """Maps ``(K, *shape)`` from per-part ``weights`` ``(K, n_parts)``: a feature's mean over the parts
        covering it (one per group: the groups' maps averaged, as in Eq. 1). ``density``: a part's weight
        is spread over its features (``w_j / |part j|``), so each group's map sums to its weights."""
        return paint(self.parts, weights, density).reshape((-1, *self.shape))

    def state(self) -> State:
        from peephole.core.state import class_path

        params, arrays = self.parts.state()
        return {"parts": class_path(self.parts), "parts_params": params}, {
            **arrays,
            "coalitions": self.z,
            "row_groups": self.row_groups,
        }

    @classmethod
    def from_state(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> Coalitions:
        from peephole.core.state import resolve

        saved_params(cls.__name__, params, parts=str, parts_params=dict)
        z = saved_array(cls.__name__, arrays, "coalitions", "biu", 2)
        rows = saved_array(cls.__name__, arrays, "row_groups", "iu", 1)
        check_limit(cls.__name__, "coalitions", len(z), MAX_PARTS)
        inner = {k: v for k, v in arrays.items() if k not in ("coalitions", "row_groups")}
        parts = resolve(params["parts"], Partition).from_state(params["parts_params"], inner)
        return cls(parts, z, rows)


class FunctionPartition(Partition):
    """``n_parts`` masks made on demand by ``make(start, stop)``; one group (not saved with a result)."""

    def __init__(self, shape: tuple[int, ...], n_parts: int, make: Callable[[int, int], np.ndarray]) -> None:
        self.shape, self._n, self._make = tuple(shape), int(n_parts), make

    @property
    def n_parts(self) -> int:
        return self._n

    def masks(self, start: int, stop: int) -> np.ndarray:
        return self._make(start, stop)


class PartSubset(Partition):
    """The parts ``parts`` of ``inner`` (indices, in query order), each keeping its group; the groups are
    renumbered ``0..`` in order of first appearance (``group_ids``: the inner group of each). A group of
    which only some parts are kept is a partially queried segmentation (adaptive PAMI's refinement).
    ``empty=True`` adds one last part, the empty keep-mask (nothing kept: f(∅)), as a group of its own,
    which :class:`~peephole.core.aggregate.FilledEq1Aggregator` reads."""

    def __init__(self, inner: Partition, parts: Sequence[int], empty: bool = False) -> None:
        self.inner, self.shape, self.empty = inner, inner.shape, bool(empty)
        self.index = np.asarray(parts, dtype=np.int64).reshape(-1)
        if self.index.size and (self.index.min() < 0 or self.index.max() >= inner.n_parts):
            raise InputError(f"part indices must be in 0..{inner.n_parts - 1}")
        if np.unique(self.index).size != self.index.size:
            raise InputError("a part is listed twice")
        inner_groups = inner.groups[self.index]
        self.group_ids = [int(g) for g in dict.fromkeys(inner_groups.tolist())]
        renumber = {g: i for i, g in enumerate(self.group_ids)}
        self._groups = np.array([renumber[int(g)] for g in inner_groups] + [len(renumber)] * self.empty, dtype=np.int64)

    @property
    def n_parts(self) -> int:
        return len(self.index) + self.empty

    @property
    def groups(self) -> np.ndarray:
        return self._groups

    def masks(self, start: int, stop: int) -> np.ndarray:
        idx = self.index[start:stop]
        runs = np.split(idx, np.flatnonzero(np.diff(idx) != 1) + 1)  # contiguous runs of inner parts
        kept = [self.inner.masks(int(r[0]), int(r[-1]) + 1) for r in runs if len(r)]
        if self.empty and stop >= self.n_parts > start:
            kept.append(np.zeros((1, *self.shape), bool))
        return np.concatenate(kept)

    def _inner_state(self) -> State:
        from peephole.core.state import class_path

        params, arrays = self.inner.state()
        return {"inner": class_path(self.inner), "inner_params": params}, arrays

    def state(self) -> State:
        params, arrays = self._inner_state()
        return {**params, "parts": self.index.tolist(), "empty": self.empty}, arrays

    @staticmethod
    def _inner_from_state(params: dict[str, Any], arrays: dict[str, np.ndarray]) -> Partition:
        from peephole.core.state import resolve

        return resolve(params["inner"], Partition).from_state(params["inner_params"], arrays)

    @classmethod
    def from_state(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> PartSubset:
        saved_params(cls.__name__, params, inner=str, inner_params=dict, parts=list, empty=bool)
        if not all(_is_int(j) for j in params["parts"]):
            raise InputError(f"saved {cls.__name__}: parts must be a list of part indices")
        return cls(cls._inner_from_state(params, arrays), params["parts"], params["empty"])


class GroupSubset(PartSubset):
    """The parts of ``inner`` whose group is in ``groups``, regrouped ``0..len(groups)-1`` in that order
    (the whole segmentations an adaptive run used)."""

    def __init__(self, inner: Partition, groups: Sequence[int]) -> None:
        g = inner.groups
        picked = [np.flatnonzero(g == int(k)) for k in groups]
        super().__init__(inner, np.concatenate(picked) if picked else np.zeros(0, np.int64))
        self.group_ids = [int(k) for k in groups]

    def state(self) -> State:
        params, arrays = self._inner_state()
        return {**params, "groups": self.group_ids}, arrays

    @classmethod
    def from_state(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> GroupSubset:
        saved_params(cls.__name__, params, inner=str, inner_params=dict, groups=list)
        inner = cls._inner_from_state(params, arrays)
        groups, n = params["groups"], inner.n_groups
        if len(set(map(repr, groups))) != len(groups) or not all(_is_int(g) and 0 <= g < n for g in groups):
            raise InputError(f"saved {cls.__name__}: groups must be distinct group indices in 0..{n - 1}")
        return cls(inner, groups)


def blocks(partition: Partition) -> Iterator[tuple[int, csr_array]]:
    """``(start, sparse masks)`` of consecutive blocks of :attr:`Partition.block_parts` parts: memory bounded by a
    block, never by the number of parts."""
    step = partition.block_parts
    for start in range(0, partition.n_parts, step):
        yield start, partition.sparse_masks(start, min(start + step, partition.n_parts))


def union(partition: Partition, z: np.ndarray) -> np.ndarray:
    """Keep-masks ``(len(z), n_features)`` of coalitions ``z`` ``(len(z), n_parts)`` bool: a feature is kept
    when some part on in its row covers it (LIME's ``z[labels]`` for disjoint parts)."""
    out = np.zeros((len(z), int(np.prod(partition.shape))), bool)
    for start, m in blocks(partition):
        on = z[:, start : start + m.shape[0]]
        if on.any():
            out |= on.astype(np.float32) @ m > 0
    return out


def paint(partition: Partition, weights: np.ndarray, density: bool = False) -> np.ndarray:
    """``(K, n_features)``: each feature's mean of ``weights`` ``(K, n_parts)`` over the parts covering it (0 where
    none does); ``density``: part j's weight divided by its size first."""
    w = np.asarray(weights, np.float64)
    total = np.zeros((len(w), int(np.prod(partition.shape))))
    covered = np.zeros(total.shape[1])
    for start, m in blocks(partition):
        wb = w[:, start : start + m.shape[0]]
        if density:
            wb = wb / np.maximum(m.sum(axis=1), 1)
        total += wb @ m
        covered += m.sum(axis=0)
    return total / np.maximum(covered, 1)


def iou_matrix(partition: Partition) -> np.ndarray:
    """Intersection over union of every pair of parts, ``(n_parts, n_parts)``. Label maps are compared by
    counting label pairs (one pass per pair of maps), other partitions by products of blocks of their masks."""
    if isinstance(partition, LabelPartition):
        idx = {gl: j for j, gl in enumerate(partition._parts)}
        inter = np.zeros((partition.n_parts, partition.n_parts))
        # per map once: its labels, each pixel's label index, and the parts those labels are
        coded = []
        for g, m in enumerate(partition.label_maps):
            labels, inverse = np.unique(m.ravel(), return_inverse=True)
            coded.append((len(labels), inverse, [idx[g, int(lab)] for lab in labels]))
        for g, (na, ia, rows) in enumerate(coded):
            for nb, ib, cols in coded[g:]:
                counts = np.bincount(ia * nb + ib, minlength=na * nb).reshape(na, nb)
                inter[np.ix_(rows, cols)] = counts
                inter[np.ix_(cols, rows)] = counts.T
    else:
        inter = np.zeros((partition.n_parts, partition.n_parts))
        for a, ma in blocks(partition):
            for b, mb in blocks(partition):
                if b >= a:
                    counts = (ma.astype(np.float64) @ mb.astype(np.float64).T).toarray()
                    inter[a : a + len(counts), b : b + counts.shape[1]] = counts
                    inter[b : b + counts.shape[1], a : a + len(counts)] = counts.T
    size = np.diag(inter).copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num(inter / (size[:, None] + size[None, :] - inter))


def near_repeats(partition: Partition, min_iou: float) -> np.ndarray:
    """For each part (in query order), the part whose output it reuses: the first earlier part of another
    group that is itself queried and overlaps it with IoU ≥ ``min_iou``; else the part itself."""
    if partition.n_groups < 2:  # no other group to repeat
        return np.arange(partition.n_parts)
    iou, groups = iou_matrix(partition), partition.groups
    rep = np.arange(partition.n_parts)
    for j in range(partition.n_parts):
        match = np.flatnonzero((iou[j, :j] >= min_iou) & (groups[:j] != groups[j]) & (rep[:j] == np.arange(j)))
        if len(match):
            rep[j] = match[0]
    return rep
