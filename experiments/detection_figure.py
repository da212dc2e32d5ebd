"""The picture of docs/detection.md: PAMI keep-one and D-RISE at the same budget on the astronaut's face (Haar) and
on two lines of rendered text (DBNet: one map per box from one query set).

    python experiments/detection_figure.py docs/img/detection.png
"""

from __future__ import annotations

import sys

import cv2
import matplotlib
import numpy as np
from skimage.data import astronaut

import peephole
from peephole.modalities.image.superpixels import Segmentation
from peephole.modalities.image.view import draw_box, overlay

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SEGMENTS = [Segmentation("slic", {"n_segments": n, "compactness": 20}) for n in (8, 16, 32)]


def text_image() -> np.ndarray:
    im = np.full((240, 480, 3), 255, np.uint8)
    cv2.putText(im, "PEEPHOLE", (30, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (0, 0, 0), 3)
    cv2.putText(im, "boxes 2026", (200, 190), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2)
    return im.astype(np.float32) / 255


def main(path: str) -> None:
    rows = []
    for model, x in (("haar-face", astronaut().astype(np.float32) / 255), ("dbnet-text", text_image())):
        pami = peephole.explain(model, x, "pami", segmentations=SEGMENTS)
        rise = peephole.explain(model, x, "rise", n_masks=pami.n_queries - 1)
        rows.append((x, pami, rise))
    n_cols = 1 + max(2 * len(p.targets) for _, p, _ in rows)
    fig, axes = plt.subplots(len(rows), n_cols, figsize=(2.6 * n_cols, 2.6 * len(rows)), squeeze=False)
    for r, (x, pami, rise) in enumerate(rows):
        axes[r, 0].imshow(x)
        axes[r, 0].set_title(f"{pami.params.get('n_parts', '')} parts", fontsize=8)
        col = 1
        for e in (pami, rise):
            for i, t in enumerate(e.targets):
                axes[r, col].imshow(overlay(x, e.maps[i]))
                axes[r, col].set_title(f"{e.method} ({e.n_queries} queries): {e.name(t)}", fontsize=8)
                draw_box(axes[r, col], e.extras["boxes"][t])
                col += 1
        for i in range(len(pami.targets)):
            draw_box(axes[r, 0], pami.extras["boxes"][i])
    for ax in axes.ravel():
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "detection.png")
