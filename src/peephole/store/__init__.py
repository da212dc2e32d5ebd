"""Results on disk: one :class:`~peephole.result.Explanation` per ``.npz`` (:mod:`peephole.store.npz`), and the run
store (:mod:`peephole.store.runs`: SQLite + one ``.npz`` per item) — the one batch format that ``peephole run``,
``peephole benchmark`` and ``peephole report`` write and read."""

from __future__ import annotations

from pathlib import Path

from peephole.errors import InputError
from peephole.result import Explanation
from peephole.store.npz import read
from peephole.store.runs import Store


def load(path: str | Path, item: str | None = None) -> Explanation:
    """Every saved result: a ``.npz`` written by :meth:`Explanation.save`, or ``item`` of the run folder ``path``
    (written by ``peephole.run`` or ``peephole benchmark``)."""
    if item is not None or Path(path).is_dir():
        if item is None:
            raise InputError(f"{path} is a folder; for an item of a run folder: peephole.load({str(path)!r}, item=ITEM_ID)")
        with Store(path) as store:
            return store.load(item)
    return read(path)


__all__ = ["Store", "load", "read"]
