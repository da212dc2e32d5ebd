"""Does smoothing alone lower deletion? The random map against the same map smoothed (σ = 8 px), on the dev photos of
experiments/path_smooth/PLAN.md: held-out insertion and deletion on mid-grey and on blur (step 1792 px), one JSON
line per photo; a map that carries nothing must not gain from the filter if the default's gain is its own.

    OMP_NUM_THREADS=1 PYTHONPATH=src python experiments/path_smooth/control.py ../shared/data/imagenet-sample \\
        --limit 10 --out control.jsonl
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1]))  # experiments/: the dev experiments' shared columns
from path_stability import run_control  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", help="the ImageNet sample folder (labels.csv)")
    p.add_argument("--limit", type=int, default=10, help="correctly classified photos of the dev split")
    p.add_argument("--sigma", type=float, default=8.0)
    p.add_argument("--out", type=Path, default=Path("control.jsonl"))
    a = p.parse_args()
    from scipy.ndimage import gaussian_filter

    from peephole.metrics.reference import random_map

    def make(i: int, img: np.ndarray) -> dict[str, np.ndarray]:
        raw = random_map(np.asarray(img).shape[:2], seed=i)
        return {"random": raw, "random-smooth": gaussian_filter(raw, a.sigma, mode="nearest")}

    run_control(a.folder, a.limit, a.out, make, "smoothed − raw")


if __name__ == "__main__":
    main()
