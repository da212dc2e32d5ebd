"""Fill in the blanks (Deelaka et al., "Fill in the blanks: rethinking interpretability in vision", 2024).

Ask how a model fills in a masked image. A mask M (square patches of ``patch_size`` pixels, a fraction
``ratio`` = η of them) blanks part of x; the model's update term fills the blanked pixels:

* first order ``Δx = −∇ₓ L(f(x̃), k) ⊙ M`` with ``x̃ = x ⊙ (1 − M) + fill · M`` and L the cross-entropy of class k;
* second order ``Δx₂ = −∇ₓL / (|diag ∇²ₓL| + λ) ⊙ M``, a diagonal-Newton direction; the Hessian diagonal is
  exact (one Hessian-vector product per masked entry, for small inputs) or Hutchinson's estimate
  ``E_z[z ⊙ ∇²L z]`` with Rademacher z on the masked entries (default, ``n_probes`` products);
* the threshold ``T(Δx)`` keeps the ``keep`` fraction of masked entries with the largest ``|Δx|`` and zeroes the rest;
* class prototypes are the Monte-Carlo estimate of ``E[T(Δx)]`` over images and masks, for target k;
* progressive masking: 4 non-overlapping masks of 25% of the patches each; in turn, each mask's pixels are
  blanked and refilled with the model's update (``fill + step · Δx / max|Δx|``), so every pixel is updated once.

Design choices the paper leaves open (also in ``docs/systems.md``): ``fill=0`` (MNIST's background),
the images averaged for a prototype are of *every* class (what the model adds to *any* image to make it k;
``labels``/``same_class=True`` restricts them to class k), the prototype shown/classified is
``relu(E)/max relu(E)`` (the ink the model adds), λ = 1e-3 · mean|diag H| + 1e-8, and the progressive fill's
Δx is scaled by its maximum so ``step`` is in pixel units.
"""

from __future__ import annotations

from collections.abc import Sequence
from time import perf_counter
from typing import Any

import numpy as np
from tqdm.auto import tqdm

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

HESSIANS = ("hutchinson", "exact")


def _check_patch(h: int, w: int, patch_size: int) -> None:
    if not 1 <= patch_size <= min(h, w):
        raise InputError(f"patch_size must be in 1..{min(h, w)}, got {patch_size}")


def _patch_grid(h: int, w: int, patch_size: int) -> tuple[int, int]:
    return -(-h // patch_size), -(-w // patch_size)


def _expand(chosen: np.ndarray, gh: int, gw: int, h: int, w: int, patch_size: int) -> np.ndarray:
    grid = np.zeros(gh * gw, bool)
    grid[chosen] = True
    return np.kron(grid.reshape(gh, gw), np.ones((patch_size, patch_size), bool))[:h, :w]


def patch_mask(h: int, w: int, ratio: float = 0.5, patch_size: int = 4, seed: int | np.random.Generator = 0) -> np.ndarray:
    """H×W bool mask, True where blanked: ``round(ratio · n_patches)`` random square patches."""
    if not 0 < ratio <= 1:
        raise InputError(f"mask ratio must be in (0, 1], got {ratio}")
    _check_patch(h, w, patch_size)
    rng = np.random.default_rng(seed)
    gh, gw = _patch_grid(h, w, patch_size)
    n = max(1, round(ratio * gh * gw))
    return _expand(rng.choice(gh * gw, n, replace=False), gh, gw, h, w, patch_size)


def progressive_masks(h: int, w: int, patch_size: int = 4, n: int = 4, seed: int = 0) -> np.ndarray:
    """``(n, H, W)`` disjoint bool masks covering the image, each ``1/n`` of the patches (±1 patch)."""
    _check_patch(h, w, patch_size)
    gh, gw = _patch_grid(h, w, patch_size)
    if not 1 <= n <= gh * gw:
        raise InputError(f"cannot split {gh * gw} patches into {n} masks")
    order = np.random.default_rng(seed).permutation(gh * gw)
    return np.stack([_expand(part, gh, gw, h, w, patch_size) for part in np.array_split(order, n)])


def blank(x: Any, mask: Any, fill: float = 0.0) -> Any:
    """``x ⊙ (1 − M) + fill · M`` for (N, C, H, W) x and (N, H, W) or (H, W) masks (tensors)."""
    m = mask.to(x.dtype)
    m = m.view(1, 1, *m.shape) if m.ndim == 2 else m.unsqueeze(1)
    return x * (1 - m) + fill * m


def _loss(dm: Differentiable, x: Any, target: Any) -> Any:
    import torch.nn.functional as F

    return F.cross_entropy(dm.logits(x), target, reduction="sum")


def _grad(dm: Differentiable, x: Any, target: Any, create_graph: bool = False) -> tuple[Any, Any]:
    import torch

    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(_loss(dm, x, target), x, create_graph=create_graph)
    return x, g


def hessian_diagonal(
    dm: Differentiable, x: Any, target: Any, mask: Any, method: str = "hutchinson", n_probes: int = 8, seed: int = 0
) -> Any:
    """Diagonal of ∇²ₓL on the masked entries (0 elsewhere), per sample; ``method`` 'exact' or 'hutchinson'."""
    import torch

    if method not in HESSIANS:
        raise InputError(f"unknown hessian method {method!r}; use one of {HESSIANS}")
    xg, g = _grad(dm, x, target, create_graph=True)
    m = mask.to(x.dtype)
    m = (m.view(1, 1, *m.shape) if m.ndim == 2 else m.unsqueeze(1)).expand_as(x)
    diag = torch.zeros_like(x)
    if method == "exact":
        idx = m[0].flatten().nonzero().flatten() if m.shape[0] == 1 or bool((m == m[:1]).all()) else None
        if idx is None:
            raise InputError("hessian='exact' needs the same mask for every sample in the batch")
        for i in idx.tolist():
            e = torch.zeros_like(x).flatten(1)
            e[:, i] = 1.0
            (hv,) = torch.autograd.grad(g, xg, grad_outputs=e.view_as(x), retain_graph=True)
            diag.view(len(x), -1)[:, i] = hv.flatten(1)[:, i]
        return diag.detach()
    gen = torch.Generator().manual_seed(seed)
    for _ in range(n_probes):
        z = (torch.randint(0, 2, x.shape, generator=gen).to(x.dtype) * 2 - 1) * m
        (hv,) = torch.autograd.grad(g, xg, grad_outputs=z, retain_graph=True)
        diag += z * hv / n_probes
    return diag.detach()


def delta_x(
    dm: Differentiable,
    x: Any,
    target: Any,
    mask: Any,
    order: int = 1,
    fill: float = 0.0,
    hessian: str = "hutchinson",
    n_probes: int = 8,
    seed: int = 0,
) -> Any:
    """The model's update of the blanked pixels, ``Δx`` (order 1) or ``Δx₂`` (order 2); zero outside M."""
    if order not in (1, 2):
        raise InputError(f"order must be 1 or 2, got {order}")
    xm = blank(x, mask, fill)
    _, g = _grad(dm, xm, target)
    m = mask.to(x.dtype)
    m = m.view(1, 1, *m.shape) if m.ndim == 2 else m.unsqueeze(1)
    if order == 1:
        return (-g * m).detach()
    h = hessian_diagonal(dm, xm, target, mask, hessian, n_probes, seed).abs()
    sel = m.expand_as(h) > 0
    lam = 1e-3 * float(h[sel].mean()) + 1e-8 if bool(sel.any()) else 1e-8
    return (-g / (h + lam) * m).detach()


def threshold(delta: Any, mask: Any, keep: float = 0.2) -> Any:
    """``T(Δx)``: per sample, keep the ``round(keep · n)`` masked entries of largest ``|Δx|`` (n = masked entries)."""
    import torch

    if not 0 < keep <= 1:
        raise InputError(f"keep must be in (0, 1], got {keep}")
    m = mask.to(delta.dtype)
    m = (m.view(1, 1, *m.shape) if m.ndim == 2 else m.unsqueeze(1)).expand_as(delta).flatten(1)
    d = delta.flatten(1)
    out = torch.zeros_like(d)
    for i in range(len(d)):
        idx = m[i].nonzero().flatten()
        k = round(keep * len(idx))
        if k:
            top = idx[torch.topk(d[i, idx].abs(), k).indices]
            out[i, top] = d[i, top]
    return out.view_as(delta)


def _setup(model: Any, image: Any, shape: Sequence[int] | None, output: str, class_names: Any) -> tuple[Differentiable, Any, int]:
    dm = as_differentiable(model, "fill in the blanks", output, class_names)
    shp = model_shape(dm, image, shape)
    return dm, shp, n_classes_of(dm, shp)


def prototypes(
    model: Any,
    images: np.ndarray,
    targets: int | Sequence[int] | None = None,
    labels: np.ndarray | None = None,
    same_class: bool = False,
    n_masks: int = 2,
    ratio: float = 0.5,
    patch_size: int = 4,
    keep: float = 0.2,
    order: int = 1,
    fill: float = 0.0,
    n_probes: int = 4,
    batch_size: int = 256,
    seed: int = 0,
    output: str = "logits",
    class_names: Sequence[str] | None = None,
    progress: bool = False,
) -> Explanation:
    """Class prototypes ``E[T(Δx)]`` over ``images`` (N, C, H, W) × ``n_masks`` random masks each.

    ``maps[i]`` is the channel-summed expectation for class ``targets[i]``; ``extras['images'][i]`` the
    prototype image ``relu(E)/max relu(E)``, ``extras['prototype_probabilities']`` the model's output
    on them. With ``same_class`` (needs ``labels``) only images of class k are used.
    """
    import torch

    t0 = perf_counter()
    imgs = np.asarray(images, np.float32)
    if imgs.ndim != 4 or len(imgs) == 0:
        raise InputError(f"images must be a non-empty (N, C, H, W) array, got shape {imgs.shape}")
    dm, shp, n_classes = _setup(model, None, imgs.shape[1:], output, class_names)
    tl = resolve_targets(np.zeros(n_classes), targets, 1, dm.class_names, default=range(n_classes))
    if same_class and labels is None:
        raise InputError("same_class=True needs labels")
    if n_masks < 1:
        raise InputError(f"n_masks must be >= 1, got {n_masks}")
    _, h, w = shp
    rng = np.random.default_rng(seed)
    means, protos = [], []
    for t in tqdm(tl, desc="prototypes", unit="class", disable=not progress):
        pool = imgs[np.asarray(labels) == t] if same_class else imgs
        if len(pool) == 0:
            raise InputError(f"no image of class {t} to average over")
        x = torch.from_numpy(np.repeat(pool, n_masks, 0))
        masks = torch.from_numpy(np.stack([patch_mask(h, w, ratio, patch_size, rng) for _ in range(len(x))]))
        total = torch.zeros(shp)
        for i in range(0, len(x), batch_size):
            xb, mb = x[i : i + batch_size], masks[i : i + batch_size]
            y = torch.full((len(xb),), t, dtype=torch.long)
            d = delta_x(dm, xb, y, mb, order, fill, "hutchinson", n_probes, seed + i)
            total += threshold(d, mb, keep).sum(0)
        e = to_numpy(total / len(x))
        pos = np.maximum(e, 0)
        means.append(e)
        protos.append(pos / max(float(pos.max()), 1e-12))
    mean_arr, proto_arr = np.stack(means), np.stack(protos).astype(np.float32)
    with torch.no_grad():
        probs = to_numpy(torch.softmax(dm.logits(torch.from_numpy(proto_arr)), 1))
    return build(
        "fill-in-the-blanks-prototypes",
        "image",
        display(imgs.mean(0)),
        mean_arr.sum(1),
        tl,
        probs.mean(0),
        dm.class_names,
        n_queries=len(tl) * len(imgs) * n_masks * (1 + (order == 2) * n_probes),
        timings={"total": perf_counter() - t0},
        params={
            "n_images": len(imgs),
            "same_class": same_class,
            "n_masks": n_masks,
            "ratio": ratio,
            "patch_size": patch_size,
            "keep": keep,
            "order": order,
            "fill": fill,
            "seed": seed,
        },
        extras={"images": proto_arr, "prototype_probabilities": probs.astype(np.float32)},
    )


def progressive_fill(
    req: Request,
    patch_size: int = 4,
    n_masks: int = 4,
    step: float = 1.0,
    keep: float = 1.0,
    order: int = 1,
    fill: float = 0.0,
    n_probes: int = 8,
    shape: Sequence[int] | None = None,
) -> Explanation:
    """Progressive masking: blank and refill each of ``n_masks`` disjoint masks (4 × 25%) in turn, for each target.

    ``maps[i]`` is ``Σ_c |x_filled − x|`` for target ``targets[i]`` (default: the ``top_k`` predicted classes);
    ``extras['images'][i]`` holds the ``n_masks + 1`` stages (the input first).
    """
    import torch

    t0 = perf_counter()
    image, seed = req.input, req.seed
    if image is None:
        raise InputError("fill-in-the-blanks needs an image (use an all-zero one to draw from scratch)")
    dm, shp, n_classes = _setup(req.model, image, shape, req.output or "logits", req.class_names)
    x0 = torch.from_numpy(to_chw(image, shp)[None])
    with torch.no_grad():
        probs = to_numpy(torch.softmax(dm.logits(x0), 1)[0])
    tl = resolve_targets(probs, req.targets, req.top_k, dm.class_names)
    masks = torch.from_numpy(progressive_masks(shp[1], shp[2], patch_size, n_masks, seed))
    stages_all = []
    for t in tl:
        y = torch.tensor([t])
        x, stages = x0.clone(), [to_numpy(x0[0])]
        for j, m in enumerate(masks):
            d = threshold(delta_x(dm, x, y, m, order, fill, "hutchinson", n_probes, seed + j), m, keep)
            scaled = d / d.abs().max().clamp_min(1e-12)
            x = (blank(x, m, fill) + step * scaled).clamp(0, 1)
            stages.append(to_numpy(x[0]))
        stages_all.append(np.stack(stages))
    st = np.stack(stages_all).astype(np.float32)
    return build(
        "fill-in-the-blanks",
        "image",
        display(to_numpy(x0[0])),
        np.abs(st[:, -1] - st[:, 0]).sum(1),
        tl,
        probs,
        dm.class_names,
        n_queries=1 + len(tl) * n_masks * (1 + (order == 2) * n_probes),
        timings={"total": perf_counter() - t0},
        params={
            "patch_size": patch_size,
            "n_masks": n_masks,
            "step": step,
            "keep": keep,
            "order": order,
            "fill": fill,
            "seed": seed,
        },
        extras={"images": st},
    )
