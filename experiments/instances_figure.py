"""The instance-segmentation picture of docs/detection.md: an L-shaped instance and a square lying inside the L's box,
explained by a detector whose boxes never move and whose masks are where each colour is still bright (the page's
code block). Top: scored by the masks' IoU (each map on its own instance, the outlines drawn); bottom: the same
detector without masks (box IoU: every query scores 1, flat maps).

    python experiments/instances_figure.py docs/img/instances.png
"""

from __future__ import annotations

import sys

import numpy as np

import peephole
from peephole.models.detection import as_detector

SIZE = 96


def scene() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The image (the L in red, the square in green) and the two instances' masks, at twice the docs' 48 px."""
    l_shape, square = np.zeros((SIZE, SIZE), bool), np.zeros((SIZE, SIZE), bool)
    l_shape[8:80, 8:24] = l_shape[64:80, 8:80] = True
    square[20:44, 40:64] = True
    image = np.full((SIZE, SIZE, 3), 0.1, np.float32)
    image[l_shape, 0] = image[square, 1] = 0.9
    return image, l_shape, square


def segmenter(with_masks: bool):
    boxes = np.array([[8, 8, 80, 80], [40, 20, 64, 44]], np.float64)

    def detect(batch: np.ndarray) -> list[dict[str, np.ndarray]]:
        out = []
        for x in np.asarray(batch):
            d = {"boxes": boxes, "scores": np.ones(2), "labels": np.array([0, 1])}
            if with_masks:
                d["masks"] = np.stack([x[..., 0] > 0.5, x[..., 1] > 0.5])
            out.append(d)
        return out

    return detect


def main(path: str) -> None:
    from io import BytesIO

    from PIL import Image, ImageDraw

    image, _, _ = scene()
    options = {"partition": "window", "radius": 4, "stride": 8, "window": "square", "masker": "black"}
    rows = []
    for with_masks, label in ((True, "mask IoU"), (False, "box IoU (the same detector without its masks)")):
        e = peephole.explain(as_detector(segmenter(with_masks), class_names=["L", "square"]), image, "occlusion", **options)
        buf = BytesIO()
        e.view.figure(scale="own").savefig(buf, dpi=90, format="png")  # each map on its own scale
        row = Image.open(buf).convert("RGB")
        ImageDraw.Draw(row).text((8, 4), f"occlusion, {e.n_queries} queries, scored by {label}", fill=(0, 0, 0))
        rows.append(row)
    out = Image.new("RGB", (max(r.width for r in rows), sum(r.height for r in rows)), "white")
    for i, r in enumerate(rows):
        out.paste(r, (0, sum(x.height for x in rows[:i])))
    out.save(path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "instances.png")
