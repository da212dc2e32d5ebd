"""Sequence datasets: an ``.npy`` / ``.npz`` array with one sequence (or tabular row) per entry of axis 0, a folder
of ``.npy`` files (one sequence each), or — when sequences are asked for — a CSV of numeric rows; and reading
one item (an array, or a ``.npy`` / ``.csv`` / ``.txt`` file holding one sequence)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from peephole.errors import InputError
from peephole.modalities.items import (
    BadRow,
    Item,
    NotThisKind,
    array_inputs,
    content_id,
    extra_fields,
    files_below,
    label_column,
    no_bad_row,
    read_arrays,
)
from peephole.modalities.tables import TABLE_SUFFIXES, read_table

INPUT_KEYS = ("x", "X", "inputs", "data", "sequences")
LABEL_KEYS = ("y", "labels", "label", "target")


def read_sequence_items(source: Path, column: str | None, labels: str | None, asked: bool) -> list[Item]:
    """Items of ``source``; id: position plus a hash of the values (an array) or the relative path (a folder)."""
    suffix = source.suffix.lower()
    if source.is_dir():
        paths = [p for p in files_below(source) if p.suffix.lower() == ".npy"]
        if not paths:
            raise NotThisKind("no .npy sequences found")
        return [Item(p.relative_to(source).as_posix(), str(p.resolve())) for p in paths]
    if suffix in (".npy", ".npz"):
        values, truth = array_inputs(source, "sequences", column, labels, INPUT_KEYS, LABEL_KEYS)
        return _array_items(_numeric(values, source), truth)
    if suffix in TABLE_SUFFIXES and asked:
        if column is not None:
            raise InputError(
                f"{source}: a CSV of sequences has one sequence per row over all its columns; column= does not apply"
            )
        header, rows = read_table(source)
        lab = label_column(header, labels, source)
        features = [c for c in header if c != lab]
        values = [_row(r, header, features, f"{source}, row {n}") for n, r in enumerate(rows, start=1)]
        if values and all(isinstance(v, BadRow) for v in values):  # no row is a sequence: not a CSV of them
            raise InputError(f"{values[0].where}: {values[0].why}")
        return _array_items(values, [r.get(lab) for r in rows] if lab else None)
    raise NotThisKind(
        "sequences are read from an .npy / .npz array or a folder of .npy files (a CSV of rows with modality='sequence')"
    )


def _row(row: dict[Any, Any], header: list[str], features: list[str], where: str) -> np.ndarray | BadRow:
    """One CSV row's numbers (an empty field: NaN), or the :class:`BadRow` it is."""
    bad = extra_fields(row, header, where)
    if bad:
        return bad
    try:
        return np.array([_number(row.get(c) or "nan") for c in features], dtype=np.float64)
    except ValueError as exc:
        return BadRow(where, f"a CSV of sequences holds numbers only ({exc})")


#: A number written with a decimal comma (``1,5``: a semicolon-separated CSV from a locale that writes them so)
DECIMAL_COMMA = re.compile(r"\s*[+-]?\d*,\d+([eE][+-]?\d+)?\s*")


def _number(field: str) -> float:
    """A CSV field's number: as Python reads it, or written with a decimal comma."""
    try:
        return float(field)
    except ValueError:
        if DECIMAL_COMMA.fullmatch(field):
            return float(field.replace(",", "."))
        raise


def _numeric(a: np.ndarray, source: Path) -> np.ndarray:
    if not np.issubdtype(a.dtype, np.number) or a.ndim < 1:
        raise InputError(f"{source}: expected an array of numbers with one sequence per entry of axis 0, got {a.dtype} {a.shape}")
    return a if a.ndim > 1 else a[None]


def _array_items(values: Any, labels: Any) -> list[Item]:
    """One item per sequence of ``values`` (an array's entries of axis 0, or a CSV's rows, a bad one included)."""
    if labels is not None and len(labels) != len(values):
        raise InputError(f"{len(labels)} labels for {len(values)} sequences")
    return [
        Item(
            content_id(n, repr(v).encode() if isinstance(v, BadRow) else np.ascontiguousarray(v).tobytes()),
            v,
            None if labels is None or labels[n - 1] is None else str(labels[n - 1]),
        )
        for n, v in enumerate(values, start=1)
    ]


def holds_sequence(x: Any) -> bool:
    """Whether a Python value is one sequence: a 1-D or 2-D array of numbers (not a string)."""
    if isinstance(x, (str, bytes)):
        return False
    try:
        a = np.asarray(x)
    except Exception:  # noqa: BLE001 - not array-like
        return False
    return a.ndim in (1, 2) and np.issubdtype(a.dtype, np.number)


def load_sequence_item(source: Any) -> np.ndarray:
    """An array as it is, or the one sequence a ``.npy`` / ``.csv`` / ``.txt`` file holds; a dataset's
    :class:`~peephole.modalities.items.BadRow`, one InputError."""
    no_bad_row(source)
    if not isinstance(source, (str, Path)):
        return np.asarray(source)
    p = Path(source)
    if not p.is_file():
        raise InputError(f"{p}: no such file (a sequence is read from an .npy, .csv or .txt file)")
    if p.suffix.lower() == ".npy":
        return read_arrays(p, "sequences")[""]
    try:
        return np.loadtxt(p, delimiter="," if p.suffix.lower() == ".csv" else None, ndmin=1)
    except ValueError as exc:
        raise InputError(f"{p}: not a file of numbers ({exc})") from exc
