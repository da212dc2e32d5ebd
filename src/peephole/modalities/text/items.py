"""Text datasets: a table's column of texts (CSV, TSV, JSON Lines, Parquet) or a text file of lines (blank lines skipped, keeping
their numbers); and reading one item."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from peephole.errors import InputError
from peephole.modalities.items import (
    BadRow,
    Item,
    NotThisKind,
    content_id,
    extra_fields,
    label_column,
    no_bad_row,
    pick_column,
    read_text,
)
from peephole.modalities.tables import TABLE_SUFFIXES, read_table

TEXT_COLUMNS = ("text", "sentence")


def read_text_items(source: Path, column: str | None, labels: str | None, asked: bool) -> list[Item]:
    """Items of a table (:data:`~peephole.modalities.tables.TABLE_SUFFIXES`; ``column``, default text/sentence) or a
    ``.txt`` file; id: line or row number plus a hash of the text, so an edited text is a new item."""
    suffix = source.suffix.lower()
    if source.is_dir() or suffix not in (*TABLE_SUFFIXES, ".txt"):
        raise NotThisKind(f"texts are read from a column of a table ({' '.join(TABLE_SUFFIXES)}) or a .txt file (one per line)")
    if suffix == ".txt":
        lines = read_text(source).splitlines()
        items = [Item(content_id(n, s.encode("utf-8")), s) for n, s in enumerate(lines, start=1) if s.strip()]
        if not items:
            raise InputError(f"{source}: no sentences (one per line)")
        return items
    header, rows = read_table(source)
    col = pick_column(header, column, TEXT_COLUMNS, source, "inputs")
    if col is None:
        raise NotThisKind(f"no column of texts ({', '.join(TEXT_COLUMNS)})")
    lab = label_column(header, labels, source)
    items = []
    for n, row in enumerate(rows, start=1):
        text = row.get(col) or ""
        bad = extra_fields(row, header, f"{source}, row {n}")
        if not isinstance(text, str):  # bytes in a Parquet table
            text, bad = "", bad or BadRow(f"{source}, row {n}", f"column {col!r} holds bytes, not a text")
        items.append(Item(content_id(n, text.encode("utf-8")), bad or text, (row.get(lab) or None) if lab else None))
    return items


def load_text_item(source: Any) -> str:
    """One text of a dataset; an empty one (or a :class:`~peephole.modalities.items.BadRow`) is an :class:`InputError`."""
    no_bad_row(source)
    if not isinstance(source, str) or not source.strip():
        raise InputError("empty sentence")
    return source
