"""The Explainer on real digits: MNIST digits on textured canvases (:mod:`peephole_lab.data.digit_canvases`), a
frozen multi-label classifier of them, and an Explainer trained with the paper's loss on the train split,
early-stopped on the validation split (test split held out). Everything is seeded and cached."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from peephole.core.options import require, require_count, require_finite
from peephole.core.query import to_numpy
from peephole_lab.data.canvases import Canvases

FILLS = ("median", "blur", "black")  #: what a pixel removed by the preserve-destroy objective shows


@dataclass
class DigitTask:
    """Train / validation / test canvases and the frozen classifier with its accuracy on each split."""

    train: Canvases
    val: Canvases
    test: Canvases
    classifier: Any
    accuracy: dict[str, dict[str, float]] = field(default_factory=dict)


def multilabel_accuracy(classifier: Any, c: Canvases, batch_size: int = 256) -> dict[str, float]:
    """Per-label accuracy at σ > 0.5, exact-match accuracy (every label right), recall of present digits,
    and the false-positive rate on absent digits."""
    import torch

    with torch.no_grad():
        p = np.concatenate(
            [
                to_numpy(torch.sigmoid(classifier(torch.from_numpy(c.images[i : i + batch_size]))))
                for i in range(0, len(c), batch_size)
            ]
        )
    pred, true = p > 0.5, c.labels > 0.5
    return {
        "label_accuracy": float((pred == true).mean()),
        "exact_match": float((pred == true).all(1).mean()),
        "present_recall": float(pred[true].mean()),
        "absent_false_positive": float(pred[~true].mean()),
    }


def digit_task(
    n_train: int = 4000,
    n_val: int = 500,
    n_test: int = 500,
    size: int = 48,
    n_digits: tuple[int, int] = (2, 3),
    scale: tuple[int, int] = (18, 26),
    clf_width: int = 16,
    clf_stages: int = 3,
    clf_epochs: int = 15,
    seed: int = 0,
    cache_dir: str | Path | None = None,
    progress: bool = False,
    classes: tuple[int, ...] | None = None,
) -> DigitTask:
    """The canvases (MNIST train / val / test digits for the three splits) and the classifier
    ``SmallCNN(3, K, clf_width, pool='max', batchnorm=True, stages=clf_stages)`` trained multi-label on the train split;
    the classifier is cached next to the canvases, keyed by every argument that shapes it."""
    import torch

    from peephole_lab.data import SmallCNN, load_classifier, save_classifier, train_classifier
    from peephole_lab.data.digit_canvases import cache_root, digit_canvases

    opts: dict[str, Any] = {"size": size, "n_digits": tuple(n_digits), "scale": tuple(scale), "seed": seed}
    if classes is not None:  # a subset of the digits (a quicker task); all ten are keyed without it
        opts["classes"] = tuple(classes)
    train = digit_canvases(n_train, "train", cache_dir, **opts)
    val = digit_canvases(n_val, "val", cache_dir, **{**opts, "seed": seed + 1})
    test = digit_canvases(n_test, "test", cache_dir, **{**opts, "seed": seed + 2})
    key = json.dumps(
        {"n_train": n_train, **opts, "width": clf_width, "stages": clf_stages, "epochs": clf_epochs}, sort_keys=True, default=str
    )
    path = cache_root(cache_dir) / "digit-classifiers" / f"{hashlib.sha1(key.encode()).hexdigest()[:16]}.pt"
    if path.exists():
        clf = load_classifier(path)
    else:
        torch.manual_seed(seed)
        clf = train_classifier(
            SmallCNN(3, train.labels.shape[1], clf_width, "max", size, batchnorm=True, stages=clf_stages),
            train.images,
            train.labels,
            epochs=clf_epochs,
            lr=3e-3,
            batch_size=32,
            multilabel=True,
            seed=seed,
            progress=progress,
        )
        save_classifier(clf, path)
    for p in clf.parameters():
        p.requires_grad_(False)
    acc = {name: multilabel_accuracy(clf, c) for name, c in (("train", train), ("val", val), ("test", test))}
    return DigitTask(train, val, test, clf.eval(), acc)


#: The absent weight on the ten-digit task (``peephole explainer-digits``): λ_n ramped 50 → 150, 5× the default's
#: 10 → 30 (chosen on the four-digit task). The absent term is a mean over the absent (canvas, class) pairs, so each
#: absent channel's pull is λ_n over their number: 7.5 per canvas here, 1.5 there. Kept by the rule of
#: experiments/explainer_digits48/PLAN.md on that task's validation canvases (docs/systems.md, "The ten-digit task").
TEN_DIGITS = {"lambda_n": 150.0, "lambda_n_from": 50.0}


@dataclass(frozen=True)
class ExplainerConfig:
    """The Explainer and loss settings of the digit experiment (chosen on the validation split, docs/systems.md)."""

    arch: str = "backbone"  #: 'unet' (:class:`ExplainerNet`) or 'backbone' (:class:`BackboneExplainer` from the classifier)
    #: 'preserve-destroy' (Dabkowski & Gal, :class:`PreserveDestroyLoss`) or 'paper' (Stalder et al., :class:`ExplainerLoss`)
    objective: str = "preserve-destroy"
    width: int = 8
    depth: int = 3  #: poolings of the U-Net ('unet' only; 'backbone' follows the classifier's stages)
    min_area: float = 0.02  #: 'paper' only; paper 0.05; one digit's ink is ~4% of a 48×48 canvas
    max_area: float = 0.06  #: 'paper' only; paper 0.3
    lambda_n: float | None = None  #: weight of the absent classes' masks (default: 0.3 'paper', 30 'preserve-destroy')
    #: 'preserve-destroy' only: the absent weight of training steps rises linearly from ``lambda_n_from`` (epoch 0) to
    #: ``lambda_n`` (epoch ``ramp_epochs`` on); validation and early stopping always use ``lambda_n``. Default 10
    #: ('paper': no ramp); 0: no ramp (a fixed λ_n of 25-30 killed a class's channel in one seed of three)
    ramp_epochs: int | None = None
    lambda_n_from: float = 10.0
    lambda_tv: float = 0.05  #: 'preserve-destroy' only
    lambda_a: float = 20.0  #: 'preserve-destroy' only
    fill: str = "median"  #: 'preserve-destroy' only: what a removed pixel shows
    epochs: int = 20
    lr: float | None = None  #: default: 3·10⁻³ 'paper', 10⁻² 'preserve-destroy'
    patience: int = 3
    batch_size: int | None = None  #: default: 32 'paper', 8 'preserve-destroy' (more steps on a CPU budget)

    def __post_init__(self) -> None:
        """Every count and weight checked when the config is made, before any training (one InputError naming it)."""
        for name, least in (("width", 1), ("epochs", 1), ("patience", 1), ("batch_size", 1), ("ramp_epochs", 0)):
            require_count(name, getattr(self, name), least)  # batch_size, ramp_epochs: None is the default
        require_finite("lr", self.lr, 0, strict=True, optional=True)
        for name in ("lambda_n", "lambda_n_from", "lambda_tv", "lambda_a", "min_area", "max_area"):
            require_finite(name, getattr(self, name), 0, optional=True)
        require("max_area", self.max_area, f"in [min_area, 1] = [{self.min_area}, 1]", lambda v: self.min_area <= v <= 1)

    def batch(self) -> int:
        """The batch size (``batch_size``, else the objective's default)."""
        return self.batch_size or (32 if self.objective == "paper" else 8)

    def rate(self) -> float:
        """The learning rate (``lr``, else the objective's default)."""
        return self.lr or (3e-3 if self.objective == "paper" else 1e-2)

    def ramp(self) -> int:
        """The epochs of the absent weight's ramp (``ramp_epochs``, else the objective's default)."""
        if self.ramp_epochs is not None:
            return self.ramp_epochs
        return 10 if self.objective == "preserve-destroy" else 0

    def loss(self, epoch: int | None = None) -> Any:
        """The loss this config names: of validation (``epoch`` None), or of epoch ``epoch``'s training steps."""
        from peephole.errors import InputError
        from peephole_lab.systems.explainer.losses import ExplainerLoss, PreserveDestroyLoss

        if self.objective == "paper":
            if self.ramp():
                raise InputError("ramp_epochs is a 'preserve-destroy' setting; the 'paper' objective has no ramp")
            lam = 0.3 if self.lambda_n is None else self.lambda_n
            return ExplainerLoss(lambda_n=lam, min_area=self.min_area, max_area=self.max_area)
        if self.objective == "preserve-destroy":
            if self.fill not in FILLS:
                raise InputError(f"unknown fill {self.fill!r}; use one of {FILLS}")
            lam = 30.0 if self.lambda_n is None else self.lambda_n
            if epoch is not None and self.ramp() > 0:
                lam = self.lambda_n_from + (lam - self.lambda_n_from) * min(1.0, epoch / self.ramp())
            return PreserveDestroyLoss(lambda_tv=self.lambda_tv, lambda_a=self.lambda_a, lambda_n=lam, fill=self.fill)
        raise InputError(f"unknown objective {self.objective!r}; use 'preserve-destroy' or 'paper'")


def build_explainer(task: DigitTask, config: ExplainerConfig, seed: int = 0) -> Any:
    """A fresh Explainer of ``config.arch`` for the task's classifier (seeded)."""
    import torch

    from peephole.errors import InputError
    from peephole_lab.systems.explainer.network import BackboneExplainer, ExplainerNet

    torch.manual_seed(seed)
    if config.arch == "backbone":
        return BackboneExplainer(task.classifier, config.width)
    if config.arch == "unet":
        return ExplainerNet(task.train.labels.shape[1], 3, config.width, config.depth)
    raise InputError(f"unknown Explainer arch {config.arch!r}; use 'unet' or 'backbone'")


def train_digit_explainer(
    task: DigitTask,
    config: ExplainerConfig = ExplainerConfig(),
    checkpoint_dir: str | Path | None = None,
    seed: int = 0,
    progress: bool = False,
) -> tuple[Any, Any]:
    """An Explainer of ``config.arch`` trained with ``config.loss()`` on ``task.train``, early-stopped on ``task.val``."""
    from peephole_lab.systems.explainer.train import train_explainer

    loss = config.loss()
    net = build_explainer(task, config, seed)
    res = train_explainer(
        net,
        task.classifier,
        (task.train.images, task.train.labels),
        (task.val.images, task.val.labels),
        loss=loss,
        epochs=config.epochs,
        batch_size=config.batch(),
        lr=config.rate(),
        patience=config.patience,
        checkpoint_dir=checkpoint_dir,
        progress=progress,
        seed=seed,
        loss_at=config.loss if config.ramp() > 0 else None,
    )
    return net, res


def distil_from_pami(
    task: DigitTask, n_teacher: int, config: ExplainerConfig = ExplainerConfig(), seed: int = 0, progress: bool = False
) -> tuple[Any, Any]:
    """An Explainer of ``config.arch`` fitted to PAMI maps (σ outputs, window r=4, stride 2, black) of the present digits of
    the first ``n_teacher`` training canvases, early-stopped on those of ``n_teacher // 4`` validation canvases."""
    from peephole_lab.systems.explainer.teacher import present_maps
    from peephole_lab.systems.explainer.train import train_from_teacher

    def maps(c: Canvases, n: int) -> tuple[np.ndarray, np.ndarray]:
        return c.images[:n], present_maps(task.classifier, c, n, progress)

    train, val = maps(task.train, n_teacher), maps(task.val, max(1, n_teacher // 4))
    net = build_explainer(task, config, seed)
    res = train_from_teacher(
        net, train, val, epochs=config.epochs, lr=config.lr or 3e-3, patience=config.patience, progress=progress, seed=seed
    )
    return net, res


def digit_experiment(
    out: str | Path,
    config: ExplainerConfig = ExplainerConfig(),
    n_train: int = 4000,
    n_val: int = 500,
    n_test: int = 500,
    n_explainer: int | None = None,
    n_compare: int = 30,
    n_teacher: int = 300,
    size: int = 48,
    scale: tuple[int, int] = (18, 26),
    methods: tuple[str, ...] | None = None,
    clf_epochs: int = 15,
    seed: int = 0,
    cache_dir: str | Path | None = None,
    figure: str | Path | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """The whole experiment: task (classifier trained on ``n_train`` canvases), Explainer (paper's loss, on the
    first ``n_explainer`` of them, default all), Explainer distilled from PAMI, the side-by-side table
    on the first ``n_compare`` test canvases, and the Explainer's masks on the whole test split. Writes
    ``explainer.pt``, ``distilled.pt``, ``table.md`` and ``report.json`` to ``out``; returns the report."""
    from dataclasses import asdict

    from peephole_lab.systems.explainer.compare import PER_IMAGE, compare_methods, comparison_figure
    from peephole_lab.systems.explainer.evaluate import evaluate_masks, predict_masks
    from peephole_lab.systems.explainer.network import save_explainer

    for name, value, least in (
        ("n_explainer", n_explainer, 1), ("n_compare", n_compare, 1), ("n_teacher", n_teacher, 0), ("clf_epochs", clf_epochs, 1)
    ):  # fmt: skip
        require_count(name, value, least)  # negative: a slice from the end (all but the last canvases)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    task = digit_task(
        n_train, n_val, n_test, size, scale=scale, clf_epochs=clf_epochs, seed=seed, cache_dir=cache_dir, progress=progress
    )
    if n_explainer is not None:  # the Explainer sees the first n_explainer training canvases (classifier: all)
        tr = task.train
        task.train = Canvases(tr.images[:n_explainer], tr.labels[:n_explainer], tr.masks[:n_explainer], tr.class_names)
    net, res = train_digit_explainer(task, config, out / "checkpoints", seed, progress)
    save_explainer(net, out / "explainer.pt")
    nets = {"Explainer": net}
    report: dict[str, Any] = {"config": asdict(config), "classifier_accuracy": task.accuracy}
    report["explainer_training"] = {"epochs_run": len(res.val_loss), "best_epoch": res.best_epoch, "val_loss": res.val_loss}
    if n_teacher > 0:
        dnet, dres = distil_from_pami(task, n_teacher, config, seed, progress)
        save_explainer(dnet, out / "distilled.pt", teacher="pami")
        nets["Explainer (PAMI-distilled)"] = dnet
        report["distilled_training"] = {"epochs_run": len(dres.val_loss), "best_epoch": dres.best_epoch}
    test = task.test
    report["explainer_test_masks"] = evaluate_masks(predict_masks(net, test.images), test.labels, test.masks)
    n = min(n_compare, len(test))
    sub = Canvases(test.images[:n], test.labels[:n], test.masks[:n], test.class_names)
    comp = compare_methods(
        task.classifier, sub, nets, tuple(PER_IMAGE) if methods is None else methods, seed=seed, progress=progress
    )
    report["side_by_side"] = comp.rows
    report["n_compare"] = n
    (out / "table.md").write_text(comp.table())
    if figure:
        report["figure"] = str(comparison_figure(sub, comp, figure))
    (out / "report.json").write_text(json.dumps(report, indent=1))
    return report
