"""How many model queries `peephole run --metrics insertion,deletion` adds per item (the curves' queries).

Counts the rows a model is asked for, per item, in a run over the shipped photos (224×224 centre crops) with
and without the metrics (the curves' count depends on the image size and the curves' step, not on the model):

    python experiments/metrics_queries.py
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

import peephole
from peephole.modalities.image.items import load_image_item

PHOTOS = ("skimage:chelsea", "skimage:astronaut", "skimage:coffee")


class Counting:
    """A 3-class image model that counts the inputs it is asked about."""

    output = "probs"
    class_names = ["dark", "bright", "red"]
    modality = "image"

    def __init__(self) -> None:
        self.rows = 0

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self.rows += len(batch)
        m = np.asarray(batch, np.float64).reshape(len(batch), -1, 3).mean(1)
        z = np.stack([1 - m.mean(1), m.mean(1), m[:, 0] - m[:, 1:].mean(1)], 1) * 4
        e = np.exp(z - z.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default=None, help="unset: the image default (pami-path)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        photos = [load_image_item(p, size=224) for p in PHOTOS]
        rows = {}
        for metrics in ([], ["insertion", "deletion"]):
            model = Counting()
            out = Path(tmp) / f"run-{len(metrics)}"
            peephole.run(model, photos, args.method, out=out, metrics=metrics, progress=False, output="probs").complete()
            rows[bool(metrics)] = model.rows / len(photos)
    extra = rows[True] - rows[False]
    print(f"queries per item: {rows[False]:.0f} without metrics, {rows[True]:.0f} with insertion,deletion (+{extra:.0f})")


if __name__ == "__main__":
    main()
