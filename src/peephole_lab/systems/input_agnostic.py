"""Input-agnostic class saliency (Akhtar & Jalwana, "Rethinking interpretation: input-agnostic saliency
mapping of deep visual classifiers", AAAI 2023).

A class map is estimated without any input of the class: i.i.d. samples of an unrestricted distribution
are nudged towards the class by one shared perturbation ρ; the per-sample gradients of the class loss are
normalised, integrated across iterations with momentum, and ρ is projected onto a norm ball of radius η.
ρ is then scaled for display and refined while its *fidelity* (the fraction of fresh samples it drives to
the class) does not drop.

Design choices the paper's text leaves open (also in ``docs/systems.md``):

* **Distribution** ``'uniform'`` (default): pixels i.i.d. U[0, 1]; ``'gaussian'``: N(0.5, 0.25²) clipped;
  or an array of generic images (any classes, never a curated set of the target class) sampled with replacement.
* **Loss** cross-entropy of the target class on ``clip(x + ρ, 0, 1)``; the gradient is taken w.r.t. each
  perturbed sample (after clipping, so clipped pixels still pass gradient), L2-normalised per sample and averaged.
* **Integration** MI-FGSM momentum: ``v ← μ v + ḡ / ‖ḡ‖₁``; step ``ρ ← ρ − α v/‖v‖₂`` (L2) or ``α sign(v)`` (L∞),
  with ``α = 2.5 η / n_iter`` unless given; projection ``ρ ← ρ · min(1, η/‖ρ‖₂)`` or ``clip(ρ, −η, η)``.
* **Scaling** display image ``0.5 + 0.5 ρ / max|ρ|``; the saliency map is ``Σ_channels |ρ|``.
* **Refinement** fidelity-guarded sparsification: zero the entries of ρ below the q-quantile of ``|ρ|``
  for q in ``refine_levels`` in turn; keep each step only if the fidelity on a fixed set of fresh samples
  does not drop, stop at the first that lowers it.
"""

from __future__ import annotations

from collections.abc import Sequence
from time import perf_counter
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from peephole.core.options import require_count
from peephole.core.partition import MAX_PARTS
from peephole.core.query import to_numpy
from peephole.errors import InputError
from peephole.gradients.differentiable import (
    Differentiable,
    as_differentiable,
    display,
    n_classes_of,
    to_chw,
)
from peephole.pipeline import Request, build, resolve_targets
from peephole.result import Explanation
from peephole_lab.systems.model_shape import model_shape

NORMS = ("l2", "linf")
DISTRIBUTIONS = ("uniform", "gaussian", "mnist")
REFINE_LEVELS = (0.5, 0.7, 0.8, 0.9, 0.95)


def sampler(distribution: str | np.ndarray, shape: tuple[int, int, int], seed: int) -> Any:
    """``draw(n) -> (n, C, H, W)`` float32 tensor of i.i.d. samples (see the module doc)."""
    import torch

    rng = np.random.default_rng(seed)
    if isinstance(distribution, str) and distribution == "mnist":
        from peephole_lab.data import load_mnist

        distribution = load_mnist("val", 1000)[0]
    if isinstance(distribution, str):
        if distribution not in DISTRIBUTIONS:
            raise InputError(f"unknown distribution {distribution!r}; use one of {DISTRIBUTIONS} or an array of images")

        def draw(n: int) -> Any:
            size = (n, *shape)
            a = rng.uniform(0, 1, size) if distribution == "uniform" else np.clip(rng.normal(0.5, 0.25, size), 0, 1)
            return torch.from_numpy(a.astype(np.float32))

        return draw
    pool = np.asarray(distribution, np.float32)
    if pool.ndim != 4 or pool.shape[1:] != shape:
        raise InputError(f"sample images must have shape (n, {', '.join(map(str, shape))}), got {pool.shape}")
    if pool.min() < 0 or pool.max() > 1:
        raise InputError("sample images must lie in [0, 1]")

    def draw_pool(n: int) -> Any:
        return torch.from_numpy(pool[rng.integers(0, len(pool), n)])

    return draw_pool


def project(rho: Any, eta: float, norm: str) -> Any:
    """Project ρ onto the ``norm`` ball of radius η."""
    if norm == "linf":
        return rho.clamp(-eta, eta)
    n = float(rho.norm())
    return rho * min(1.0, eta / n) if n > 0 else rho


#: the most one step's random inputs may take (``batch_size`` of them)
STEP_BYTES = 1 << 30


def fidelity(dm: Differentiable, rho: Any, target: int, samples: Any, batch_size: int = 256) -> float:
    """Fraction of ``samples`` that ``clip(x + ρ)`` sends to ``target`` (argmax)."""
    import torch

    hits = 0
    with torch.no_grad():
        for i in range(0, len(samples), batch_size):
            out = dm.logits((samples[i : i + batch_size] + rho).clamp(0, 1))
            hits += int((out.argmax(1) == target).sum())
    return hits / len(samples)


def estimate_rho(
    dm: Differentiable,
    target: int,
    draw: Any,
    shape: tuple[int, int, int],
    eta: float,
    norm: str,
    n_iter: int,
    batch_size: int,
    step: float | None,
    momentum: float,
    progress: bool = False,
) -> Any:
    """The iterative estimator of ρ for one class (module doc: loss, integration, projection)."""
    import torch
    import torch.nn.functional as F

    rho = torch.zeros(shape)
    v = torch.zeros(shape)
    alpha = step if step is not None else 2.5 * eta / n_iter
    y = torch.full((batch_size,), target, dtype=torch.long)
    for _ in tqdm(range(n_iter), desc=f"class {target}", unit="it", disable=not progress, leave=False):
        x = (draw(batch_size) + rho).clamp(0, 1).requires_grad_(True)
        loss = F.cross_entropy(dm.logits(x), y, reduction="sum")
        (g,) = torch.autograd.grad(loss, x)
        g = g / g.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, 1, 1, 1)
        gbar = g.mean(0)
        v = momentum * v + gbar / gbar.abs().sum().clamp_min(1e-12)
        d = v.sign() if norm == "linf" else v / v.norm().clamp_min(1e-12)
        rho = project(rho - alpha * d, eta, norm)
    return rho


def refine(
    dm: Differentiable, rho: Any, target: int, fresh: Any, eta: float, norm: str, levels: Sequence[float] = REFINE_LEVELS
) -> tuple[Any, float]:
    """Fidelity-guarded sparsification (module doc); returns the refined ρ and its fidelity."""
    best, best_fid = rho, fidelity(dm, rho, target, fresh)
    mag = rho.abs()
    for q in levels:
        cand = project(rho * (mag >= mag.flatten().quantile(q)), eta, norm)
        fid = fidelity(dm, cand, target, fresh)
        if fid < best_fid:
            break
        best, best_fid = cand, fid
    return best, best_fid


def input_agnostic(
    req: Request,
    shape: Sequence[int] | None = None,
    eta: float | None = None,
    norm: str = "l2",
    n_iter: int = 100,
    step: float | None = None,
    momentum: float = 0.9,
    distribution: str | np.ndarray = "uniform",
    refine_levels: Sequence[float] | None = REFINE_LEVELS,
    fidelity_samples: int = 256,
) -> Explanation:
    """Input-agnostic saliency maps of the targets (default: every class) of a differentiable torch model.

    The input (``req.input``) is optional: it only gives the input shape and the background of the
    overlays (a grey canvas otherwise); the maps do not depend on it. ``distribution``: ``'uniform'``,
    ``'gaussian'``, ``'mnist'`` (1000 MNIST validation images of every class) or an array of images.
    ``extras`` holds ``perturbations`` (each class's ρ), ``visuals`` (ρ scaled for display) and ``fidelity``.
    ``eta`` defaults to 10% of the L2 norm of an all-ones input (L2) or 0.1 (L∞). ``refine_levels=None`` skips refinement.
    """
    import torch

    t0 = perf_counter()
    image, seed, batch_size = req.input, req.seed, req.batch_size or 32
    dm = as_differentiable(req.model, "input-agnostic saliency", req.output or "logits", req.class_names)
    shp = model_shape(dm, image, shape)
    if norm not in NORMS:
        raise InputError(f"unknown norm {norm!r}; use one of {NORMS}")
    if eta is None:
        eta = 0.1 * float(np.sqrt(np.prod(shp))) if norm == "l2" else 0.1
    for name, val in (("eta", eta), ("batch_size", batch_size)):
        if not val > 0:
            raise InputError(f"{name} must be > 0, got {val}")
    require_count("n_iter", n_iter, 1, MAX_PARTS)
    require_count("fidelity_samples", fidelity_samples, 1, MAX_PARTS)
    if not 0 <= momentum < 1:
        raise InputError(f"momentum must be in [0, 1), got {momentum}")
    if batch_size * int(np.prod(shp)) * 4 > STEP_BYTES:  # the random inputs of one step, float32
        raise InputError(f"batch_size={batch_size} random {shp} inputs per step take more than {STEP_BYTES >> 20} MiB")
    if refine_levels and not all(np.isfinite(q) and 0 <= q <= 1 for q in refine_levels):
        raise InputError(f"refine_levels are quantiles of |ρ|, each in [0, 1], got {list(refine_levels)}")
    n_classes = n_classes_of(dm, shp)
    tl = resolve_targets(np.zeros(n_classes), req.targets, req.top_k, dm.class_names, default=range(n_classes))
    background = to_chw(image, shp) if image is not None else np.full(shp, 0.5, np.float32)
    torch.manual_seed(seed)
    fresh = sampler(distribution, shp, seed + 1)(fidelity_samples)  # never used for estimation
    rhos, fids = [], []
    t1 = perf_counter()
    for k, target in enumerate(tqdm(tl, desc="classes", unit="class", disable=not req.progress)):
        draw = sampler(distribution, shp, seed + 1000 * (k + 1))
        rho = estimate_rho(dm, target, draw, shp, eta, norm, n_iter, batch_size, step, momentum, req.progress)
        if refine_levels:
            rho, fid = refine(dm, rho, target, fresh, eta, norm, refine_levels)
        else:
            fid = fidelity(dm, rho, target, fresh)
        rhos.append(to_numpy(rho))
        fids.append(fid)
    t2 = perf_counter()
    rho_arr = np.stack(rhos).astype(np.float32)
    maps = np.abs(rho_arr).sum(1)
    scale = np.abs(rho_arr).reshape(len(tl), -1).max(1).clip(1e-12).reshape(-1, 1, 1, 1)
    visuals = np.stack([display(v) for v in 0.5 + 0.5 * rho_arr / scale])
    with torch.no_grad():
        probs = to_numpy(torch.softmax(dm.logits(torch.from_numpy(background[None])), 1)[0])
    return build(
        "input-agnostic",
        "image",
        display(background),
        maps,
        tl,
        probs,
        dm.class_names,
        n_queries=len(tl) * (n_iter * batch_size + fidelity_samples * (1 + len(refine_levels or ()))),
        timings={"setup": t1 - t0, "estimate": t2 - t1, "total": perf_counter() - t0},
        params={
            "shape": shp,
            "eta": eta,
            "norm": norm,
            "n_iter": n_iter,
            "batch_size": batch_size,
            "step": step,
            "momentum": momentum,
            "distribution": distribution if isinstance(distribution, str) else "images",
            "refine_levels": tuple(refine_levels or ()),
            "fidelity_samples": fidelity_samples,
            "seed": seed,
        },
        extras={"perturbations": rho_arr, "visuals": visuals, "fidelity": np.asarray(fids)},
    )
