"""Readers for the evaluation folders (see the shared data README): ImageNet photos with labels, COCO
photos with YOLO boxes. Images are read with :func:`peephole.modalities.image.io.load_image`."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from peephole.errors import InputError


@dataclass
class ImagenetSample:
    path: Path
    label: int  #: ImageNet class index 0..999
    name: str


@dataclass
class CocoSample:
    path: Path
    boxes: dict[str, list[tuple[float, float, float, float]]]  #: class -> boxes (x0, y0, x1, y1), relative 0..1


#: Splits of the ImageNet sample by row position in labels.csv: settings are chosen on ``dev``, reported on ``test``.
SPLITS = {"dev": 0, "test": 1}


def read_imagenet_sample(folder: str | Path, split: str | None = None) -> list[ImagenetSample]:
    """``labels.csv`` (``file,class_index,wnid,name``) next to the images, in file order; ``split``: the rows at
    even (``'dev'``) or odd (``'test'``) positions (0-based)."""
    if split is not None and split not in SPLITS:
        raise InputError(f"unknown split {split!r}; use one of {sorted(SPLITS)}")
    root = Path(folder)
    table = root / "labels.csv"
    if not table.is_file():
        raise InputError(f"{root}: no labels.csv (file,class_index,...): not an ImageNet sample folder")
    with table.open(newline="") as f:
        rows = list(csv.DictReader(f))
    if split is not None:
        rows = rows[SPLITS[split] :: 2]
    return [ImagenetSample(root / r["file"], int(r["class_index"]), r.get("name", "")) for r in rows]


def correctly_classified(
    model: Any, folder: str | Path, split: str | None = None, limit: int | None = None, size: int = 224
) -> Iterator[tuple[ImagenetSample, np.ndarray]]:
    """The first ``limit`` samples of ``split`` that ``model`` classifies correctly, with their loaded images
    (what every benchmark script scores; "correct" as the run store defines it, see
    :func:`peephole.store.runs.prediction_columns`)."""
    from peephole.modalities.image.io import load_image
    from peephole.store.runs import prediction_columns

    n = 0
    for s in read_imagenet_sample(folder, split):
        if limit is not None and n >= limit:
            return
        img = load_image(s.path, size=size)
        if prediction_columns(np.asarray(model(img[None]))[0], true_class=s.label)["correct"]:
            n += 1
            yield s, img


def read_coco_boxes(folder: str | Path) -> list[CocoSample]:
    """``images/*.jpg`` with ``labels/<stem>.txt`` (YOLO: ``class_id cx cy w h`` relative) and ``classes.csv``.

    Images without a label file are skipped (they have no objects).
    """
    root = Path(folder)
    if not (root / "classes.csv").is_file() or not (root / "labels").is_dir():
        raise InputError(f"{root}: needs classes.csv and labels/: not a COCO boxes folder")
    with (root / "classes.csv").open(newline="") as f:
        names = {int(r["class_id"]): r["name"] for r in csv.DictReader(f)}
    out = []
    for img in sorted((root / "images").glob("*")):
        lab = root / "labels" / f"{img.stem}.txt"
        if not lab.is_file():
            continue
        boxes: dict[str, list[tuple[float, float, float, float]]] = {}
        for line in lab.read_text().split("\n"):
            if not line.strip():
                continue
            cid, cx, cy, w, h = line.split()
            x, y, bw, bh = (float(v) for v in (cx, cy, w, h))
            boxes.setdefault(names[int(cid)], []).append((x - bw / 2, y - bh / 2, x + bw / 2, y + bh / 2))
        out.append(CocoSample(img, boxes))
    return out


def dataset_kind(folder: str | Path) -> str:
    """``'imagenet'`` or ``'coco'`` from the folder's files."""
    root = Path(folder)
    if (root / "labels.csv").is_file():
        return "imagenet"
    if (root / "classes.csv").is_file():
        return "coco"
    raise InputError(f"{root}: neither an ImageNet sample (labels.csv) nor a COCO boxes folder (classes.csv)")


def scaled_boxes(rel: list[tuple[float, float, float, float]], shape: tuple[int, int]) -> np.ndarray:
    """Relative boxes -> pixel boxes ``(x0, y0, x1, y1)`` for an H×W image."""
    h, w = shape
    return np.asarray(rel, np.float64) * np.array([w, h, w, h])


def class_regions(photo: CocoSample, shape: tuple[int, int]) -> dict[str, np.ndarray]:
    """The pointing game's trials of a COCO photo at H×W: each class with ImageNet counterparts (sorted) -> the
    union of its boxes' pixels (:func:`~peephole.metrics.pointing.boxes_mask`). A class whose boxes cover no
    pixel centre at this size (an object under a pixel wide) is no trial: no map can point at it."""
    from peephole.evaluation.coco_imagenet import COCO_TO_IMAGENET
    from peephole.metrics.pointing import boxes_mask

    regions = {c: boxes_mask(scaled_boxes(photo.boxes[c], shape), shape) for c in sorted(photo.boxes) if c in COCO_TO_IMAGENET}
    return {c: m for c, m in regions.items() if m.any()}
