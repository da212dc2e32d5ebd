"""Readers for the evaluation folders (see the shared data README): ImageNet photos with labels, COCO
photos with YOLO boxes. Images are read with :func:`peephole.modalities.image.io.load_image`."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from peephole.errors import InputError
from peephole.modalities.tables import read_csv


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
    even (``'dev'``) or odd (``'test'``) positions (0-based). A table that cannot be read or lacks ``file`` or
    ``class_index`` is one InputError; a row whose class is no index (an integer from 0), or without a file, is left
    out with a warning naming its line (the split's positions count it: the other rows keep theirs)."""
    if split is not None and split not in SPLITS:
        raise InputError(f"unknown split {split!r}; use one of {sorted(SPLITS)}")
    root = Path(folder)
    table = root / "labels.csv"
    if not table.is_file():
        raise InputError(f"{root}: no labels.csv (file,class_index,...): not an ImageNet sample folder")
    rows = list(enumerate(_table(table, ("file", "class_index")), start=2))
    if split is not None:
        rows = rows[SPLITS[split] :: 2]
    out = []
    for line, r in rows:
        label = _integer(r.get("class_index"))
        if not r.get("file") or label is None or label < 0:
            _left_out(table, line, f"file {r.get('file')!r}, class_index {r.get('class_index')!r}: no file or no class index")
            continue
        out.append(ImagenetSample(root / r["file"], label, r.get("name") or ""))
    return out


def _table(path: Path, needs: tuple[str, ...]) -> list[dict[str, Any]]:
    """The rows of a CSV table, read as UTF-8 only (its file names and class names must be exact: no guessed
    encoding); one InputError if it cannot be read or lacks a column of ``needs``."""
    columns, rows = read_csv(path, strict=True)
    missing = [c for c in needs if c not in columns]
    if missing:
        raise InputError(f"{path}: needs the columns {', '.join(needs)}; it has {', '.join(map(str, columns)) or 'none'}")
    return rows


def _integer(value: Any) -> int | None:
    """``value`` as an integer ("3", " 3 "), else None."""
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _left_out(path: Path, line: int | None, why: str) -> None:
    """A warning that the item at ``path`` (its ``line``) is left out of the evaluation, and why."""
    warnings.warn(f"{path}{'' if line is None else f':{line}'}: left out: {why}", UserWarning, stacklevel=3)


def photo(path: Path, load: Any) -> Any:
    """``load(path)``, or None with a warning when the photo cannot be read (the other photos still go through)."""
    try:
        return load(path)
    except InputError as exc:
        _left_out(path, None, str(exc).removeprefix(f"{path}: "))
        return None


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
    """``images/*.jpg`` with ``labels/<stem>.txt`` (YOLO: ``class_id cx cy w h`` relative, or a YOLO segment's
    ``class_id x1 y1 x2 y2 ...`` outline, read as its bounding box) and ``classes.csv`` (``class_id,name``).

    Images without a label file are skipped (they have no objects). A ``classes.csv`` that cannot be read, lacks a
    column or repeats an id is one InputError; a label file that cannot be read, or with a line that is none of the
    two forms or names no class of ``classes.csv``, leaves its photo out with a warning naming the line.
    """
    root = Path(folder)
    if not (root / "classes.csv").is_file() or not (root / "labels").is_dir():
        raise InputError(f"{root}: needs classes.csv and labels/: not a COCO boxes folder")
    names: dict[int, str] = {}
    for line, r in enumerate(_table(root / "classes.csv", ("class_id", "name")), start=2):
        cid = _integer(r.get("class_id"))
        if cid is None or cid in names:
            raise InputError(f"{root / 'classes.csv'}:{line}: class_id {r.get('class_id')!r} is no integer or repeats one")
        names[cid] = str(r.get("name"))
    out = []
    for img in sorted((root / "images").glob("*")):
        lab = root / "labels" / f"{img.stem}.txt"
        if lab.is_file() and (boxes := _yolo_boxes(lab, names)) is not None:
            out.append(CocoSample(img, boxes))
    return out


def _yolo_boxes(path: Path, names: dict[int, str]) -> dict[str, list[tuple[float, float, float, float]]] | None:
    """One label file's boxes by class name (x0, y0, x1, y1 relative); None, with a warning, if a line is wrong."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        _left_out(path, 1, f"cannot be read ({exc})")
        return None
    boxes: dict[str, list[tuple[float, float, float, float]]] = {}
    for n, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            continue
        cid = _integer(fields[0])
        try:
            xy = np.array([float(v) for v in fields[1:]])
        except ValueError:
            xy = np.array([np.nan])
        if cid not in names or not np.isfinite(xy).all() or not (len(xy) == 4 or (len(xy) >= 6 and len(xy) % 2 == 0)):
            what = "no 'class_id cx cy w h' box or 'class_id x1 y1 ...' outline of a class in classes.csv"
            _left_out(path, n, f"{line.strip()[:60]!r} is {what}")
            return None
        if len(xy) == 4:
            x, y, w, h = xy
            box = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
        else:
            pts = xy.reshape(-1, 2)
            box = (*pts.min(axis=0), *pts.max(axis=0))
        boxes.setdefault(names[cid], []).append(tuple(float(v) for v in box))
    return boxes


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
