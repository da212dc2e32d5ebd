"""The Explainer on MNIST digit canvases over training seeds: own-digit IoU and class-specificity on held-out
canvases, with the classifier given as it is or as TorchScript (docs/systems.md, section 3).

The task is ``digit_task`` (cached): ``--size``×``--size`` canvases of 2–3 of the digits ``--classes``, the frozen
multi-label classifier trained on ``--n-train`` of them (``--clf-epochs``, seed 0). For each Explainer seed, an
Explainer (``--objective``, default preserve-destroy) trains on the first ``--n-explainer`` training canvases,
early-stopped on the validation canvases (generator seed 1), and is scored on the test canvases (generator seed 2)
and on ``--n-heldout`` canvases of MNIST's test digits from generator seed ``--heldout-seed`` (neither seen in
training nor in early stopping). ``--torchscript`` trains and scores the Explainer of the classifier saved as
TorchScript (``torch.jit.script``). One JSON line per run, then mean ± sample standard deviation over seeds;
``--summarise FILE...`` prints that summary for the JSON lines of several runs (seeds run in parallel).

    python experiments/explainer_seeds.py --seeds 0 1 2 [--torchscript]   # the defaults: 1,500 canvases, 20 epochs
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import torch

from peephole.evaluation.report import spread_lines
from peephole_lab.data.canvases import Canvases
from peephole_lab.data.digit_canvases import digit_canvases
from peephole_lab.systems.explainer.digits import DigitTask, ExplainerConfig, digit_task, train_digit_explainer
from peephole_lab.systems.explainer.evaluate import evaluate_masks, predict_masks

KEYS = ("soft_iou", "hard_iou", "own", "absent")


def scores(net: torch.nn.Module, c: Canvases) -> dict[str, float]:
    masks = predict_masks(net, c.images)
    ev = evaluate_masks(masks, c.labels, c.masks)
    per_class = [
        evaluate_masks(masks[:, [k]], c.labels[:, [k]], c.masks[:, [k]])["soft_iou"]["explainer"]
        for k in range(c.labels.shape[1])
    ]
    return {
        "soft_iou": ev["soft_iou"]["explainer"],
        "hard_iou": ev["hard_iou"]["explainer"],
        "own": ev["own_object_mean"],
        "absent": ev["absent_class_on_objects_mean"],
        "soft_iou_per_class": per_class,
    }


def summarise(runs: list[dict[str, float]], title: str) -> None:
    print(f"{len(runs)} seeds, {title}:", *spread_lines(runs, ("val", "test", "heldout"), KEYS, digits=4), sep="\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--digit-side", type=int, nargs=2, default=(14, 18))
    ap.add_argument("--classes", type=int, nargs="+", default=[0, 1, 3, 4])
    ap.add_argument("--n-train", type=int, default=1500)
    ap.add_argument("--n-explainer", type=int, default=1500)
    ap.add_argument("--n-val", type=int, default=150)
    ap.add_argument("--n-test", type=int, default=500)
    ap.add_argument("--n-heldout", type=int, default=500)
    ap.add_argument("--heldout-seed", type=int, default=4)
    ap.add_argument("--clf-epochs", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=20, help="ExplainerConfig's default (15 before the absent-weight ramp)")
    ap.add_argument("--objective", default="preserve-destroy", choices=("preserve-destroy", "paper"))
    ap.add_argument("--arch", default="backbone", choices=("backbone", "unet"))
    ap.add_argument("--torchscript", action="store_true", help="the classifier as TorchScript")
    ap.add_argument("--config", default="{}", help="other ExplainerConfig fields as JSON, e.g. '{\"lambda_a\": 5}'")
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    ap.add_argument("--cache", default=None)
    ap.add_argument("--progress", action="store_true", help="a progress bar per Explainer (stderr)")
    ap.add_argument("--summarise", nargs="+", default=None, metavar="FILE", help="only summarise these JSON-lines files")
    args = ap.parse_args()
    if args.summarise:
        lines = [ln for f in args.summarise for ln in Path(f).read_text().splitlines() if ln.startswith("{")]
        summarise([json.loads(ln) for ln in lines], ", ".join(args.summarise))
        return
    torch.set_num_threads(args.threads)
    shape = {"size": args.size, "n_digits": (2, 3), "scale": tuple(args.digit_side), "classes": tuple(args.classes)}
    task = digit_task(
        args.n_train,
        args.n_val,
        args.n_test,
        args.size,
        scale=tuple(args.digit_side),
        clf_epochs=args.clf_epochs,
        cache_dir=args.cache,
        classes=tuple(args.classes),
    )
    heldout = digit_canvases(args.n_heldout, "test", args.cache, **shape, seed=args.heldout_seed)
    clf = torch.jit.script(task.classifier) if args.torchscript else task.classifier
    tr = task.train
    n = args.n_explainer
    small = DigitTask(Canvases(tr.images[:n], tr.labels[:n], tr.masks[:n]), task.val, task.test, clf)
    config = replace(ExplainerConfig(), objective=args.objective, arch=args.arch, epochs=args.epochs, **json.loads(args.config))
    runs = []
    for seed in args.seeds:
        net, res = train_digit_explainer(small, config, seed=seed, progress=args.progress)
        row = {
            "seed": seed,
            "config": args.config,
            "torchscript": args.torchscript,
            "epochs_run": len(res.val_loss),
            "best_epoch": res.best_epoch,
            "val_loss": res.val_loss,  # per epoch: the early stopping's trace
        }
        row.update({f"val_{k}": v for k, v in scores(net, task.val).items()})  # the split any setting is chosen on
        row.update({f"test_{k}": v for k, v in scores(net, task.test).items()})
        row.update({f"heldout_{k}": v for k, v in scores(net, heldout).items()})
        print(json.dumps(row), flush=True)
        runs.append(row)
    summarise(runs, f"classifier {'TorchScript' if args.torchscript else 'eager'}, {args.objective}, {args.arch}")


if __name__ == "__main__":
    main()
