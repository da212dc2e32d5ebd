"""LIME (Ribeiro et al., KDD 2016) for images on the engine loop, on PAMI's own superpixels.

Sample ``i`` keeps a random subset of the superpixels (each on with probability 1/2, drawn from the
seeded generator ``(seed, i)``; sample 0 keeps all of them, as in LIME). Hidden superpixels take the
masker's values. A weighted ridge regression (scikit-learn, ``alpha=1``) of the class probability on
the on/off vectors, with LIME's kernel ``sqrt(exp(−d²/w²))``, ``d`` the cosine distance to the
all-on vector and ``w = 0.25``, gives one weight per superpixel; the map paints it on the pixels.

Written on the engine rather than with the ``lime`` package: its ``LimeImageExplainer`` runs its own
loop over the classifier (no shared batching, no query count) and segments with quickshift; the
regression it does is the few lines in :func:`fit_weights`, with the same kernel and ridge.
"""

from __future__ import annotations

from collections.abc import Sequence
from time import perf_counter
from typing import Any

import numpy as np

from peephole.engine.perturb import Masker
from peephole.engine.run import run
from peephole.errors import InputError
from peephole.explanation import Explanation
from peephole.image.superpixels import Segmentation
from peephole.methods.pami import make_masker
from peephole.methods.setup import prepare
from peephole.methods.soft_masks import FunctionPartition, ScoresOnly

#: One of PAMI's Table 3 settings (SLIC, 50 segments): about as many superpixels as LIME's quickshift.
DEFAULT_SEGMENTATION = Segmentation("slic", {"n_segments": 50, "compactness": 20})
KERNEL_WIDTH = 0.25


def lime_samples(n_segments: int, start: int, stop: int, seed: int = 0) -> np.ndarray:
    """On/off vectors ``(stop-start, n_segments)`` bool of the seeded sample sequence (sample 0: all on)."""
    z = np.empty((stop - start, n_segments), bool)
    for j, i in enumerate(range(start, stop)):
        z[j] = True if i == 0 else np.random.default_rng([seed, i]).random(n_segments) < 0.5
    return z


def fit_weights(z: np.ndarray, y: np.ndarray, kernel_width: float = KERNEL_WIDTH, alpha: float = 1.0) -> np.ndarray:
    """LIME's weighted ridge fit: ``z`` (n, d) on/off, ``y`` (n, K) outputs -> weights (K, d)."""
    try:
        from sklearn.linear_model import Ridge
        from sklearn.metrics.pairwise import cosine_distances
    except ImportError as exc:
        raise InputError("LIME needs scikit-learn: pip install 'peephole[gradients]'") from exc

    zf = z.astype(np.float64)
    d = cosine_distances(zf, np.ones((1, z.shape[1])))[:, 0]
    sw = np.sqrt(np.exp(-(d**2) / kernel_width**2))
    return np.stack([Ridge(alpha=alpha).fit(zf, y[:, k], sample_weight=sw).coef_ for k in range(y.shape[1])])


def lime(
    model: Any,
    image: Any,
    n_samples: int = 1000,
    segmentation: Segmentation | np.ndarray = DEFAULT_SEGMENTATION,
    masker: str | Masker = "grey",
    targets: int | Sequence[int] | None = None,
    top_k: int = 1,
    batch_size: int | None = None,
    seed: int = 0,
    progress: bool = False,
    output: str | None = None,
) -> Explanation:
    """Explain ``model`` on ``image`` with LIME on superpixels (``n_samples`` queries).

    ``segmentation`` is a :class:`Segmentation` setting or an H×W integer label map.
    """
    if n_samples < 2:
        raise InputError(f"LIME needs n_samples >= 2, got {n_samples}")
    t0 = perf_counter()
    s = prepare(model, image, targets, top_k, batch_size, output)
    import cv2

    cv2.setRNGSeed(seed)
    raw = segmentation(s.image) if isinstance(segmentation, Segmentation) else np.asarray(segmentation)
    if raw.shape != s.image.shape[:2] or not np.issubdtype(raw.dtype, np.integer):
        raise InputError(f"segmentation must be an integer label map of shape {s.image.shape[:2]}, got {raw.dtype} {raw.shape}")
    _, labels = np.unique(raw, return_inverse=True)
    labels = labels.reshape(raw.shape)
    n_seg = int(labels.max()) + 1
    t_segment = perf_counter() - t0
    part = FunctionPartition(labels.shape, n_samples, lambda a, b: lime_samples(n_seg, a, b, seed)[:, labels])
    res = run(s.query, s.image, part, make_masker(masker), s.targets, s.batch_size, progress, aggregator=ScoresOnly, desc="LIME")
    tf = perf_counter()
    coef = fit_weights(lime_samples(n_seg, 0, n_samples, seed), res.scores[:, s.targets].astype(np.float64))
    maps = coef[:, labels].astype(np.float32)
    return s.explanation(
        Explanation,
        "lime",
        s.image,
        maps,
        res.scores,
        timings={"segment": t_segment, **res.timings, "fit": perf_counter() - tf, "total": perf_counter() - t0},
        params={
            "n_samples": n_samples,
            "n_segments": n_seg,
            "seed": seed,
            "batch_size": s.batch_size,
            "segmentation": segmentation.name if isinstance(segmentation, Segmentation) else "labels",
            "masker": masker if isinstance(masker, str) else type(masker).__name__,
        },
    )
