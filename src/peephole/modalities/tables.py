"""Dataset tables every modality reads the same way: the header and rows of a CSV or TSV (commas, semicolons or
tabs), a JSON Lines file, or a Parquet file, each row a dict of text by column. Which reader a file gets is a table
by suffix (:data:`READERS`)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from peephole.errors import InputError
from peephole.modalities.items import read_text

#: The most bytes of data a Parquet table may hold uncompressed (its metadata says, before anything is read)
MAX_TABLE_BYTES = 2 << 30


def read_table(path: Path) -> tuple[list[str], list[dict[Any, Any]]]:
    """The header and rows of the dataset table at ``path``, by its suffix (:data:`READERS`). A row that holds no input
    (a JSON Lines line that is no object) says why under the key None, and fails its own item
    (:func:`peephole.modalities.items.extra_fields`), so the others run."""
    return READERS[path.suffix.lower()](path)


def read_jsonl(path: Path) -> tuple[list[str], list[dict[Any, Any]]]:
    """One row per non-blank line of a JSON Lines file (``datasets``' ``to_json``), its keys the columns in the order
    they first appear, its values as text (:func:`cell`)."""
    header: dict[str, None] = {}
    rows: list[dict[Any, Any]] = []
    for n, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line, object_pairs_hook=_unique_keys)
        except (ValueError, RecursionError) as exc:
            rows.append({None: f"line {n} is no JSON ({type(exc).__name__}: {str(exc)[:80]})"})
            continue
        if not isinstance(obj, dict):
            rows.append({None: f"line {n} holds a JSON {type(obj).__name__}, not an object of fields"})
            continue
        header.update(dict.fromkeys(obj))
        rows.append(cells(obj))
    return list(header), rows


def read_parquet(path: Path) -> tuple[list[str], list[dict[Any, Any]]]:
    """The rows of a Parquet file (``datasets``' ``to_parquet``, pandas' ``to_parquet``), values as text
    (:func:`cell`); its uncompressed size is checked against :data:`MAX_TABLE_BYTES` before it is read. Needs pyarrow
    (the ``parquet`` extra)."""
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise InputError(f"{path}: a Parquet table needs pyarrow: pip install 'peephole[parquet]'") from exc
    try:
        meta = pq.ParquetFile(path).metadata
        size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        if size > MAX_TABLE_BYTES:
            raise InputError(f"{path}: holds {size:,} bytes uncompressed, more than Peephole reads ({MAX_TABLE_BYTES:,})")
        table = pq.read_table(path)
    except InputError:
        raise
    except Exception as exc:  # pyarrow's ArrowInvalid, OSError: not Parquet, damaged
        raise InputError(f"{path}: not a readable Parquet file ({type(exc).__name__}: {str(exc)[:120]})") from exc
    return list(table.column_names), [cells(r) for r in table.to_pylist()]


def cells(obj: dict[str, Any]) -> dict[str, Any]:
    """A row's values as a CSV would hold them, as text: a string as it is, a number or other value as its JSON
    (``1`` -> ``"1"``; a list, a dict); ``None`` (``null``): no value. An image embedded in a Parquet table — its
    bytes, or a ``datasets`` Image's ``{"bytes": ..., "path": ...}`` — stays its bytes (the image modality reads
    them)."""
    return {k: cell(v) for k, v in obj.items() if v is not None}


def cell(value: Any) -> Any:
    """One value (see :func:`cells`)."""
    if isinstance(value, dict) and isinstance(value.get("bytes"), (bytes, bytearray)):
        value = value["bytes"]
    if isinstance(value, (str, bytes, bytearray)):
        return value
    return json.dumps(value, default=lambda v: f"<{len(v):,} bytes>" if isinstance(v, (bytes, bytearray)) else str(v))


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are unique (``json`` keeps the last of two same keys without a word)."""
    out = dict(pairs)
    if len(out) < len(pairs):
        twice = sorted({k for k, _ in pairs if [p for p, _ in pairs].count(k) > 1})
        raise ValueError(f"its object names {', '.join(map(repr, twice))} twice")
    return out


def delimiter_of(header: str) -> str:
    """The separator of a table whose first line is ``header``: a comma, else the semicolon (Excel's CSV in a
    locale whose decimal mark is a comma) or tab it holds more of, else a comma (a header of one column)."""
    if "," in header or not (";" in header or "\t" in header):
        return ","
    return ";" if header.count(";") >= header.count("\t") else "\t"


def read_csv(path: Path, strict: bool = False) -> tuple[list[str], list[dict[str, str]]]:
    """The header and rows of a CSV file (separated by commas, semicolons or tabs: :func:`delimiter_of`; encoding as
    :func:`~peephole.modalities.items.read_text`, ``strict`` too); a field over the csv module's limit (131,072
    characters; an unclosed quote makes the rest of the file one field) or another malformed line is an
    :class:`InputError` naming the file and line."""
    text = read_text(path, strict)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter_of(text.split("\n", 1)[0]))
    try:
        header = list(reader.fieldnames or [])
        return header, list(reader)
    except csv.Error as exc:
        limit = csv.field_size_limit()
        why = (
            f"a field longer than {limit:,} characters, the most a CSV field may hold (an unclosed quote?)"
            if "field limit" in str(exc)
            else f"not a valid CSV line ({exc})"
        )
        raise InputError(f"{path}, line {reader.line_num + 1}: {why}") from exc


#: How each kind of dataset table is read, by suffix
READERS: dict[str, Callable[[Path], tuple[list[str], list[dict[Any, Any]]]]] = {
    ".csv": read_csv,
    ".tsv": read_csv,
    ".jsonl": read_jsonl,
    ".ndjson": read_jsonl,
    ".parquet": read_parquet,
}
#: The files read as tables of inputs
TABLE_SUFFIXES = tuple(READERS)
