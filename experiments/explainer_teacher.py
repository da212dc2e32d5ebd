"""The PAMI-distilled Explainer on synthetic canvases over training seeds: how closely its maps follow PAMI's
(Pearson r) and how well they cover the objects, on held-out canvases (docs/systems.md, "PAMI as teacher").

The task is the one of ``peephole explainer --colour-coded`` (``canvas_task``: ``--size``×``--size`` canvases, the
multi-label classifier trained on ``--n-train`` of them with seed 0, cached in ``--cache``). PAMI's teacher maps
(σ outputs, window r=4, stride 2, black; present classes) of the first ``--n-teacher`` training canvases, the first
``--n-val`` validation canvases (generator seed 1: early stopping) and ``--n-heldout`` canvases of generator seed
``--heldout-seed`` (used by nothing else) are computed once and cached in ``--cache``: they depend on the canvases
and the classifier, not on the Explainer's seed. The first JSON line scores PAMI's own maps (named "explainer")
and the all-1 masks on the held-out canvases. For each seed an Explainer is distilled from the cached maps and
scored on the held-out canvases: r with PAMI's maps (mean over canvas × present class), soft / hard IoU with the
true objects, own-object and absent-class means. One JSON line per seed, then mean ± sample sd (min, max).

    python experiments/explainer_teacher.py --seeds 0 1 2 --cache /tmp/pami-teacher
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from peephole.evaluation.report import spread_lines
from peephole_lab.data import make_canvases
from peephole_lab.data.canvases import Canvases
from peephole_lab.systems.explainer.evaluate import evaluate_masks, predict_masks
from peephole_lab.systems.explainer.experiment import canvas_task
from peephole_lab.systems.explainer.network import ExplainerNet
from peephole_lab.systems.explainer.teacher import map_correlation, present_maps
from peephole_lab.systems.explainer.train import train_from_teacher

KEYS = ("r", "soft_iou", "hard_iou", "own", "absent")


def cached_maps(cache: Path, name: str, clf: torch.nn.Module, c: Canvases, n: int) -> np.ndarray:
    """PAMI's maps of the first ``n`` canvases of ``c``, read from ``cache`` when made before."""
    path = cache / f"teacher-{name}-{n}.npz"
    if path.exists():
        return np.load(path)["maps"]
    t0 = time.perf_counter()
    maps = present_maps(clf, c, n, progress=True)
    seconds = time.perf_counter() - t0
    np.savez_compressed(path, maps=maps, seconds=seconds)
    print(f"teacher maps {name}: {n} canvases in {seconds:.0f} s ({seconds / max(n, 1):.2f} s each)", flush=True)
    return maps


def scores(masks: np.ndarray, teacher: np.ndarray, c: Canvases) -> dict[str, float]:
    ev = evaluate_masks(masks, c.labels, c.masks)
    return {
        "r": map_correlation(masks, teacher),
        "soft_iou": ev["soft_iou"]["explainer"],
        "hard_iou": ev["hard_iou"]["explainer"],
        "own": ev["own_object_mean"],
        "absent": ev["absent_class_on_objects_mean"],
    }


def summarise(runs: list[dict[str, float]]) -> None:
    print(f"{len(runs)} seeds:", *spread_lines(runs, ("val", "heldout"), KEYS), sep="\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--size", type=int, default=24)
    ap.add_argument("--n-train", type=int, default=1000, help="canvases the classifier trains on")
    ap.add_argument("--n-teacher", type=int, default=150, help="training canvases with PAMI maps (<= --n-train)")
    ap.add_argument("--n-val", type=int, default=50)
    ap.add_argument("--n-heldout", type=int, default=100)
    ap.add_argument("--heldout-seed", type=int, default=4)
    ap.add_argument("--shapes-only", action="store_true", help="classes told apart by shape only (default: colour-coded)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--lr", type=float, default=5e-3)
    ap.add_argument("--patience", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    ap.add_argument("--cache", default="/tmp/pami-teacher")
    args = ap.parse_args()
    if args.n_teacher > args.n_train:
        ap.error(f"--n-teacher {args.n_teacher} > --n-train {args.n_train}: the teacher canvases are the classifier's")
    torch.set_num_threads(args.threads)
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    coded = not args.shapes_only
    tr, va, _, clf = canvas_task(cache, args.size, args.n_train, coded, seed=0)
    held = make_canvases(args.n_heldout, args.size, seed=args.heldout_seed, colour_coded=coded)
    t_tr = cached_maps(cache, "train", clf, tr, args.n_teacher)
    t_va = cached_maps(cache, "val", clf, va, args.n_val)
    t_he = cached_maps(cache, f"heldout{args.heldout_seed}", clf, held, args.n_heldout)
    pami = evaluate_masks(np.nan_to_num(t_he), held.labels, held.masks)  # PAMI's own maps and the constant masks
    print(json.dumps({f"heldout_{kind}_{m}": pami[kind][m] for kind in ("soft_iou", "hard_iou") for m in ("explainer", "all-1")}))
    val = Canvases(va.images[: args.n_val], va.labels[: args.n_val], va.masks[: args.n_val])
    runs = []
    for seed in args.seeds:
        torch.manual_seed(seed)
        net = ExplainerNet(tr.labels.shape[1], 3, width=8, depth=2)
        res = train_from_teacher(
            net,
            (tr.images[: args.n_teacher], t_tr),
            (val.images, t_va),
            epochs=args.epochs,
            lr=args.lr,
            patience=args.patience,
            progress=False,
            seed=seed,
        )
        row: dict = {"seed": seed, "epochs_run": len(res.val_loss), "best_epoch": res.best_epoch}
        row.update({f"val_{k}": v for k, v in scores(predict_masks(net, val.images), t_va, val).items()})
        row.update({f"heldout_{k}": v for k, v in scores(predict_masks(net, held.images), t_he, held).items()})
        print(json.dumps(row), flush=True)
        runs.append(row)
    summarise(runs)


if __name__ == "__main__":
    main()
