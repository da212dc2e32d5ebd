"""Datasets for a run: what to explain, one item at a time, each with a stable id.

A dataset is a folder of images (searched recursively), a CSV file of image paths or of sentences (with
an optional column of true labels), a text file of sentences (one per line), or a Python list of inputs.
Item ids are stable across runs of the same data — the path relative to the folder or CSV file, or the
line number plus a hash of the sentence — so a resumed run recognises what it has already done.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peephole.errors import InputError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
PATH_COLUMNS = ("path", "image", "file", "filename")
TEXT_COLUMNS = ("text", "sentence")
LABEL_COLUMNS = ("label", "class", "target")


@dataclass(frozen=True)
class Item:
    """One input of a dataset: ``source`` is an image path (images) or the sentence itself (texts)."""

    id: str
    source: Any
    label: str | None = None  #: the true class (index or name, as written), when known


@dataclass(frozen=True)
class Dataset:
    """Items of one input kind, in a fixed order; ``spec`` names where they came from (recorded in the run)."""

    items: tuple[Item, ...]
    modality: str  #: 'image' or 'text'
    spec: str

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    @property
    def has_labels(self) -> bool:
        return any(i.label is not None for i in self.items)


def open_dataset(
    data: Any, *, column: str | None = None, label_column: str | None = None, modality: str | None = None
) -> Dataset:
    """The items of ``data``: a folder, a ``.csv`` / ``.txt`` file, a :class:`Dataset`, or a list of inputs.

    In a CSV, image paths are read from ``column`` (default: the first of path/image/file/filename present)
    relative to the CSV's folder, sentences from ``column`` (default: text/sentence); true labels from
    ``label_column`` (default: label/class/target, when present).
    """
    if isinstance(data, Dataset):
        return data
    if isinstance(data, (str, Path)):
        p = Path(data)
        if p.is_dir():
            return _folder(p)
        if not p.exists():
            raise InputError(f"{p}: no such folder or file (a dataset is a folder of images, a .csv or a .txt file)")
        if p.suffix.lower() == ".csv":
            return _csv(p, column, label_column)
        if p.suffix.lower() == ".txt":
            return _lines(p)
        raise InputError(f"{p}: a dataset is a folder of images, a .csv or a .txt file, not a {p.suffix or 'plain'} file")
    if isinstance(data, Sequence) and data:
        kind = modality or ("text" if all(isinstance(x, str) for x in data) else "image")
        items = tuple(Item(f"{i:06d}", x) for i, x in enumerate(data))
        return Dataset(items, kind, f"<list of {len(items)} inputs>")
    raise InputError(f"cannot read a dataset from {type(data).__name__}: give a folder, a .csv or .txt file, or a list")


def _folder(root: Path) -> Dataset:
    paths = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise InputError(f"{root}: no images found (looked for {', '.join(IMAGE_SUFFIXES)} in every sub-folder)")
    return Dataset(tuple(Item(p.relative_to(root).as_posix(), str(p.resolve())) for p in paths), "image", str(root.resolve()))


def _pick(header: Sequence[str], given: str | None, defaults: Sequence[str], path: Path, what: str) -> str | None:
    if given is not None:
        if given not in header:
            raise InputError(f"{path}: no column {given!r} ({what}); its columns are {list(header)}")
        return given
    return next((c for c in defaults if c in header), None)


def _csv(path: Path, column: str | None, label_column: str | None) -> Dataset:
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    col = _pick(header, column, (*PATH_COLUMNS, *TEXT_COLUMNS), path, "inputs")
    if col is None:
        known = PATH_COLUMNS + TEXT_COLUMNS
        raise InputError(f"{path}: name the column of inputs (column=...); found none of {known} in {header}")
    lab = _pick(header, label_column, LABEL_COLUMNS, path, "labels")
    texts = col in TEXT_COLUMNS or (column is not None and not _looks_like_paths(rows, col, path.parent))
    items = []
    for n, row in enumerate(rows, start=1):
        value, label = row.get(col) or "", (row.get(lab) or None) if lab else None
        if texts:
            items.append(Item(_text_id(n, value), value, label))
        else:
            rel = Path(value)
            full = rel if rel.is_absolute() else (path.parent / rel).resolve()
            items.append(Item(f"{n:06d}:{rel.as_posix()}", str(full), label))
    if not items:
        raise InputError(f"{path}: no rows")
    return Dataset(tuple(items), "text" if texts else "image", f"{path.resolve()}#{col}")


def _looks_like_paths(rows: list[dict[str, str]], col: str, base: Path) -> bool:
    values = [r.get(col) or "" for r in rows[:20]]
    return bool(values) and all(v.lower().endswith(IMAGE_SUFFIXES) or (base / v).is_file() for v in values if v)


def _lines(path: Path) -> Dataset:
    lines = path.read_text(encoding="utf-8").splitlines()
    items = tuple(Item(_text_id(n, s), s) for n, s in enumerate(lines, start=1) if s.strip())
    if not items:
        raise InputError(f"{path}: no sentences (one per line)")
    return Dataset(items, "text", str(path.resolve()))


def _text_id(line: int, text: str) -> str:
    """Line number plus a hash of the sentence: stable, and a changed sentence is a new item."""
    return f"{line:06d}:{hashlib.sha1(text.encode('utf-8')).hexdigest()[:8]}"
