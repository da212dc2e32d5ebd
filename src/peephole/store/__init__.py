"""Results on disk: one :class:`~peephole.result.Explanation` per ``.npz`` (:mod:`peephole.store.npz`), and the run
store (:mod:`peephole.store.runs`: SQLite + one ``.npz`` per item) — the one batch format that ``peephole run``
and ``peephole benchmark`` write and ``peephole report`` reads."""

from __future__ import annotations

import json
from pathlib import Path

from peephole.errors import InputError
from peephole.outputs import MANIFEST as EXPLAIN_MANIFEST  # what peephole explain writes beside its <stem>.npz files
from peephole.result import Explanation
from peephole.store.npz import read
from peephole.store.runs import MANIFEST, Store


def load(path: str | Path, item: str | None = None) -> Explanation:
    """Every saved result, as an :class:`Explanation`:

    - a ``.npz`` written by :meth:`Explanation.save` (``peephole explain`` writes ``OUT/<stem>.npz``);
    - ``item`` of a run folder (``run.sqlite``): an item id of ``peephole.run`` (the dataset's item id), or of
      ``peephole benchmark`` (``'<image file>/<method>'``, e.g. ``'cat.jpg/pami-superpixels'``);
    - ``item`` of a ``peephole explain`` output folder: an input's stem (``'cat'``) or the input as given.

    Anything else is an :class:`InputError` saying what was found.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file or folder")
    if not p.is_dir():
        if item is not None:
            raise InputError(f"{p} is one saved explanation; load it without item= (item= names a result in a run folder)")
        return read(p)
    if item is None:
        raise InputError(f"{p} is a folder; for one result in it: peephole.load({str(p)!r}, item=ITEM_ID)")
    if (p / MANIFEST).is_file():
        with Store(p) as store:
            return store.load(item)
    if (p / EXPLAIN_MANIFEST).is_file():
        return read(_explain_file(p, item))
    raise InputError(f"{p}: neither a run folder ({MANIFEST}) nor a peephole explain folder ({EXPLAIN_MANIFEST})")


def _explain_file(folder: Path, item: str) -> Path:
    """The ``.npz`` that ``peephole explain`` wrote into ``folder`` for the input ``item`` (its stem or its spec)."""
    try:
        items = json.loads((folder / EXPLAIN_MANIFEST).read_text(encoding="utf-8")).get("items", [])
    except (OSError, ValueError, AttributeError) as exc:
        raise InputError(f"{folder / EXPLAIN_MANIFEST}: unreadable ({exc})") from exc
    for it in items:
        if isinstance(it, dict) and item in (it.get("stem"), it.get("input")):
            if it.get("status") != "ok":
                raise InputError(f"{folder}: input {item!r} failed ({it.get('error')}); it has no result")
            saved = [f for f in it.get("files", []) if isinstance(f, str) and f.endswith(".npz") and Path(f).name == f]
            if saved:
                return folder / saved[0]
    stems = [it.get("stem") for it in items if isinstance(it, dict) and it.get("status") == "ok"][:3]
    hint = f"; its items: {', '.join(map(repr, stems))}" if stems else ""
    raise InputError(f"{folder}: no input {item!r} in this peephole explain folder{hint}")


__all__ = ["Store", "load", "read"]
