"""NumPy's ``.npy`` and ``.npz`` files read as data, with every size checked before anything is allocated: no pickle
(a member of Python objects is refused), each array's declared shape against the bytes its file or zip member holds
(a header declaring 10¹⁰ floats in a file of 100 bytes allocated 75 GiB, or failed with numpy's MemoryError), an
``.npz``'s members and their uncompressed sizes against limits. Whatever is wrong (truncated, bit-flipped, not a
zip, another format version) is one :class:`InputError`. Saved explanations (:mod:`peephole.store.npz`) and sequence
datasets (:mod:`peephole.modalities.sequence.items`) read their arrays here."""

from __future__ import annotations

import struct
import tokenize
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from peephole.errors import InputError

#: The most an ``.npz`` may hold, uncompressed (all its arrays together), by default.
MAX_BYTES = 2 << 30
#: The most arrays an ``.npz`` may hold, by default.
MAX_MEMBERS = 10_000
#: What reading a damaged file raises on its way (numpy's header parser, zip, zlib), made one InputError.
DAMAGED = (
    OSError,
    EOFError,
    struct.error,
    zipfile.BadZipFile,
    zlib.error,
    NotImplementedError,
    ValueError,
    RuntimeError,
    SyntaxError,
    tokenize.TokenError,  # numpy's .npy header parser on an unbalanced header (a flipped bracket)
)


def read_npy(path: Path, what: str = "an .npy array") -> np.ndarray:
    """The array of the ``.npy`` file at ``path``, its declared size checked against the file's."""
    try:
        with open(path, "rb") as f:
            return _data(f, *_header(f, path.name, path.stat().st_size, what))
    except InputError:
        raise
    except DAMAGED as exc:
        raise InputError(f"not {what} (damaged, or not an .npy: {exc})") from exc


def read_npz(
    path: Path,
    what: str = "an .npz of arrays",
    max_bytes: int = MAX_BYTES,
    max_members: int = MAX_MEMBERS,
    larger: str = "see max_bytes",
) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` at ``path`` by name, each size checked before it is read; ``larger``: what the
    error for more than ``max_bytes`` (uncompressed: a zip bomb's are huge) says to do."""
    try:
        with zipfile.ZipFile(path) as z:
            members = z.infolist()
            if len(members) > max_members:
                raise InputError(f"holds {len(members)} arrays, more than {what} ({max_members})")
            total = sum(m.file_size for m in members)
            if total > max_bytes:
                raise InputError(f"holds {total:,} bytes uncompressed, more than Peephole loads ({max_bytes:,}; {larger})")
            out = {}
            for m in members:
                if not m.filename.endswith(".npy"):
                    raise InputError(f"{m.filename!r} is not an array: not {what}")
                with z.open(m) as f:
                    out[m.filename[: -len(".npy")]] = _data(f, *_header(f, m.filename, m.file_size, what))
            return out
    except InputError:
        raise
    except DAMAGED as exc:
        raise InputError(f"not {what} (damaged, or not an .npz: {exc})") from exc


def _header(f: Any, name: str, size: int, what: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """The declared shape, order and dtype of one ``.npy`` (a file or zip member of ``size`` bytes), checked."""
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
    elif version in ((2, 0), (3, 0)):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    else:
        raise InputError(f"{name!r}: .npy format version {version}")
    if dtype.hasobject:
        raise InputError(f"{name!r} holds Python objects: not {what}")
    n = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if n > size:
        raise InputError(f"{name!r} declares {n} bytes but holds {size}")
    return shape, fortran, dtype


def _data(f: Any, shape: tuple[int, ...], fortran: bool, dtype: np.dtype) -> np.ndarray:
    n = int(np.prod(shape, dtype=object))
    data = f.read(n * dtype.itemsize)
    if len(data) != n * dtype.itemsize:
        raise InputError(f"an array is cut short ({len(data)} of {n * dtype.itemsize} bytes)")
    a = np.frombuffer(data, dtype=dtype, count=n) if n else np.zeros(0, dtype)
    a = a.reshape(shape[::-1]).transpose() if fortran else a.reshape(shape)
    f.read()  # the rest of the member: the zip's CRC check runs at its end
    return a.copy() if not a.flags.writeable else a
