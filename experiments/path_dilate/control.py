"""Does a map transform lower deletion by itself? A content-free map with the default's structure (the mean of random
per-superpixel maps over SLIC-40 and SLIC-60) against the same map grey-dilated by r pixels (experiments/path_dilate)
or raised to its Gaussian-smoothed copy, max(m, G_σ * m) (``--sigma``, experiments/path_maxsmooth), on dev photos
1–10: held-out insertion and deletion on mid-grey and on blur (step 1792 px), one JSON line per photo. A map that
carries nothing must not gain from the transform if the variant's gain is its own.

    OMP_NUM_THREADS=1 PYTHONPATH=src python experiments/path_dilate/control.py ../shared/data/imagenet-sample \\
        --limit 10 --radius 4 --out control.jsonl
    OMP_NUM_THREADS=1 PYTHONPATH=src python experiments/path_dilate/control.py ../shared/data/imagenet-sample \\
        --limit 10 --sigma 8 --out experiments/path_maxsmooth/rows/control.jsonl
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1]))  # experiments/: the dev experiments' shared columns
from path_segs.control import random_parts  # noqa: E402
from path_stability import dilate, maxsmooth, run_control  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", help="the ImageNet sample folder (labels.csv)")
    p.add_argument("--limit", type=int, default=10, help="correctly classified photos of the dev split")
    p.add_argument("--radius", type=int, default=4, help="the dilation's disk radius (pixels)")
    p.add_argument("--sigma", type=float, help="max(m, G_σ * m) with this σ (pixels) instead of the dilation")
    p.add_argument("--out", type=Path, default=Path("control.jsonl"))
    a = p.parse_args()

    def make(i: int, img: np.ndarray) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(i)
        raw = (random_parts(img, 40, rng) + random_parts(img, 60, rng)) / 2
        if a.sigma is None:
            return {"random-seg2": raw, "random-seg2-dilated": dilate(raw, a.radius)}
        return {"random-seg2": raw, "random-seg2-maxsmooth": maxsmooth(raw, a.sigma)}

    label = f"dilated by {a.radius} px − raw" if a.sigma is None else f"max(m, G_{a.sigma:g} * m) − raw"
    run_control(a.folder, a.limit, a.out, make, label)


if __name__ == "__main__":
    main()
