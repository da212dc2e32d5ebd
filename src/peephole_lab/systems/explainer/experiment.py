"""The canvas experiment of ``peephole explainer``: train a small multi-label classifier of synthetic
canvases (cached), an Explainer for it (the paper's loss, or PAMI as teacher), and score its masks
against the known object masks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from peephole.core.options import require_count, require_finite


def canvas_task(
    out: str | Path | None, size: int = 24, n_train: int = 1500, colour_coded: bool = False, seed: int = 0, progress: bool = True
) -> tuple:
    """``(train, val, test, classifier)``: ``n_train``, 200 and 200 canvases (generator seeds ``seed``, ``seed + 1``,
    ``seed + 2``) and a small multi-label classifier trained on the first (cached as ``out/classifier.pt`` unless
    ``out`` is None)."""
    import torch

    from peephole_lab.data import SmallCNN, load_classifier, make_canvases, save_classifier, train_classifier

    sizes = ((n_train, 0), (200, 1), (200, 2))
    tr, va, te = (make_canvases(n, size, seed=seed + s, colour_coded=colour_coded) for n, s in sizes)
    clf_path = None if out is None else Path(out) / "classifier.pt"
    if clf_path is not None and clf_path.exists():
        return tr, va, te, load_classifier(clf_path)
    torch.manual_seed(seed)
    clf = train_classifier(
        SmallCNN(3, tr.labels.shape[1], 16, "max", size, batchnorm=True),
        tr.images,
        tr.labels,
        epochs=6,
        lr=3e-3,
        batch_size=32,
        multilabel=True,
        seed=seed,
        progress=progress,
    )
    if clf_path is not None:
        save_classifier(clf, clf_path)
    return tr, va, te, clf


def canvas_experiment(
    out: str | Path,
    size: int = 24,
    n_train: int = 1500,
    epochs: int = 12,
    lr: float = 5e-3,
    width: int = 8,
    depth: int = 2,
    lambda_n: float = 0.3,
    patience: int = 5,
    teacher: str | None = None,
    n_teacher: int = 200,
    colour_coded: bool = False,
    seed: int = 0,
    figure: str | Path | None = None,
) -> dict[str, Any]:
    """Run the experiment, write ``classifier.pt``, ``explainer.pt`` and ``checkpoints/`` to ``out``; return the report.
    Every count and weight is checked before the classifier is trained (one :class:`InputError` naming it)."""
    for name, value in {"n_train": n_train, "epochs": epochs, "patience": patience, "n_teacher": n_teacher}.items():
        require_count(name, value, 1)  # a negative n_teacher used to slice from the end: all but the last images
    require_finite("lr", lr, 0, strict=True)
    require_finite("lambda_n", lambda_n, 0)
    import torch

    from peephole_lab.systems.explainer.evaluate import evaluate_masks, predict_masks
    from peephole_lab.systems.explainer.losses import ExplainerLoss
    from peephole_lab.systems.explainer.network import ExplainerNet, save_explainer
    from peephole_lab.systems.explainer.train import train_explainer, train_from_teacher

    out = Path(out)
    tr, va, te, clf = canvas_task(out, size, n_train, colour_coded, seed)
    k = tr.labels.shape[1]
    torch.manual_seed(seed)
    net = ExplainerNet(k, 3, width, depth)
    common = {"epochs": epochs, "lr": lr, "patience": patience, "checkpoint_dir": out / "checkpoints", "seed": seed}
    report: dict[str, Any] = {}
    if teacher == "pami":
        from peephole_lab.systems.explainer.teacher import map_correlation, present_maps

        n_t = min(n_teacher, len(tr))
        t_tr, t_va, t_te = (present_maps(clf, c, n, progress=True) for c, n in ((tr, n_t), (va, 50), (te, 100)))
        res = train_from_teacher(net, (tr.images[:n_t], t_tr), (va.images[:50], t_va), **common)
        pred = predict_masks(net, te.images[:100])
        report["correlation_with_pami"] = map_correlation(pred, t_te)
        pami_eval = evaluate_masks(np.nan_to_num(t_te), te.labels[:100], te.masks[:100])
        report["pami_soft_iou"] = pami_eval["soft_iou"]["explainer"]
    else:
        res = train_explainer(
            net, clf, (tr.images, tr.labels), (va.images, va.labels), loss=ExplainerLoss(lambda_n=lambda_n), **common
        )
    save_explainer(net, out / "explainer.pt", teacher=teacher or "")
    masks = predict_masks(net, te.images)
    report.update(evaluate_masks(masks, te.labels, te.masks))
    report["epochs_run"], report["best_epoch"] = len(res.val_loss), res.best_epoch
    if figure:
        from peephole.modalities.image.view import grid

        rows, titles = [], []
        for i in range(6):
            rows.append([te.images[i].transpose(1, 2, 0)] + list(masks[i]))
            present_names = "+".join(n for n, lab in zip(te.class_names, te.labels[i]) if lab)
            states = [f"{n} ({'in' if lab else 'absent'})" for n, lab in zip(te.class_names, te.labels[i])]
            titles.append([present_names, *states])
        report["figure"] = str(grid(rows, titles, figure, cmap="viridis", vrange=(0.0, 1.0)))
    return report
