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
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1]))  # experiments/: the dev experiments' shared columns
from path_stability import control_row  # noqa: E402


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
    import peephole
    from peephole.evaluation.data import correctly_classified

    model = peephole.load_model("efficientnet-lite0", "onnx")
    rows = []
    for i, (sample, img) in enumerate(correctly_classified(model, a.folder, "dev", a.limit)):
        rng = np.random.default_rng(i)
        maps = {
            "random-seg1": random_parts(img, 50, rng),
            "random-seg2": (random_parts(img, 40, rng) + random_parts(img, 60, rng)) / 2,
        }
        row = {"photo": sample.path.name, **control_row(model, img, sample.label, maps)}
        rows.append(row)
        print(row, flush=True)
    a.out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for mode in ("insertion", "deletion"):
        for fill in ("grey", "blur"):
            d = np.array([r[f"random-seg2_{mode}_{fill}"] - r[f"random-seg1_{mode}_{fill}"] for r in rows])
            print(f"{mode} on {fill}: two segmentations − one {d.mean():+.3f} ± {d.std(ddof=1) / np.sqrt(len(d)):.3f}")


if __name__ == "__main__":
    main()
