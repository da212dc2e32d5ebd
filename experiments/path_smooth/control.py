"""Does smoothing alone lower deletion? The random map against the same map smoothed (σ = 8 px), on the dev photos of
experiments/path_smooth/PLAN.md: held-out insertion and deletion on mid-grey and on blur (step 1792 px), one JSON
line per photo; a map that carries nothing must not gain from the filter if the default's gain is its own.

    OMP_NUM_THREADS=1 PYTHONPATH=src python experiments/path_smooth/control.py ../shared/data/imagenet-sample \\
        --limit 10 --out control.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1]))  # experiments/: the dev experiments' shared columns
from path_stability import control_row  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", help="the ImageNet sample folder (labels.csv)")
    p.add_argument("--limit", type=int, default=10, help="correctly classified photos of the dev split")
    p.add_argument("--sigma", type=float, default=8.0)
    p.add_argument("--out", type=Path, default=Path("control.jsonl"))
    a = p.parse_args()
    from scipy.ndimage import gaussian_filter

    import peephole
    from peephole.evaluation.data import correctly_classified
    from peephole.metrics.reference import random_map

    model = peephole.load_model("efficientnet-lite0", "onnx")
    rows = []
    for i, (sample, img) in enumerate(correctly_classified(model, a.folder, "dev", a.limit)):
        raw = random_map(np.asarray(img).shape[:2], seed=i)
        maps = {"random": raw, "random-smooth": gaussian_filter(raw, a.sigma, mode="nearest")}
        row = {"photo": sample.path.name, **control_row(model, img, sample.label, maps)}
        rows.append(row)
        print(row, flush=True)
    a.out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for mode in ("insertion", "deletion"):
        for fill in ("grey", "blur"):
            d = np.array([r[f"random-smooth_{mode}_{fill}"] - r[f"random_{mode}_{fill}"] for r in rows])
            print(f"{mode} on {fill}: smoothed − raw {d.mean():+.3f} ± {d.std(ddof=1) / np.sqrt(len(d)):.3f}")


if __name__ == "__main__":
    main()
