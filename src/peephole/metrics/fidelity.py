"""µFidelity (Bhatt, Weller & Moura, "Evaluating and Aggregating Feature-based Model Explanations", IJCAI 2020,
Def. 3), as Xplique's ``MuFidelity``: does the map's mass over a removed subset predict the output drop?

``n_samples`` times, each region (a cell of a ``cells×cells`` grid, Xplique's default 9, or a superpixel) is
removed with probability ``subset_percent`` (seeded); the removed regions take the ``fill`` (default black,
Xplique's baseline 0). µF = Corr(Σ_{i∈S} map_i, f(x) − f(x with S filled)) over the samples: Pearson, as in
the paper (Xplique uses Spearman: ``correlation='spearman'``); 0 when either side does not vary (Xplique's rule).
Unlike a curve it needs calibrated magnitudes, not only ranks. Cost: ``n_samples + 1`` queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from peephole.core.aggregate import ScoresOnly
from peephole.core.designs import Designs, tiling_labels
from peephole.core.options import make
from peephole.core.run import run
from peephole.errors import InputError
from peephole.metrics.curves import curve_fill, input_for_map
from peephole.metrics.maps import checked_map
from peephole.tasks import classification_query


@dataclass
class MuFidelity:
    correlation: float  #: µF, in [-1, 1]
    sums: np.ndarray  #: the map's sum over each sample's removed regions
    drops: np.ndarray  #: f(x) − f(x with those regions filled), per sample
    n_queries: int
    params: dict[str, Any] = field(default_factory=dict)  #: fill, regions and their options (see metrics.grading)


def mu_fidelity(
    model: Any,
    image: Any,
    saliency: np.ndarray,
    target: int,
    regions: str = "grid",
    region_options: dict[str, Any] | None = None,
    subset_percent: float = 0.2,
    n_samples: int = 200,
    fill: str = "black",
    correlation: str = "pearson",
    seed: int = 0,
    batch_size: int = 32,
    output: str | None = None,
    modality: str | Any = None,
) -> MuFidelity:
    """µFidelity of ``saliency`` for class ``target`` over ``regions`` (a partition the modality names, with
    ``region_options``; default a 9×9 grid), which must tile the input once (one group)."""
    if not 0 < subset_percent < 1:
        raise InputError(f"subset_percent must be in (0, 1), got {subset_percent!r}")
    if n_samples < 3:
        raise InputError(f"n_samples must be >= 3, got {n_samples!r}")
    if correlation not in ("pearson", "spearman"):
        raise InputError(f"correlation must be 'pearson' or 'spearman', got {correlation!r}")
    saliency = checked_map(saliency)
    if not isinstance(regions, str):
        raise InputError(f"regions must be the name of a partition (e.g. 'grid'), got {type(regions).__name__}")
    mod, x = input_for_map(model, image, saliency, modality)
    options = {"cells": 9} if regions == "grid" and region_options is None else dict(region_options or {})
    spec = mod.partition_spec(regions)
    parts = mod.partition(x, regions, seed, make(spec.Options, **options) if spec else None)
    if parts.n_groups != 1:
        raise InputError(f"µFidelity needs regions that tile the input once; {regions!r} gives {parts.n_groups} groups")
    labels = tiling_labels(parts)
    rng = np.random.default_rng(seed)
    keep = np.vstack([np.ones((1, parts.n_parts), bool), rng.random((n_samples, parts.n_parts)) >= subset_percent])
    designs = Designs(labels, keep, np.zeros(len(keep), np.int64))
    query = classification_query(mod.as_model(model, output, None))
    res = run(query, x, designs, curve_fill(mod, fill, seed), [int(target)], batch_size, aggregator=ScoresOnly, desc="µFidelity")
    scores = res.scores[:, int(target)].astype(np.float64)
    drops = scores[0] - scores[1:]
    region_sums = np.bincount(labels[0].ravel(), saliency.ravel(), parts.n_parts)
    sums = (~keep[1:]) @ region_sums
    params = {"metric": "mu_fidelity", "fill": fill, "regions": regions, "region_options": options}
    return MuFidelity(pearson_or_spearman(sums, drops, correlation), sums, drops, res.n_queries, params)


def pearson_or_spearman(a: np.ndarray, b: np.ndarray, kind: str = "pearson") -> float:
    """The correlation of ``a`` and ``b``; 0 when either is constant."""
    from scipy.stats import pearsonr, spearmanr

    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float((pearsonr if kind == "pearson" else spearmanr)(a, b)[0])
