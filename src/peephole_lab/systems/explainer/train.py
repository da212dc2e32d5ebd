"""Training the Explainer against a frozen classifier: Adam, a progress bar, checkpoints, early stopping
on the validation loss (Stalder et al., NeurIPS 2022), and PAMI-as-teacher distillation (beyond the paper)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from peephole.errors import InputError
from peephole_lab.systems.explainer.losses import ExplainerLoss, PreserveDestroyLoss


@dataclass
class TrainResult:
    """Loss history per epoch, the epoch whose weights were kept, and the checkpoint paths written."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = -1
    checkpoints: list[Path] = field(default_factory=list)
    stopped_early: bool = False


def _check(x: np.ndarray, y: np.ndarray, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = np.asarray(x, np.float32), np.asarray(y, np.float32)
    if x.ndim != 4 or y.ndim < 2 or len(x) != len(y) or len(x) == 0:
        raise InputError(
            f"{name}: need (N, C, H, W) images and (N, ...) targets of the same non-zero N, got {x.shape}, {y.shape}"
        )
    return torch.from_numpy(x), torch.from_numpy(y)


def _fit(
    explainer: torch.nn.Module,
    step_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    epochs: int,
    batch_size: int,
    lr: float,
    patience: int,
    checkpoint_dir: str | Path | None,
    progress: bool,
    seed: int,
    desc: str,
    train_loss_at: Callable[[int], Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] | None = None,
) -> TrainResult:
    """``train_loss_at(epoch)``: the loss of that epoch's training steps (a schedule); validation, and so early
    stopping, always uses ``step_loss``."""
    if epochs < 1 or batch_size < 1 or patience < 1:
        raise InputError(f"epochs, batch_size and patience must be >= 1, got {epochs}, {batch_size}, {patience}")
    xt, yt = _check(*train, "training data")
    xv, yv = _check(*val, "validation data")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(explainer.parameters(), lr=lr)
    res, best, best_state, bad = TrainResult(), float("inf"), None, 0
    ckdir = Path(checkpoint_dir) if checkpoint_dir is not None else None
    bar = tqdm(range(epochs), desc=desc, unit="epoch", disable=not progress)
    for epoch in bar:
        explainer.train()
        order, total = torch.from_numpy(rng.permutation(len(xt))), 0.0
        train_step = step_loss if train_loss_at is None else train_loss_at(epoch)
        for i in range(0, len(xt), batch_size):
            idx = order[i : i + batch_size]
            opt.zero_grad()
            loss = train_step(xt[idx], yt[idx])
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        explainer.eval()
        with torch.no_grad():
            val = sum(
                float(step_loss(xv[i : i + batch_size], yv[i : i + batch_size])) * len(xv[i : i + batch_size])
                for i in range(0, len(xv), batch_size)
            ) / len(xv)
        res.train_loss.append(total / len(xt))
        res.val_loss.append(val)
        bar.set_postfix(train=f"{res.train_loss[-1]:.4f}", val=f"{val:.4f}")
        if ckdir is not None:
            res.checkpoints.append(_save(explainer, opt, epoch, res, ckdir / "last.pt"))
        if val < best:
            best, best_state, bad, res.best_epoch = val, copy.deepcopy(explainer.state_dict()), 0, epoch
            if ckdir is not None:
                res.checkpoints.append(_save(explainer, opt, epoch, res, ckdir / "best.pt"))
        else:
            bad += 1
            if bad >= patience:
                res.stopped_early = True
                break
    if best_state is not None:
        explainer.load_state_dict(best_state)
    explainer.eval()
    return res


def _save(net: torch.nn.Module, opt: torch.optim.Optimizer, epoch: int, res: TrainResult, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "config": getattr(net, "config", {}),
            "state_dict": net.state_dict(),
            "optimizer": opt.state_dict(),
            "epoch": epoch,
            "train_loss": res.train_loss,
            "val_loss": res.val_loss,
            "meta": getattr(net, "meta", {}),
        },
        path,
    )
    return path


def _freeze(classifier: torch.nn.Module) -> torch.nn.Module:
    classifier.eval()
    for p in classifier.parameters():
        p.requires_grad_(False)
    return classifier


def train_explainer(
    explainer: torch.nn.Module,
    classifier: torch.nn.Module,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    loss: ExplainerLoss | PreserveDestroyLoss | None = None,
    epochs: int = 10,
    batch_size: int = 32,
    lr: float = 1e-3,
    patience: int = 3,
    checkpoint_dir: str | Path | None = None,
    progress: bool = True,
    seed: int = 0,
    loss_at: Callable[[int], ExplainerLoss | PreserveDestroyLoss] | None = None,
) -> TrainResult:
    """Train ``explainer`` on ``train = (images, multi-hot labels)`` for the frozen ``classifier``.

    The labels are the ground-truth classes of each image (as in the paper); pass one-hot labels with
    ``loss=ExplainerLoss(multilabel=False)`` for a single-label classifier. Keeps the weights of the epoch with
    the lowest validation loss, stops after ``patience`` epochs without improvement, writes ``last.pt`` and
    ``best.pt`` to ``checkpoint_dir`` when given. ``explainer.meta['multilabel']`` records the loss's kind.
    ``loss_at(epoch)``: the loss of that epoch's training steps (a weight schedule); validation uses ``loss``.
    """
    clf = _freeze(classifier)
    loss = loss or ExplainerLoss()
    explainer.meta = {**getattr(explainer, "meta", {}), "multilabel": loss.multilabel}  # read by inference

    def step_with(fn: ExplainerLoss | PreserveDestroyLoss) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        return lambda x, y: fn(explainer(x), y, clf, x)[0]

    schedule = None if loss_at is None else (lambda epoch: step_with(loss_at(epoch)))
    return _fit(
        explainer,
        step_with(loss),
        train,
        val,
        epochs,
        batch_size,
        lr,
        patience,
        checkpoint_dir,
        progress,
        seed,
        "Explainer",
        schedule,
    )


def train_from_teacher(
    explainer: torch.nn.Module,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    epochs: int = 10,
    batch_size: int = 32,
    lr: float = 1e-3,
    patience: int = 3,
    checkpoint_dir: str | Path | None = None,
    progress: bool = True,
    seed: int = 0,
) -> TrainResult:
    """Distil teacher maps (e.g. PAMI's) into the Explainer: ``train = (images, maps)`` with maps (N, K, H, W)
    in [0, 1] and NaN for classes without a teacher map; loss = BCE between σ(logits) and the maps where defined."""

    def step(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        seg = explainer(x)
        if seg.shape != t.shape:
            raise InputError(f"teacher maps of shape {tuple(t.shape[1:])} do not match the Explainer's {tuple(seg.shape[1:])}")
        known = ~torch.isnan(t)
        return F.binary_cross_entropy_with_logits(seg[known], t[known])

    return _fit(
        explainer, step, train, val, epochs, batch_size, lr, patience, checkpoint_dir, progress, seed, "Explainer (teacher)"
    )


def soft_iou(pred: Any, true: Any) -> float:
    """Soft IoU ``Σ min(p, t) / Σ max(p, t)`` of masks in [0, 1] (1 when both are empty)."""
    p, t = np.asarray(pred, np.float64), np.asarray(true, np.float64)
    den = np.maximum(p, t).sum()
    return float(np.minimum(p, t).sum() / den) if den > 0 else 1.0
