"""Neural Cleanse (Wang et al., "Neural Cleanse: identifying and mitigating backdoor attacks in neural
networks", IEEE S&P 2019, Sec. IV): reverse-engineer, for every class k, the smallest trigger that sends clean
images to k; a backdoor's target needs a much smaller one than the other classes.

Per class, a mask ``m = sigmoid(θ_m)`` (H×W) and a pattern ``p = sigmoid(θ_p)`` (C×H×W) minimise (Eq. 3)
``CE(f((1 − m)·x + m·p), k) + λ‖m‖₁`` over clean images x with Adam (lr 0.1, β = (0.5, 0.9), as the authors'
code). λ follows the paper's schedule: 0 until the attack success (images sent to k) reaches ``asr_threshold``
for ``patience`` epochs in a row, then ``init_cost``; afterwards multiplied by 1.5 after ``patience`` epochs
at or above the threshold and divided by 1.5^1.5 after ``patience`` epochs below it. The result is the
smallest ‖m‖₁ seen with attack success ≥ ``asr_threshold`` (the last mask if none reached it).
Outliers (Sec. IV-C): anomaly index ``(median(L1) − L1_k) / (1.4826 · MAD(L1))``; classes with an index above
``threshold`` (2) are flagged — only small masks count, as in the paper.

Design choices: an "epoch" is ``steps`` mini-batches of ``batch_size`` images drawn with the seed (the authors
use 1/32 of their data set); ``patience`` is 2 epochs (they use 5 with longer epochs); like their code, the
search stops early once λ > 0 and the best ‖m‖₁ has not shrunk by 1% for ``early_stop`` epochs. Defaults were checked on
the development half of the trojan zoo (docs/systems.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from time import perf_counter
from typing import Any

import numpy as np

from peephole.core.query import to_numpy
from peephole.errors import InputError
from peephole.gradients.differentiable import as_differentiable, n_classes_of
from peephole_lab.systems.backdoor import BackdoorReport
from peephole_lab.systems.model_shape import model_shape


def read_images(images: Any) -> Any:
    """``images`` as given, or the array of a ``.npy`` file when it is a path (no pickles)."""
    if not isinstance(images, (str, os.PathLike)):
        return images
    try:
        return np.load(images, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"clean images {os.fspath(images)}: not a readable .npy array ({exc})") from exc


def scan_inputs(dm: Any, images: Any, shape: Sequence[int] | None) -> tuple[np.ndarray, tuple[int, int, int]]:
    """The clean images (:func:`clean_images`) and the model's input shape: ``shape``, else the images' own, else
    :func:`~peephole_lab.systems.model_shape.model_shape`'s probe. ``images``: an array or a ``.npy`` path."""
    x = read_images(images)
    if shape is not None or getattr(x, "ndim", 0) != 4:
        shp = model_shape(dm, None, shape)
        return clean_images(x, shp), shp
    shp = model_shape(dm, None, np.shape(x)[1:])
    clean = clean_images(x, shp)
    import torch

    try:
        with torch.no_grad():
            dm.logits(torch.from_numpy(clean[:1]).to(dm.device))
    except Exception as exc:  # noqa: BLE001 - any failure of the model on them: the images do not fit it
        raise InputError(
            f"clean images must have the model's input shape; it fails on {shp}: {type(exc).__name__}: {exc}"
        ) from exc
    return clean, shp


def clean_images(images: Any, shape: tuple[int, int, int]) -> np.ndarray:
    """``images`` as ``(n, C, H, W)`` float32 in [0, 1]; ``None``: 1000 MNIST validation images for 1×28×28 models."""
    if images is None:
        if shape != (1, 28, 28):
            raise InputError(
                f"the trigger-inversion scans (Neural Cleanse, TABOR) need clean images of the model's input shape {shape}: "
                "pass images= (on the command line: --images FILE.npy)"
            )
        from peephole_lab.data import load_mnist

        images = load_mnist("val", 1000)[0]
    x = np.asarray(images, np.float32)
    if x.ndim != 4 or x.shape[1:] != shape:
        raise InputError(f"clean images must have shape (n, {', '.join(map(str, shape))}), got {x.shape}")
    if len(x) < 1 or x.min() < 0 or x.max() > 1:
        raise InputError("clean images must be a non-empty array in [0, 1]")
    return x


def reverse_trigger(
    logits: Any,
    x: Any,
    target: int,
    epochs: int,
    steps: int,
    batch_size: int,
    init_cost: float,
    asr_threshold: float,
    patience: int,
    lr: float,
    seed: int,
    early_stop: int,
    regulariser: Callable[[Any, Any, Any], Any] | None = None,
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Optimise one class's mask and pattern (module doc); returns ``(mask, pattern, L1, attack success)``.
    ``regulariser(m, p, xb)``, if given, is added to the loss (TABOR's terms, :mod:`peephole_lab.systems.tabor`)."""
    import torch
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(seed)
    theta_m = torch.zeros(x.shape[2:], requires_grad=True)  # m = 0.5 everywhere: the search starts neutral
    theta_p = torch.zeros(x.shape[1:], requires_grad=True)
    opt = torch.optim.Adam([theta_m, theta_p], lr=lr, betas=(0.5, 0.9))
    y = torch.full((batch_size,), target, dtype=torch.long)
    cost, up, down, set_count, stale = 0.0, 0, 0, 0, 0
    best: tuple[np.ndarray, np.ndarray, float, float] | None = None
    last = None
    for _ in range(epochs):
        hits = n = 0
        for _ in range(steps):
            xb = x[torch.randint(0, len(x), (batch_size,), generator=g)]
            m, p = torch.sigmoid(theta_m), torch.sigmoid(theta_p)
            out = logits((1 - m) * xb + m * p)
            l1 = m.sum()
            loss = F.cross_entropy(out, y) + cost * l1
            if regulariser is not None:
                loss = loss + regulariser(m, p, xb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            hits += int((out.argmax(1) == target).sum())
            n += batch_size
        asr = hits / n
        m, p = torch.sigmoid(theta_m).detach(), torch.sigmoid(theta_p).detach()
        last = (to_numpy(m), to_numpy(p), float(m.sum()), asr)
        improved = asr >= asr_threshold and (best is None or last[2] < 0.99 * best[2])
        if asr >= asr_threshold and (best is None or last[2] < best[2]):
            best = last
        stale = 0 if improved or cost == 0 else stale + 1
        if stale >= early_stop:
            break
        if cost == 0:
            set_count = set_count + 1 if asr >= asr_threshold else 0
            if set_count >= patience:
                cost, up, down = init_cost, 0, 0
            continue
        up, down = (up + 1, 0) if asr >= asr_threshold else (0, down + 1)
        if up >= patience:
            cost, up = cost * 1.5, 0
        elif down >= patience:
            cost, down = cost / 1.5**1.5, 0
    assert last is not None
    return best if best is not None else last


def mad_anomaly(l1: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """Neural Cleanse's anomaly index of small masks: ``(median − L1) / (1.4826 · MAD)`` (MAD floored at 1e-6), the
    median and MAD of ``reference`` when given (e.g. the other classes), else of ``l1``."""
    ref = l1 if reference is None else reference
    med = np.median(ref)
    mad = max(float(np.median(np.abs(ref - med))), 1e-6)
    return (med - l1) / (1.4826 * mad)


def neural_cleanse(
    model: Any,
    images: Any = None,
    classes: Sequence[int] | None = None,
    threshold: float = 2.0,
    epochs: int = 20,
    steps: int = 5,
    batch_size: int = 32,
    init_cost: float = 1e-3,
    asr_threshold: float = 0.99,
    patience: int = 2,
    early_stop: int = 4,
    lr: float = 0.1,
    seed: int = 0,
    shape: Sequence[int] | None = None,
    output: str = "logits",
    class_names: Sequence[str] | None = None,
    regulariser: Callable[[Any, int], Callable[[Any, Any, Any], Any]] | None = None,
) -> BackdoorReport:
    """Reverse-engineer a trigger for every class of a torch classifier and flag the classes whose mask is a
    small outlier (module doc). ``images``: clean images ``(n, C, H, W)`` in [0, 1], or a ``.npy`` file of them;
    they give the input shape when ``shape`` is not given (default: MNIST validation images for 1×28×28 models).
    ``extras`` of the report: ``masks`` (K, H, W) and ``patterns`` (K, C, H, W).
    ``regulariser(dm, k)`` gives class k's extra loss terms (:func:`reverse_trigger`; TABOR uses it)."""
    import torch

    t0 = perf_counter()
    dm = as_differentiable(model, "Neural Cleanse", output, class_names)
    clean, shp = scan_inputs(dm, images, shape)
    positive = (("epochs", epochs), ("steps", steps), ("batch_size", batch_size), ("lr", lr), ("patience", patience))
    for name, val in (*positive, ("early_stop", early_stop)):
        if not val > 0:
            raise InputError(f"{name} must be > 0, got {val}")
    if not 0 < asr_threshold <= 1 or init_cost < 0:
        raise InputError(f"asr_threshold must be in (0, 1] and init_cost >= 0, got {asr_threshold}, {init_cost}")
    n = n_classes_of(dm, shp)
    targets = list(range(n)) if classes is None else [int(c) for c in classes]
    if len(targets) < 3 or not all(0 <= t < n for t in targets):
        raise InputError(f"Neural Cleanse compares at least 3 classes of 0..{n - 1}, got {targets}")
    x = torch.from_numpy(clean)
    masks, patterns, l1, asr = [], [], [], []
    for k in targets:
        m, p, norm, a = reverse_trigger(
            dm.logits,
            x,
            k,
            epochs,
            steps,
            batch_size,
            init_cost,
            asr_threshold,
            patience,
            lr,
            seed + k,
            early_stop,
            regulariser(dm, k) if regulariser is not None else None,
        )
        masks.append(m)
        patterns.append(p)
        l1.append(norm)
        asr.append(a)
    l1_arr = np.asarray(l1)
    return BackdoorReport(
        "neural-cleanse",
        targets,
        mad_anomaly(l1_arr),
        np.ones(len(targets), bool),
        threshold,
        {"mask_l1": l1_arr, "attack_success": np.asarray(asr)},
        extras={"masks": np.stack(masks), "patterns": np.stack(patterns)},
        seconds=perf_counter() - t0,
        class_names=dm.class_names,
    )
