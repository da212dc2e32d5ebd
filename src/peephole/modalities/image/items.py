"""Image datasets: a folder of image files (searched recursively), a table's column of image paths (CSV, TSV, JSON
Lines, Parquet) or an array of images; and reading one item at the run's work size."""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from peephole.errors import InputError
from peephole.modalities.image.io import images_of, load_image, resize, to_rgb_float
from peephole.modalities.items import (
    Item,
    NotThisKind,
    array_inputs,
    content_id,
    extra_fields,
    files_below,
    label_column,
    no_bad_row,
    pick_column,
)
from peephole.modalities.tables import TABLE_SUFFIXES, read_table

#: The files a folder's images are: the picture formats Pillow reads (HEIC/HEIF with the ``heic`` extra's plugin:
#: without it each such item fails saying so)
IMAGE_SUFFIXES = (
    ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".apng", ".bmp", ".dib", ".gif", ".tif", ".tiff", ".webp", ".avif",
    ".heic", ".heif", ".ppm", ".pgm", ".pbm", ".pnm", ".jp2", ".j2k", ".tga", ".qoi",
)  # fmt: skip
#: Pictures Pillow cannot read (camera raw files, JPEG XL): left out of a folder with a warning counting them
UNREAD_SUFFIXES = (".cr2", ".cr3", ".nef", ".nrw", ".arw", ".dng", ".raf", ".orf", ".rw2", ".pef", ".srw", ".jxl")
PATH_COLUMNS = ("path", "image", "file", "filename")


def read_image_items(source: Path, column: str | None, labels: str | None, asked: bool) -> list[Item]:
    """Items of a folder (id: the path relative to it; see :func:`~peephole.modalities.items.files_below`), a table of
    paths (id: row number and path; paths relative to the table's folder, a backslash read as a folder separator where
    the path as written names no file: a CSV written on Windows; a Parquet table's embedded images as their bytes) or
    an array of images (:func:`_array_items`); :class:`NotThisKind` when ``source`` holds no images.

    A folder whose images all sit in sub-folders is labelled by them, as torchvision's ``ImageFolder``:
    ``DATASET/<class>/x.jpg`` has the true label ``<class>`` (a class name or index of the model)."""
    if source.is_dir():
        files = files_below(source)
        paths = sorted(p for p in files if p.suffix.lower() in IMAGE_SUFFIXES)
        unread = Counter(p.suffix.lower() for p in files if p.suffix.lower() in UNREAD_SUFFIXES)
        if unread and paths:
            counts = ", ".join(f"{n} {suffix}" for suffix, n in sorted(unread.items()))
            warnings.warn(
                f"{source}: left out {sum(unread.values())} pictures Peephole cannot read ({counts}: camera raw or JPEG "
                "XL files); convert them to JPEG or PNG to explain them",
                UserWarning,
                stacklevel=2,
            )
        if not paths:
            raise NotThisKind(f"no images found (looked for {', '.join(IMAGE_SUFFIXES)} in every sub-folder)")
        rel = [p.relative_to(source) for p in paths]
        by_folder = all(len(r.parts) > 1 for r in rel)
        return [Item(r.as_posix(), str(p.resolve()), r.parts[0] if by_folder else None) for r, p in zip(rel, paths)]
    if source.suffix.lower() in (".npy", ".npz"):
        return _array_items(source, column, labels, asked)
    if source.suffix.lower() not in TABLE_SUFFIXES:
        raise NotThisKind(
            f"images are read from a folder, a column of image paths in a table ({' '.join(TABLE_SUFFIXES)}), or an "
            ".npy / .npz array of them"
        )
    header, rows = read_table(source)
    col = pick_column(header, column, PATH_COLUMNS, source, "inputs")
    if col is None:
        raise NotThisKind(f"name the column of inputs (column=...): no column of image paths ({', '.join(PATH_COLUMNS)})")
    if column is not None and not asked and not _looks_like_paths(rows, col, source.parent):
        raise NotThisKind(f"column {col!r} does not hold image paths")
    lab = label_column(header, labels, source)
    items = []
    for n, row in enumerate(rows, start=1):
        if isinstance(row.get(col), (bytes, bytearray)):  # an image embedded in a Parquet table
            items.append(Item(content_id(n, row[col]), bytes(row[col]), (row.get(lab) or None) if lab else None))
            continue
        rel = Path(row.get(col) or "")
        try:
            full = rel if rel.is_absolute() else (source.parent / rel).resolve()
            if "\\" in str(rel) and not full.exists():  # a CSV written on Windows: images\cat.jpg
                rel = Path(str(rel).replace("\\", "/"))
                full = (source.parent / rel).resolve()
        except (ValueError, OSError):  # no file can have this name (a NUL character): the item fails when it loads
            full = source.parent / rel
        bad = extra_fields(row, header, f"{source}, row {n}")
        items.append(Item(f"{n:06d}:{rel.as_posix()}", bad or str(full), (row.get(lab) or None) if lab else None))
    return items


#: The names an ``.npz`` of images gives its images and its labels (as Keras' and torchvision's arrays are saved)
IMAGE_KEYS, LABEL_KEYS = ("x", "X", "images", "image", "inputs", "data"), ("y", "labels", "label", "target", "targets")


def _array_items(source: Path, column: str | None, labels: str | None, asked: bool) -> list[Item]:
    """One item per image of an ``.npy`` / ``.npz`` array (N×H×W, N×H×W×C or N×C×H×W; an ``.npz`` names its images
    and labels as :data:`IMAGE_KEYS` and :data:`LABEL_KEYS` do, or ``column=`` / ``label_column=``). Read only when
    images are asked for (an image model's run, ``modality='image'``): an array is a sequence dataset otherwise."""
    if not asked:
        raise NotThisKind("an .npy / .npz array is read as images when they are asked for (modality='image')")
    images, truth = array_inputs(source, "images", column, labels, IMAGE_KEYS, LABEL_KEYS)
    if images.ndim not in (3, 4) or not len(images):
        raise InputError(f"{source}: holds an array of shape {images.shape}; images are N×H×W, N×H×W×C or N×C×H×W")
    listed = images_of(images) if images.ndim == 4 else list(images)
    if truth is not None and len(truth) != len(listed):
        raise InputError(f"{source}: {len(truth)} labels for {len(listed)} images")
    return [
        Item(content_id(n, np.ascontiguousarray(x).tobytes()), x, None if truth is None else str(truth[n - 1]))
        for n, x in enumerate(listed, start=1)
    ]


def _looks_like_paths(rows: list[dict[str, str]], col: str, base: Path) -> bool:
    values = [r.get(col) or "" for r in rows[:20]]
    return bool(values) and all(v.lower().endswith(IMAGE_SUFFIXES) or (base / v).is_file() for v in values if v)


def holds_image(x: Any) -> bool:
    """Whether a Python value is one image (an H×W or H×W×C array or a picture object, not a string)."""
    if isinstance(x, (str, bytes, Path)):
        return False
    try:
        a = np.asarray(x)
    except Exception:  # noqa: BLE001 - not array-like: not an image
        return False
    return a.ndim == 2 or (a.ndim == 3 and a.shape[-1] in (1, 2, 3, 4))


def load_image_item(
    source: Any, size: int | None = None, crop: bool = True, allow_large: bool = False, name: str = "image"
) -> np.ndarray:
    """A path (or a shipped photo such as ``skimage:chelsea``), an image file's bytes or an array as H×W×3 float32 in
    [0, 1]; with
    ``size``, the shorter side resized to it (centre-cropped unless ``crop=False``); a dataset's
    :class:`~peephole.modalities.items.BadRow`, one InputError."""
    no_bad_row(source)
    if isinstance(source, (str, Path, bytes)):
        return load_image(source, size=size, crop=crop, allow_large=allow_large)
    img = to_rgb_float(source, name=name)
    if size is not None and int(size) < 1:
        raise InputError(f"size must be >= 1 pixel (or None to keep the size), got {size}")
    return resize(img, size, crop, allow_large, name) if size else img
