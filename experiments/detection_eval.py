"""Detection maps: PAMI against D-RISE (``rise`` on the detection task) at the same query budget, per box.

Photos: the photos of ``--data`` sorted by name — the shared COCO photos (its ``images/`` folder; 640 px on the
longer side), or any folder of photos such as the shared ImageNet sample (a dev pool disjoint from COCO; shrunk
to at most 640 px) — kept when the detector (working at ``--side`` px) finds at least one box; the kept photos
alternate between the dev split (even positions) and the test split (odd positions); ``--split`` picks one (or
``all``), ``--limit`` caps its photos; ``--skip K`` first drops the first K photos where the detector finds a box
(photos already used, e.g. a dev run's ``--split all --limit K``; the split then counts from the next one).
Every box of a photo is explained from one query set per configuration (``--configs``, each given ``--budget``
perturbed queries):

- ``pami-superpixels``: PAMI keep-one over SLIC segmentations of n, 2n and 4n segments, about the budget in all;
- ``pami-window``: PAMI keep-one over square sliding windows, at most the budget (the smallest such stride;
  radius = stride, so neighbours overlap by half);
- ``pami-circles-2`` / ``pami-circles-3``: PAMI keep-one over circular windows on the same grid of centres, radius
  2 or 3 strides (a pixel lies in about 4π or 9π windows, so Eq. 1's average varies over small cells);
- ``pami-path``: the greedy keep-and-hide path over ~50 SLIC superpixels (half the budget on its surrogate);
  ``pami-path-fine``: the same over about ``--budget`` superpixels;
- ``d-rise``: RISE's random masks with the detection task's similarity (D-RISE; its defaults: 7×7 cells,
  p = 0.5, mid-grey), as many masks as the first configuration's perturbed queries on that photo, or ``--budget``
  when it is the first; ``d-rise-5000``: the same at D-RISE's published 5,000 masks, whatever the budget (list it
  after another configuration: the first one's queries set the budget of the others).

Per box (the ``--boxes`` highest-scoring boxes of a photo): deletion and insertion AUC of the box's similarity
(D-RISE Eq. 2; ``--steps`` steps; deletion to mid-grey, insertion from the blurred photo), the pointing game
(the map's maximum inside the box, no tolerance; ties: the share of maximal pixels inside, see
:func:`peephole.metrics.pointing_hit`) and the energy share inside the box (0 for a map with no positive mass).
Rows go to ``--out`` (JSON lines, one per box and configuration) as they are made; ``--table`` prints each file's
table (mean ± standard error over boxes; a file may hold the rows of several runs, ``cat``-ed) and the paired
differences of every configuration with each D-RISE configuration in it (``d-rise``, ``d-rise-5000``) on the same boxes.

    python experiments/detection_eval.py --detector haar-face --split dev \
        --configs pami-superpixels pami-window pami-path --out dev.jsonl
    python experiments/detection_eval.py --detector haar-face --split test --configs pami-path d-rise --out test.jsonl
    python experiments/detection_eval.py --table dev.jsonl test.jsonl
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from skimage.io import imread
from skimage.transform import resize

import peephole
from peephole.evaluation.report import mean_sem
from peephole.metrics import boxes_mask, energy_pointing, pointing_hit
from peephole.metrics.curves import perturbation_curve
from peephole.modalities.image.superpixels import Segmentation, Superpixels
from peephole.modalities.image.windows import window_centres
from peephole.models.registry import load_model

CONFIGS = (
    "pami-superpixels",
    "pami-window",
    "pami-circles-2",
    "pami-circles-3",
    "pami-path",
    "pami-path-fine",
    "d-rise",
    "d-rise-5000",
)
METRICS = ("deletion", "insertion", "pointing", "energy")  #: deletion: lower is better; the others: higher


def rgb(im: np.ndarray) -> np.ndarray:
    """Float RGB in [0, 1], shrunk to at most 640 px on the longer side (the COCO photos already are)."""
    im = np.stack([im] * 3, -1) if im.ndim == 2 else im[..., :3]
    im = im.astype(np.float32) / 255.0
    scale = 640 / max(im.shape[:2])
    return resize(im, (round(im.shape[0] * scale), round(im.shape[1] * scale)), anti_aliasing=True) if scale < 1 else im


def photos(args, det):
    """(name, image) of the split's photos: every other photo where the detector finds a box, after the first ``--skip``."""
    found = -args.skip
    folder = Path(args.data, "images") if Path(args.data, "images").is_dir() else Path(args.data)
    for p in sorted(q for q in folder.iterdir() if q.suffix.lower() in (".jpg", ".jpeg", ".png")):
        im = rgb(imread(p))
        if not len(det(im[None])[0]["boxes"]):
            continue
        found += 1
        if found < 1:  # one of the --skip photos
            continue
        if args.split == "all" or (found - 1) % 2 == (args.split == "test"):
            yield p.stem, im
            if (found if args.split == "all" else (found + 1) // 2) >= args.limit:
                return


def superpixels(im: np.ndarray, budget: int) -> Superpixels:
    """SLIC at n, 2n and 4n segments, n set so that the parts number about ``budget`` (SLIC makes fewer than asked:
    the sizes are scaled once by the shortfall)."""
    make = lambda scale: Superpixels.from_image(  # noqa: E731
        im, [Segmentation("slic", {"n_segments": round(budget * scale * f / 7), "compactness": 20}) for f in (1, 2, 4)]
    )
    first = make(1.0)
    return make(budget / first.n_parts) if first.n_parts < 0.9 * budget else first


def options(config: str, im: np.ndarray, budget: int) -> tuple[str, dict[str, Any]]:
    """The method and options of a configuration at about ``budget`` perturbed queries."""
    if config == "pami-superpixels":
        return "pami", {"partition": superpixels(im, budget)}
    if config == "pami-window" or config.startswith("pami-circles"):  # the smallest stride giving at most budget windows
        h, w = im.shape[:2]
        stride = next(s for s in range(1, max(h, w) + 1) if len(window_centres(h, s)) * len(window_centres(w, s)) <= budget)
        if config == "pami-window":  # squares, radius = stride
            return "pami", {"partition": "window", "radius": stride, "stride": stride, "window": "square"}
        radius = min(int(config[-1]) * stride, (min(h, w) - 1) // 2)  # circles of k strides: k² π windows over a pixel
        return "pami", {"partition": "window", "radius": radius, "stride": stride, "window": "circle"}
    if config.startswith("pami-path"):  # -fine: about budget superpixels instead of the default 50
        fine = {"partition": "slic", "n_segments": budget} if config == "pami-path-fine" else {}
        return "pami-path", {"max_queries": budget + 1, "n_samples": budget // 2, **fine}
    return "rise", {"n_masks": 5000 if config == "d-rise-5000" else budget}


def run(args) -> None:
    det = load_model(args.detector, side=args.side)
    done = {json.loads(line)["photo"] for line in Path(args.out).read_text().splitlines()} if Path(args.out).exists() else set()
    with open(args.out, "a") as out:
        for name, im in photos(args, det):
            if name in done:  # an interrupted run resumes
                continue
            t0 = time.perf_counter()
            first = None
            for config in args.configs:  # PAMI's configurations at about --budget; D-RISE at the first one's queries
                method, opts = options(config, im, args.budget if first is None else first)
                e = peephole.explain(det, im, method, **opts)
                first = e.n_queries - 1 if first is None else first
                for row in score(args, det, im, e):
                    out.write(json.dumps({"photo": name, "split": args.split, "config": config, **row}) + "\n")
                out.flush()
            print(f"{name}: {len(e.targets)} boxes, budget {first}, {time.perf_counter() - t0:.0f} s", flush=True)


def score(args, det, im: np.ndarray, e) -> list[dict[str, Any]]:
    """The metrics of the maps of the photo's ``args.boxes`` highest-scoring boxes."""
    rows = []
    for i in np.argsort(-np.asarray(e.extras["box_scores"]), kind="stable")[: args.boxes]:
        m, box = e.maps[i], e.extras["boxes"][i]
        step = max(1, m.size // args.steps)
        curves = {k: perturbation_curve(det, im, m, int(i), k, step=step, task="detection").auc for k in METRICS[:2]}
        region = boxes_mask([box], m.shape)
        rows.append(
            {
                "box": int(i),
                "budget": e.n_queries - 1,
                "reference": float(e.probabilities[i]),
                "deletion": curves["deletion"] / float(e.probabilities[i]),
                "insertion": curves["insertion"] / float(e.probabilities[i]),
                "pointing": pointing_hit(m, region, tolerance=0),
                "energy": energy_pointing(m, region),
            }
        )
    return rows


def cell(values) -> str:
    mean, sem = mean_sem(values)
    return f"{mean:.3f} ± {sem:.3f}"


def table(paths: list[str]) -> None:
    """Per file: mean ± standard error over boxes per configuration, and each one's paired difference with each D-RISE."""
    for path in paths:
        with open(path) as f:
            rows = [json.loads(line) for line in f]
        for r in rows:  # a map with no positive mass puts none of it in the box
            r["energy"] = 0.0 if r["energy"] is None or np.isnan(r["energy"]) else r["energy"]
        configs = list(dict.fromkeys(r["config"] for r in rows))
        by = {c: {(r["photo"], r["box"]): r for r in rows if r["config"] == c} for c in configs}
        keys = sorted(set.intersection(*(set(v) for v in by.values())))
        print(f"\n{path}: {len({k[0] for k in keys})} photos, {len(keys)} boxes\n")
        print("| configuration | queries (mean) | deletion ↓ | insertion ↑ | pointing ↑ | energy in box ↑ |")
        print("|---|---|---|---|---|---|")
        for c in configs:
            rs = [by[c][k] for k in keys]
            print(
                f"| {c} | {np.mean([r['budget'] for r in rs]):.0f} | "
                + " | ".join(cell([r[m] for r in rs]) for m in METRICS)
                + " |"
            )
        refs = [c for c in configs if c.startswith("d-rise")]
        if not refs:
            continue
        print("\n| paired difference (same boxes) | deletion | insertion | pointing | energy |\n|---|---|---|---|---|")
        for c, ref in ((c, r) for i, r in enumerate(refs) for c in configs if c not in refs[: i + 1]):
            diffs = {m: [by[c][k][m] - by[ref][k][m] for k in keys] for m in METRICS}
            sign = {m: -np.sign(diffs[m]) if m == "deletion" else np.sign(diffs[m]) for m in METRICS}  # +1: better
            cells = [f"{cell(diffs[m])} ({np.mean(sign[m] > 0):.0%} better, {np.mean(sign[m] < 0):.0%} worse)" for m in METRICS]
            print(f"| {c} − {ref} | " + " | ".join(cells) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--detector", choices=["haar-face", "dbnet-text"], default="haar-face")
    ap.add_argument("--side", type=int, default=None, help="the detector's working size (default: the registry's)")
    ap.add_argument("--data", default="../shared/data/coco-boxes")
    ap.add_argument("--split", choices=["dev", "test", "all"], default="dev")
    ap.add_argument("--limit", type=int, default=1000, help="photos of the split at most")
    ap.add_argument("--skip", type=int, default=0, help="drop the first SKIP photos where the detector finds a box")
    ap.add_argument("--configs", nargs="+", choices=CONFIGS, default=["pami-path", "d-rise"])
    ap.add_argument("--budget", type=int, default=100, help="perturbed queries per photo and configuration")
    ap.add_argument("--boxes", type=int, default=3, help="boxes scored per photo (the highest-scoring)")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--out", default="detection.jsonl")
    ap.add_argument("--table", nargs="+", default=None, help="print the tables of these result files and stop")
    args = ap.parse_args()
    if args.table:
        table(args.table)
    else:
        run(args)


if __name__ == "__main__":
    main()
