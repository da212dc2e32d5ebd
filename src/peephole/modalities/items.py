"""Dataset items and the parts of reading them that every modality shares: the files of a folder, text files and
arrays, which column holds the inputs and the labels, rows that hold no input, stable ids.

Each modality reads its own kinds of dataset (``Modality.read_items``); this module (and :mod:`~peephole.modalities.
tables` for the tables) holds what they have in common, so that ``peephole.batch`` only dispatches and never knows a
file format.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from peephole.errors import InputError
from peephole.terminal import storable

LABEL_COLUMNS = ("label", "class", "target")

#: Byte-order marks and their encodings (UTF-32's first: its little-endian mark starts with UTF-16's).
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class Item:
    """One input of a dataset, with an id that is stable across runs of the same data: ``source`` is what the
    modality's ``load_item`` reads (an image path, a sentence, an array). The id is :func:`storable` text."""

    id: str
    source: Any
    label: str | None = None  #: the true class (index or name, as written), when known

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", storable(self.id))


class NotThisKind(InputError):
    """The dataset holds no inputs of the modality asked (another modality may read it); the message says why."""


def is_folder(spec: str) -> bool:
    """Whether a command-line input names a folder; a text too long or too odd to be a path (a 5,000-character
    sentence, a NUL) names none (``Path.is_dir`` raised ``OSError: File name too long`` on it)."""
    try:
        return Path(spec).is_dir()
    except (OSError, ValueError):
        return False


def files_below(folder: Path) -> list[Path]:
    """Every regular file below ``folder``, sorted. Hidden files and folders (a name starting with a dot: a Mac's
    ``._photo.jpg`` AppleDouble twins, which hold Finder metadata and each failed as an item; ``.ipynb_checkpoints``)
    and a zip's ``__MACOSX`` folder are left out. Symbolic links to folders are followed (a subset of a dataset made of
    links to its class folders: ``Path.rglob`` did not follow them, so their images were left out without a word),
    each real folder once, so a link to a folder above cannot loop."""
    seen: set[str] = set()
    out = []
    for top, dirs, names in os.walk(folder, followlinks=True):
        real = os.path.realpath(top)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = [d for d in dirs if not (d.startswith(".") or d == "__MACOSX")]
        out += [Path(top) / n for n in names if not n.startswith(".") and (Path(top) / n).is_file()]
    return sorted(out)


def input_lines(data: bytes, source: str = "stdin") -> list[str]:
    """The inputs ``peephole explain -`` reads: one per non-blank line, decoded as file names are (UTF-8, other bytes
    kept as the file system gives them); an :class:`InputError` for data holding NUL bytes (an image piped in, or
    UTF-16 text), which no path or text line holds."""
    if b"\0" in data:
        raise InputError(
            f"{source} holds NUL bytes: it is read as one input (a path or a text) per line, not as an input itself "
            "(an image's bytes? give its path; UTF-16 text? save it as UTF-8)"
        )
    return [line for line in os.fsdecode(data).splitlines() if line.strip()]


def read_text(path: Path, strict: bool = False) -> str:
    """The text of a dataset file. Encoding: the one its byte-order mark names (UTF-8, UTF-16, UTF-32), else UTF-8
    when the bytes are valid UTF-8, else (unless ``strict``: an error, for tables whose names must be exact)
    Windows-1252 (Western European; Latin-1 where its five unassigned bytes occur) with a warning naming the file.
    NUL bytes without a byte-order mark (UTF-16 without one, a binary file), or bytes invalid in the encoding a mark
    names, are an :class:`InputError` naming the file."""
    if not path.is_file():  # a FIFO or a device would be read forever
        raise InputError(f"{path}: not a regular file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror or exc})") from exc
    encoding = next((enc for bom, enc in BOMS if data.startswith(bom)), None)
    if encoding is not None:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: starts with a {encoding} byte-order mark but is not {encoding} ({exc.reason})") from exc
    if b"\0" in data:
        raise InputError(
            f"{path}: holds NUL bytes, so it is not a text file (UTF-16 needs its byte-order mark; save it as UTF-8)"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if strict:
            raise InputError(f"{path}: cannot be read as UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})") from exc
        fallback = "cp1252"
        try:
            text = data.decode(fallback)
        except UnicodeDecodeError:
            fallback, text = "latin-1", data.decode("latin-1")
        warnings.warn(
            f"{path} is not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); read as {fallback}. "
            "If its accents look wrong, save it as UTF-8.",
            stacklevel=2,
        )
        return text


def read_arrays(source: Path, what: str) -> dict[str, Any]:
    """The arrays of an ``.npz`` by name (an ``.npy``'s as ``""``) holding ``what`` (``"sequences"``, ``"images"``),
    read as data with their sizes checked (:mod:`peephole.core.arrays`); anything wrong with the file, one
    :class:`InputError` naming it."""
    from peephole.core.arrays import read_npy, read_npz

    try:
        if source.suffix.lower() == ".npz":
            return read_npz(source, f"an .npz of {what}", larger=f"save the {what} as .npy files, read up to their own size")
        return {"": read_npy(source, f"an .npy array of {what}")}
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from exc


def array_inputs(
    source: Path, what: str, column: str | None, labels: str | None, input_keys: Sequence[str], label_keys: Sequence[str]
) -> tuple[Any, Any]:
    """The array of inputs and the array of labels (or None) of an ``.npy`` / ``.npz`` file of ``what``: an ``.npy``'s
    one array, or the ``.npz``'s array named ``column`` (else one of ``input_keys``, else its only array) and
    ``labels`` (else one of ``label_keys``, else none), by :func:`pick_column`'s rules; labels saved as whole floats
    (``2.0``) are the class indices they write."""
    arrays = read_arrays(source, what)
    keys = list(arrays)
    if keys == [""]:
        return arrays[""], None
    key = pick_column(keys, column, input_keys, source, "inputs", "array") or (keys[0] if len(keys) == 1 else None)
    if key is None:
        raise InputError(f"{source}: no array of {what} ({', '.join(input_keys)}: name it with column=); its arrays: {keys}")
    lab = pick_column([k for k in keys if k != key], labels, label_keys, source, "labels", "array")
    truth = None if lab is None else arrays[lab].reshape(-1)
    if truth is not None and truth.dtype.kind == "f" and np.all(np.isfinite(truth)) and np.all(truth == np.round(truth)):
        truth = truth.astype(np.int64)  # labels saved as floats (1.0): class indices
    return arrays[key], truth


#: How a reader's error tells the user to name each kind of column (library keyword and command-line option).
CHOOSE = {"inputs": "column= (CLI: --column)", "labels": "label_column= (CLI: --label-column)"}


def pick_column(
    header: Sequence[str], given: str | None, defaults: Sequence[str], path: Path, what: str, kind: str = "column"
) -> str | None:
    """The column (``kind``: or an ``.npz``'s array) of ``what`` ("inputs" or "labels"): ``given``, else the one of
    ``defaults`` present, else None; a name is matched exactly, else regardless of case and surrounding spaces
    (``Path``, `` label``). An :class:`InputError` where the answer would be a guess: nothing called ``given``, several
    ``defaults`` present (a CSV of ``image`` ids and ``file`` paths), or a header naming the column twice (the csv
    module keeps the last)."""
    if given is not None:
        col = _named(header, given)
        if col is None:
            raise InputError(f"{path}: no {kind} {given!r} ({what}); its {kind}s are {list(header)}")
    else:
        present = list(dict.fromkeys(c for c in (_named(header, d) for d in defaults) if c is not None))
        if len(present) > 1:
            raise InputError(
                f"{path}: {kind}s {', '.join(map(repr, present))} could each hold the {what}; name the one to read "
                f"with {CHOOSE[what]}"
            )
        col = present[0] if present else None
    if col is not None and list(header).count(col) > 1:
        raise InputError(f"{path}: its header names {kind} {col!r} ({what}) {list(header).count(col)} times; rename all but one")
    return col


def _named(header: Sequence[str], name: str) -> str | None:
    """The column of ``header`` called ``name``: exactly, else the only one equal to it regardless of case and
    surrounding spaces; None when there is none (or several such)."""
    if name in header:
        return name
    loose = {c for c in header if c is not None and c.strip().casefold() == name.strip().casefold()}
    return loose.pop() if len(loose) == 1 else None


def label_column(header: Sequence[str], given: str | None, path: Path) -> str | None:
    """The column of true labels: ``given``, else the one of :data:`LABEL_COLUMNS` present, else None."""
    return pick_column(header, given, LABEL_COLUMNS, path, "labels")


@dataclass(frozen=True)
class BadRow:
    """A table's row that holds no input (more fields than the header, a field that is no number where numbers are
    read, a JSON Lines line that is no object): its item fails when it is loaded, saying why, and the other rows
    run."""

    where: str
    why: str


def no_bad_row(source: Any) -> None:
    """An :class:`InputError` saying why when ``source`` is a :class:`BadRow` (every modality's ``load_item`` asks)."""
    if isinstance(source, BadRow):
        raise InputError(f"{source.where}: {source.why}")


def extra_fields(row: dict[Any, Any], header: Sequence[str], where: str) -> BadRow | None:
    """The :class:`BadRow` a table's row is when it has fields past the header's (the csv module keeps them under
    None: an unquoted comma inside a text or a file name) or, from :func:`~peephole.modalities.tables.read_table`, says
    why it is none under None (a JSON Lines line that is no object), else None."""
    extra = row.get(None)
    if not extra:
        return None
    if isinstance(extra, str):
        return BadRow(where, extra)
    return BadRow(where, f"{len(header) + len(extra)} fields for a header of {len(header)} (an unquoted comma? quote the field)")


def content_id(position: int, data: bytes) -> str:
    """Position plus a hash of the content: stable, and an edited input is a new item."""
    return f"{position:06d}:{hashlib.sha1(data).hexdigest()[:8]}"
