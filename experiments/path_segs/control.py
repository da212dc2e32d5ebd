"""Does averaging over two segmentations lower deletion by itself? A content-free map with the default's structure
(a random value per superpixel of SLIC-50) against one with the variant's (the mean of random per-superpixel maps over
SLIC-40 and SLIC-60), on the dev photos of experiments/path_segs/PLAN.md: held-out insertion and deletion on mid-grey
and on blur (step 1792 px), one JSON line per photo. A map that carries nothing must not gain from the structure if
the variant's gain is its own.

    OMP_NUM_THREADS=1 PYTHONPATH=src python experiments/path_segs/control.py ../shared/data/imagenet-sample \\
        --limit 10 --out control.jsonl
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1]))  # experiments/: the dev experiments' shared columns
from path_stability import run_control  # noqa: E402


def random_parts(img: np.ndarray, n_segments: int, rng: np.random.Generator) -> np.ndarray:
    """A uniform random value per superpixel of one SLIC segmentation (PAMI path's compactness 20)."""
    from peephole.modalities.image.segmenters import slic

    labels = slic(img, n_segments=n_segments, compactness=20)
    return rng.random(int(labels.max()) + 1)[labels]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", help="the ImageNet sample folder (labels.csv)")
    p.add_argument("--limit", type=int, default=10, help="correctly classified photos of the dev split")
    p.add_argument("--out", type=Path, default=Path("control.jsonl"))
    a = p.parse_args()

    def make(i: int, img: np.ndarray) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(i)
        return {
            "random-seg1": random_parts(img, 50, rng),
            "random-seg2": (random_parts(img, 40, rng) + random_parts(img, 60, rng)) / 2,
        }

    run_control(a.folder, a.limit, a.out, make, "two segmentations − one")


if __name__ == "__main__":
    main()
