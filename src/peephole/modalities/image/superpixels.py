"""PAMI Strategy II: pre-segmentation into superpixels, several algorithms and settings averaged."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from peephole.core.options import require, require_finite, seed32
from peephole.core.partition import LabelPartition, State, saved_array, saved_params
from peephole.errors import InputError
from peephole.modalities.image.segment_cache import SEGMENTS, image_digest
from peephole.modalities.image.segmenters import SEGMENTERS

#: Parameter values a kept segmentation may be keyed on (their ``repr`` names them exactly).
_SCALARS = (bool, int, float, str, np.bool_, np.integer, np.floating)


@dataclass(frozen=True)
class Segmentation:
    """One segmentation setting: an algorithm name from :data:`SEGMENTERS` (or a callable) and its parameters."""

    method: str | Callable[..., np.ndarray]
    params: Mapping[str, Any] = field(default_factory=dict)

    def __call__(self, img: np.ndarray) -> np.ndarray:
        fn = SEGMENTERS.get(self.method) if isinstance(self.method, str) else self.method
        if fn is None:
            raise InputError(f"unknown segmentation method {self.method!r}; choose from {sorted(SEGMENTERS)}")
        labels = np.asarray(fn(img, **self.params))
        if labels.shape != img.shape[:2]:
            raise InputError(f"segmenter {self.name} returned labels of shape {labels.shape} for an image of {img.shape[:2]}")
        return labels.astype(np.int64)

    @property
    def key(self) -> tuple | None:
        """What a kept label map of this setting is keyed on (with the image and seed): None for a callable
        algorithm or a parameter that is not a number or a string (such settings are segmented every time)."""
        if not isinstance(self.method, str) or not all(isinstance(v, _SCALARS) for v in self.params.values()):
            return None
        return (self.method, repr(sorted(self.params.items())))

    @property
    def name(self) -> str:
        m = self.method if isinstance(self.method, str) else getattr(self.method, "__name__", "custom")
        return m + "(" + ", ".join(f"{k}={v}" for k, v in self.params.items()) + ")"


#: The paper's default settings (Table 3): 6 Felzenszwalb, 8 SLIC, 3 SEEDS, 3 watershed.
PAPER_SEGMENTATIONS: tuple[Segmentation, ...] = (
    *(Segmentation("felzenszwalb", {"scale": s, "sigma": 0.8, "min_size": 784}) for s in (250, 200, 150, 100, 70, 50)),
    *(Segmentation("slic", {"n_segments": n, "compactness": 20}) for n in range(10, 90, 10)),
    *(Segmentation("seeds", {"num_superpixels": n, "num_levels": 5, "n_iter": 10}) for n in (10, 20, 30)),
    *(Segmentation("watershed", {"markers": n, "compactness": 1e-4}) for n in (10, 20, 30)),
)


@dataclass(frozen=True)
class SuperpixelOptions:
    """The options of the ``'superpixels'`` partition: the segmentation settings, one group of parts each."""

    segmentations: Sequence[Segmentation] = PAPER_SEGMENTATIONS  #: default: the paper's Table 3 (20 settings)


@dataclass(frozen=True)
class SlicOptions:
    """The options of the ``'slic'`` partition: one SLIC segmentation (LIME's ~50 superpixels by default)."""

    n_segments: int = 50  #: about how many superpixels
    compactness: float = 20  #: SLIC's colour / space trade-off (higher: more square superpixels)

    def __post_init__(self) -> None:
        require("n_segments", self.n_segments, ">= 1", lambda v: v >= 1)
        require_finite("compactness", self.compactness, 0, strict=True)


@dataclass(frozen=True)
class SlicsOptions:
    """The options of the ``'slics'`` partition: several SLIC segmentations, one group of parts each."""

    segments: tuple[int, ...] = (40, 60)  #: about how many superpixels in each segmentation (PAMI path's default)
    compactness: float = 20  #: SLIC's colour / space trade-off, every segmentation

    def __post_init__(self) -> None:
        require("segments", self.segments, "one or more counts, each >= 1", lambda v: len(v) >= 1 and min(v) >= 1)
        require_finite("compactness", self.compactness, 0, strict=True)


class Superpixels(LabelPartition):
    """Parts = superpixels of several segmentations; each segmentation is one group (maps averaged).

    Build from an image with :meth:`from_image`, or pass label maps directly (e.g. from a
    segmentation model).
    """

    def __init__(self, labels: np.ndarray | Sequence[np.ndarray], names: Sequence[str] | None = None) -> None:
        super().__init__(labels)
        if len(self.shape) != 2:
            raise InputError(f"superpixel label maps must be 2-D (H×W), got shape {self.shape}")
        self.names = list(names) if names is not None else [f"labels[{i}]" for i in range(len(self.label_maps))]

    def state(self) -> State:
        return {"names": self.names}, {"labels": np.stack(self.label_maps)}

    @classmethod
    def from_state(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> Superpixels:
        names = saved_params(cls.__name__, params, names=list)["names"]
        labels = saved_array(cls.__name__, arrays, "labels", "iu", 3)
        if len(names) != len(labels) or not all(isinstance(n, str) for n in names):
            raise InputError(f"saved {cls.__name__}: {len(names)} names for {len(labels)} segmentations")
        return cls(list(labels), names)

    @classmethod
    def from_image(
        cls,
        img: np.ndarray,
        segmentations: Sequence[Segmentation] = PAPER_SEGMENTATIONS,
        workers: int | None = None,
        seed: int | None = None,
    ) -> Superpixels:
        """Segment ``img`` (H×W×3 in [0,1], or an H×W map for the second run) with every setting.

        The settings run in ``workers`` threads (default: one per CPU core); scikit-image and
        OpenCV release the GIL, so 20 settings take about half the time on 2 cores.
        ``seed``: OpenCV's generator is seeded with it first (SEEDS), and the label maps of named settings are
        kept in :data:`~peephole.modalities.image.segment_cache.SEGMENTS`: the same image, setting and seed
        again reuse them (the same labels). None: the generator is left as it is and nothing is kept.
        """
        if not segmentations:
            raise InputError("at least one segmentation setting is needed")
        img = np.asarray(img, dtype=np.float64)
        keys: list[tuple | None] = [None] * len(segmentations)
        if seed is not None:
            import cv2

            cv2.setRNGSeed(seed32(seed))  # OpenCV takes a 32-bit seed
            digest = image_digest(img)
            keys = [None if s.key is None else (digest, *s.key, seed) for s in segmentations]
        labels = [None if k is None else SEGMENTS.get(k) for k in keys]
        missing = [i for i, lab in enumerate(labels) if lab is None]
        workers = min(workers or os.cpu_count() or 1, len(missing))
        if workers <= 1:
            made = [segmentations[i](img) for i in missing]
        else:
            with ThreadPoolExecutor(workers) as pool:
                made = list(pool.map(lambda i: segmentations[i](img), missing))
        for i, lab in zip(missing, made):
            labels[i] = lab
            if keys[i] is not None:
                SEGMENTS.put(keys[i], lab)
        return cls(labels, [s.name for s in segmentations])
