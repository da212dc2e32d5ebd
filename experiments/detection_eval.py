"""Detection maps: PAMI keep-one vs D-RISE (``rise`` on the detection task) at the same query budget, per box.

Photos: the shared COCO photos (``--data``, sorted by name) shrunk to ``--side`` pixels on the longer side, kept
when the detector finds at least one box (plus scikit-image's ``astronaut`` for faces, ``text`` for text), up
to ``--limit`` photos. Every box of a photo is explained from one query set per method. PAMI keeps one part of
the SLIC segmentations ``--segments`` (blur masker); D-RISE gets as many masks as PAMI made queries (``--masks``
overrides, e.g. the published 5,000). Per box: deletion and insertion AUC of the box's similarity score (D-RISE
Eq. 2; ``--steps`` steps; deletion to mid-grey, insertion from the blurred photo), the pointing game (the map's
maximum inside the box, no tolerance) and the energy share inside the box. Nothing is tuned: one run, the
library's defaults otherwise. Rows go to ``--out`` (JSON lines, one per box and method) as they are made; the
table is printed from that file (``--table``).

    python experiments/detection_eval.py --detector haar-face --out faces.jsonl
    python experiments/detection_eval.py --detector dbnet-text --out text.jsonl
    python experiments/detection_eval.py --table faces.jsonl text.jsonl
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import skimage.data
from skimage.io import imread
from skimage.transform import rescale

import peephole
from peephole.metrics import boxes_mask, energy_pointing, pointing_hit
from peephole.metrics.curves import perturbation_curve
from peephole.modalities.image.superpixels import Segmentation
from peephole.models.dbnet import dbnet_detector
from peephole.models.haar import haar_detector

EXTRA = {"haar-face": "astronaut", "dbnet-text": "text"}


def detector(name: str, side: int):
    return dbnet_detector(side=side) if name == "dbnet-text" else haar_detector(name.removeprefix("haar-"))


def shrink(im: np.ndarray, side: int) -> np.ndarray:
    im = np.stack([im] * 3, -1) if im.ndim == 2 else im[..., :3]
    im = im.astype(np.float32) / 255.0 if im.dtype == np.uint8 else im.astype(np.float32)
    s = side / max(im.shape[:2])
    return np.clip(rescale(im, s, channel_axis=-1, anti_aliasing=True), 0, 1).astype(np.float32) if s < 1 else im


def photos(args, det):
    """(name, image) of the photos where the detector finds a box, the scikit-image photo first."""
    found = 0
    sources = [(EXTRA[args.detector], lambda: getattr(skimage.data, EXTRA[args.detector])())]
    sources += [(p.stem, lambda p=p: imread(p)) for p in sorted(Path(args.data, "images").glob("*.jpg"))]
    for name, read in sources:
        im = shrink(read(), args.side)
        if len(det(im[None])[0]["boxes"]):
            yield name, im
            found += 1
            if found >= args.limit:
                return


def run(args) -> None:
    det = detector(args.detector, args.side)
    segs = [Segmentation("slic", {"n_segments": n, "compactness": 20}) for n in args.segments]
    with open(args.out, "a") as out:
        explain_all(args, det, segs, out)


def explain_all(args, det, segs, out) -> None:
    for name, im in photos(args, det):
        t0 = time.perf_counter()
        pami = peephole.explain(det, im, "pami", segmentations=segs)
        budget = pami.n_queries - 1 if args.masks is None else args.masks
        rise = peephole.explain(det, im, "rise", n_masks=budget)
        for e in (pami, rise):
            label = f"{e.method} ({e.n_queries - 1})"
            for i, box in enumerate(e.extras["boxes"]):
                m = e.maps[i]
                step = max(1, m.size // args.steps)
                curves = {
                    k: perturbation_curve(det, im, m, i, k, step=step, task="detection").auc for k in ("deletion", "insertion")
                }
                region = boxes_mask([box], m.shape)
                row = {
                    "photo": name,
                    "box": i,
                    "method": label,
                    "budget": e.n_queries - 1,
                    "reference": float(e.probabilities[i]),
                    **curves,
                    "pointing": bool(pointing_hit(m, region, tolerance=0)),
                    "energy": energy_pointing(m, region),
                }
                out.write(json.dumps(row) + "\n")
                out.flush()
        print(f"{name}: {len(pami.targets)} boxes, budget {budget}, {time.perf_counter() - t0:.0f} s", flush=True)


def stat(v: np.ndarray) -> str:
    return f"{v.mean():.3f} ± {v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else 0:.3f}"


def table(paths: list[str]) -> None:
    """Per file: mean ± standard error per method (AUCs ÷ the box's reference similarity), and PAMI's paired wins."""
    for path in paths:
        with open(path) as f:
            rows = [json.loads(line) for line in f]
        methods = sorted({r["method"].split(" ")[0] for r in rows})
        by = {m: {(r["photo"], r["box"]): r for r in rows if r["method"].startswith(m + " ")} for m in methods}
        keys = sorted(set.intersection(*(set(v) for v in by.values())))
        print(f"\n{path}: {len({k[0] for k in keys})} photos, {len(keys)} boxes\n")
        print("| method | queries (mean) | deletion AUC ↓ | insertion AUC ↑ | pointing ↑ | energy in box ↑ |")
        print("|---|---|---|---|---|---|")
        for m in methods:
            rs = [by[m][k] for k in keys]
            ref = np.array([r["reference"] for r in rs])
            col = {key: np.array([r[key] for r in rs], float) for key in ("deletion", "insertion", "pointing", "energy")}
            budget = np.mean([r["budget"] for r in rs])
            cells = [stat(col["deletion"] / ref), stat(col["insertion"] / ref), stat(col["pointing"]), stat(col["energy"])]
            print(f"| {m} | {budget:.0f} | " + " | ".join(cells) + " |")
        if len(methods) == 2:
            a, b = ([by[m][k] for k in keys] for m in methods)
            wins = {
                key: np.mean([(x[key] < y[key]) if key == "deletion" else (x[key] > y[key]) for x, y in zip(a, b)])
                for key in ("deletion", "insertion", "energy")
            }
            print(
                f"\n{methods[0]} better than {methods[1]} on the same box: " + ", ".join(f"{k} {v:.0%}" for k, v in wins.items())
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--detector", choices=sorted(EXTRA), default="haar-face")
    ap.add_argument("--data", default="../shared/data/coco-boxes")
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("--side", type=int, default=400)
    ap.add_argument("--segments", type=int, nargs="+", default=[8, 16, 32])
    ap.add_argument("--masks", type=int, default=None, help="D-RISE masks (default: PAMI's number of queries)")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--out", default="detection.jsonl")
    ap.add_argument("--table", nargs="+", default=None, help="print the table of these result files and stop")
    args = ap.parse_args()
    if args.table:
        table(args.table)
    else:
        run(args)


if __name__ == "__main__":
    main()
