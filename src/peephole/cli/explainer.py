"""``peephole explainer --out DIR``: train an Explainer network (Stalder et al., NeurIPS 2022) for a small
classifier of synthetic multi-object canvases, evaluate it against the known object masks, draw a figure;
``--teacher pami`` trains it to reproduce PAMI maps instead and reports how close it gets."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from peephole.cli.saliency import grid
from peephole.errors import PeepholeError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explainer",
        help="train and evaluate an Explainer network on synthetic canvases",
        description="Train a canvas classifier (cached in OUT), then an Explainer with the paper's loss; "
        "print IoU against the true object masks and the constant-mask baselines.",
    )
    p.add_argument("--out", default="peephole-explainer", help="folder for classifier.pt, explainer.pt, checkpoints/")
    p.add_argument("--size", type=int, default=24, help="canvas size in pixels (default 24)")
    p.add_argument("--n-train", type=int, default=1500)
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--lr", type=float, default=5e-3)
    p.add_argument("--width", type=int, default=8, help="Explainer width (channels at full resolution)")
    p.add_argument("--depth", type=int, default=2, help="Explainer poolings")
    p.add_argument("--lambda-n", type=float, default=0.3, help="weight of mean(non-target mask) (paper: 0.3)")
    p.add_argument("--patience", type=int, default=5)
    p.add_argument("--teacher", default=None, choices=("pami",), help="distil PAMI maps instead of the paper's loss")
    p.add_argument("--n-teacher", type=int, default=200, help="training images with PAMI maps (--teacher pami)")
    p.add_argument("--colour-coded", action="store_true", help="each class also has its own colour (an easier task)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--figure", default=None, metavar="FILE.png")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from peephole.data import SmallCNN, load_classifier, make_canvases, save_classifier, train_classifier
    from peephole.explainer import ExplainerLoss, ExplainerNet, save_explainer, train_explainer, train_from_teacher
    from peephole.explainer.evaluate import evaluate_masks, predict_masks

    out = Path(args.out)
    try:
        sizes = ((args.n_train, 0), (200, 1), (200, 2))
        tr, va, te = (make_canvases(n, args.size, seed=args.seed + s, colour_coded=args.colour_coded) for n, s in sizes)
        k = tr.labels.shape[1]
        clf_path = out / "classifier.pt"
        if clf_path.exists():
            clf = load_classifier(clf_path)
        else:
            torch.manual_seed(args.seed)
            clf = train_classifier(
                SmallCNN(3, k, 16, "max", args.size, batchnorm=True),
                tr.images,
                tr.labels,
                epochs=6,
                lr=3e-3,
                batch_size=32,
                multilabel=True,
                seed=args.seed,
                progress=True,
            )
            save_classifier(clf, clf_path)
        torch.manual_seed(args.seed)
        net = ExplainerNet(k, 3, args.width, args.depth)
        common = {
            "epochs": args.epochs,
            "lr": args.lr,
            "patience": args.patience,
            "checkpoint_dir": out / "checkpoints",
            "seed": args.seed,
        }
        report: dict = {}
        if args.teacher == "pami":
            from peephole.explainer.teacher import map_correlation, pami_maps

            def present(c: object) -> list[list[int]]:
                return [list(np.nonzero(lab)[0]) for lab in c.labels]  # type: ignore[attr-defined]

            n_t = min(args.n_teacher, len(tr))
            t_tr = pami_maps(clf, tr.images[:n_t], present(tr)[:n_t], progress=True)
            t_va = pami_maps(clf, va.images[:50], present(va)[:50], progress=True)
            t_te = pami_maps(clf, te.images[:100], present(te)[:100], progress=True)
            res = train_from_teacher(net, (tr.images[:n_t], t_tr), (va.images[:50], t_va), **common)
            pred = predict_masks(net, te.images[:100])
            report["correlation_with_pami"] = map_correlation(pred, t_te)
            pami_eval = evaluate_masks(np.nan_to_num(t_te), te.labels[:100], te.masks[:100])
            report["pami_soft_iou"] = pami_eval["soft_iou"]["explainer"]
        else:
            res = train_explainer(
                net, clf, (tr.images, tr.labels), (va.images, va.labels), loss=ExplainerLoss(lambda_n=args.lambda_n), **common
            )
        save_explainer(net, out / "explainer.pt", teacher=args.teacher or "")
        masks = predict_masks(net, te.images)
        report.update(evaluate_masks(masks, te.labels, te.masks))
    except PeepholeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report["epochs_run"], report["best_epoch"] = len(res.val_loss), res.best_epoch
    print(json.dumps(report, indent=1))
    print(f"wrote {out / 'explainer.pt'} and {out / 'checkpoints'}/")
    if args.figure:
        rows, titles = [], []
        for i in range(6):
            rows.append([te.images[i].transpose(1, 2, 0)] + list(masks[i]))
            present_names = "+".join(n for n, lab in zip(te.class_names, te.labels[i]) if lab)
            states = [f"{n} ({'in' if lab else 'absent'})" for n, lab in zip(te.class_names, te.labels[i])]
            titles.append([present_names, *states])
        print(f"wrote {grid(rows, titles, args.figure, cmap='viridis', vrange=(0.0, 1.0))}")
    return 0
