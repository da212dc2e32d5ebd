"""The pointing game with a map's tied maxima broken by a smoothed copy of the map (a diagnostic, docs/results.md).

A PAMI path map is constant over the intersections of its superpixels, so its maximum is a tied region of hundreds
of pixels and the pointing game scores the share of that region near the boxes. Breaking the tie by a Gaussian-
smoothed copy of the same map picks the tied pixel surrounded by the most importance; the map's order between its
regions is unchanged. Per pair: the tied region's size, the stored rule's hit, the hit with the tie broken (σ = 4, 8,
16 px), the hit of the smoothed map's own maximum, and the other method's hit, all from the store's maps:

    python experiments/report_card/ties.py STORE --data ../shared/data/coco-boxes --out FILE.jsonl
    python experiments/report_card/ties.py --summary FILE.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.ndimage import distance_transform_edt, gaussian_filter

SIGMAS = (4, 8, 16)


def hits(saliency: np.ndarray, region: np.ndarray) -> dict[str, float]:
    """The diagnostic's figures for one map and its class region (H×W bool)."""
    from peephole.metrics.pointing import TOLERANCE, pointing_hit

    near = distance_transform_edt(~region) <= TOLERANCE
    top = saliency == saliency.max()
    out = {"tied px": int(top.sum()), "pointing": pointing_hit(saliency, region)}
    for s in SIGMAS:
        smooth = gaussian_filter(saliency, s)
        out[f"tie broken σ{s}"] = float(near.flat[np.argmax(np.where(top, smooth, -np.inf))])
        out[f"smoothed σ{s}"] = float(near.flat[np.argmax(smooth)])
    return out


def measure(store: str, data: str, method: str, other: str) -> list[dict]:
    """One row per pair of the store that has both methods' maps."""
    import peephole
    from peephole.evaluation.data import class_regions, read_coco_boxes
    from peephole.metrics.pointing import pointing_hit
    from peephole.store.runs import Store

    photos = {p.path.name: p for p in read_coco_boxes(data)}
    ids = {r["id"] for r in Store(store).rows("done")}
    rows = []
    for pair in sorted(
        {i.rsplit("/", 1)[0] for i in ids if i.endswith(f"/{method}")}
        & {i.rsplit("/", 1)[0] for i in ids if i.endswith(f"/{other}")}
    ):
        name, cls = pair.split(":", 1)
        region = class_regions(photos[name], (224, 224))[cls]
        maps = {m: np.asarray(peephole.load(store, item=f"{pair}/{m}").maps[0], np.float64) for m in (method, other)}
        rows.append({"pair": pair, **hits(maps[method], region), f"{other} pointing": pointing_hit(maps[other], region)})
    return rows


def summary(rows: list[dict]) -> list[str]:
    """Mean of each column, and each pointing column's paired difference with the other method's (± s.e.)."""
    other = next(k for k in rows[0] if k.endswith(" pointing"))
    lines = [
        f"{len(rows)} pairs; tied maximum over more than one pixel in {sum(r['tied px'] > 1 for r in rows)}, "
        f"median {np.median([r['tied px'] for r in rows]):.0f} px"
    ]
    for k in [k for k in rows[0] if k not in ("pair", "tied px")]:
        d = np.array([r[k] - r[other] for r in rows])
        lines.append(
            f"{k}: {np.mean([r[k] for r in rows]):.3f} (− {other}: {d.mean():+.3f} ± {d.std(ddof=1) / np.sqrt(len(d)):.3f})"
        )
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("store", nargs="?", help="a COCO card's run store")
    p.add_argument("--data", help="the COCO boxes folder the store was made from")
    p.add_argument("--method", default="pami-path-seg2")
    p.add_argument("--other", default="rise-centred", help="the method whose pointing each row is paired with")
    p.add_argument("--out", help="write the rows here (JSON lines)")
    p.add_argument("--summary", help="print the summary of these rows")
    a = p.parse_args()
    if a.summary:
        print("\n".join(summary([json.loads(x) for x in Path(a.summary).read_text().splitlines()])))
        return
    rows = measure(a.store, a.data, a.method, a.other)
    Path(a.out).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print("\n".join(summary(rows)))


if __name__ == "__main__":
    main()
