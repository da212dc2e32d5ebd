"""Dataset items and the parts of reading them that every modality shares (CSV columns, labels, stable ids).

Each modality reads its own kinds of dataset (``Modality.read_items``); this module holds what they have in
common, so that ``peephole.batch`` only dispatches and never knows a file format.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peephole.errors import InputError

LABEL_COLUMNS = ("label", "class", "target")


@dataclass(frozen=True)
class Item:
    """One input of a dataset, with an id that is stable across runs of the same data: ``source`` is what the
    modality's ``load_item`` reads (an image path, a sentence, an array)."""

    id: str
    source: Any
    label: str | None = None  #: the true class (index or name, as written), when known


class NotThisKind(InputError):
    """The dataset holds no inputs of the modality asked (another modality may read it); the message says why."""


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """The header and rows of a CSV file (UTF-8, a BOM allowed)."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or [])
        return header, list(reader)


def pick_column(header: Sequence[str], given: str | None, defaults: Sequence[str], path: Path, what: str) -> str | None:
    """``given`` (an error when the CSV has no such column), else the first of ``defaults`` present, else None."""
    if given is not None:
        if given not in header:
            raise InputError(f"{path}: no column {given!r} ({what}); its columns are {list(header)}")
        return given
    return next((c for c in defaults if c in header), None)


def label_column(header: Sequence[str], given: str | None, path: Path) -> str | None:
    """The column of true labels: ``given``, else the first of :data:`LABEL_COLUMNS` present, else None."""
    return pick_column(header, given, LABEL_COLUMNS, path, "labels")


def content_id(position: int, data: bytes) -> str:
    """Position plus a hash of the content: stable, and an edited input is a new item."""
    return f"{position:06d}:{hashlib.sha1(data).hexdigest()[:8]}"
