"""PAMI on images (Shi et al., Pattern Recognition 2024): keep one part, blur the rest, Eq. 1."""

from __future__ import annotations

from collections.abc import Sequence
from time import perf_counter
from typing import Any

import numpy as np

from peephole.engine.partition import Partition
from peephole.engine.perturb import Masker
from peephole.engine.run import run
from peephole.errors import InputError
from peephole.explanation import Explanation
from peephole.image.maskers import BlurMasker, ConstantMasker
from peephole.image.overlay import normalise
from peephole.image.superpixels import PAPER_SEGMENTATIONS, Segmentation, Superpixels
from peephole.image.windows import SlidingWindows
from peephole.methods.setup import prepare

STRATEGIES = ("superpixels", "window")


def make_partition(
    image: np.ndarray,
    partition: str | Partition | np.ndarray | Sequence[np.ndarray],
    radius: int = 40,
    stride: int = 6,
    window: str = "circle",
    segmentations: Sequence[Segmentation] = PAPER_SEGMENTATIONS,
) -> Partition:
    """A partition by strategy name (``'window'``: Strategy I, ``'superpixels'``: II), or user label maps."""
    h, w = image.shape[:2]
    if isinstance(partition, Partition):
        if partition.shape != (h, w):
            raise InputError(f"partition of shape {partition.shape} does not match the image ({h}×{w})")
        return partition
    if isinstance(partition, str):
        if partition == "window":
            return SlidingWindows(h, w, radius=radius, stride=stride, shape=window)
        if partition == "superpixels":
            return Superpixels.from_image(image, segmentations)
        raise InputError(f"unknown partition strategy {partition!r}; use one of {STRATEGIES}, a Partition or label maps")
    sp = Superpixels(partition)
    if sp.shape != (h, w):
        raise InputError(f"label maps of shape {sp.shape} do not match the image ({h}×{w})")
    return sp


def make_masker(masker: str | Masker) -> Masker:
    """``'blur'`` (default), ``'black'``, ``'white'``, ``'grey'``, ``'mean'``, or a :class:`Masker`."""
    if isinstance(masker, Masker):
        return masker
    if masker == "blur":
        return BlurMasker()
    if masker in ("black", "white", "grey", "gray", "mean"):
        return ConstantMasker(masker)
    raise InputError(f"unknown masker {masker!r}; use 'blur', 'black', 'white', 'grey', 'mean' or a Masker")


def pami(
    model: Any,
    image: Any,
    partition: str | Partition | np.ndarray | Sequence[np.ndarray] = "superpixels",
    masker: str | Masker = "blur",
    targets: int | Sequence[int] | None = None,
    top_k: int = 1,
    batch_size: int | None = None,
    second_run: bool = False,
    seed: int = 0,
    progress: bool = False,
    output: str | None = None,
    radius: int = 40,
    stride: int = 6,
    window: str = "circle",
    segmentations: Sequence[Segmentation] = PAPER_SEGMENTATIONS,
) -> Explanation:
    """Explain ``model``'s prediction on ``image`` with PAMI.

    One set of queries yields the maps of all ``targets`` (default: the ``top_k`` predicted
    classes); the outputs of every part are kept, so :meth:`Explanation.map_for` gives any other
    class for free. ``second_run`` segments each first-run map with the same segmenters and runs
    PAMI again on the original image with those parts (one more set of queries per target).
    ``seed`` seeds OpenCV's random generator (SEEDS); the same call gives the same map.
    """
    t0 = perf_counter()
    s = prepare(model, image, targets, top_k, batch_size, output)
    import cv2

    cv2.setRNGSeed(seed)
    tp = perf_counter()
    part = make_partition(s.image, partition, radius, stride, window, segmentations)
    t_segment = perf_counter() - tp
    mask = make_masker(masker)
    first = run(s.query, s.image, part, mask, s.targets, s.batch_size, progress, desc="PAMI run 1")
    timings = {"segment": t_segment, **first.timings}
    second = None
    if second_run:
        tp = perf_counter()
        second = np.stack(
            [
                run(
                    s.query,
                    s.image,
                    Superpixels.from_image(normalise(m), segmentations),
                    mask,
                    [t],
                    s.batch_size,
                    progress,
                    desc=f"PAMI run 2, class {t}",
                ).maps[0]
                for t, m in zip(s.targets, first.maps)
            ]
        )
        timings["second_run"] = perf_counter() - tp
    timings["total"] = perf_counter() - t0
    return s.explanation(
        Explanation,
        "pami",
        s.image,
        second if second is not None else first.maps,
        first.scores,
        first_run_maps=first.maps,
        second_run_maps=second,
        timings=timings,
        partition=part,
        params={
            "partition": partition if isinstance(partition, str) else type(part).__name__,
            "masker": masker if isinstance(masker, str) else type(mask).__name__,
            "batch_size": s.batch_size,
            "second_run": second_run,
            "seed": seed,
            "n_parts": part.n_parts,
        },
    )
