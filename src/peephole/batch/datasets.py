"""Datasets for a run: what to explain, one item at a time, each with a stable id.

A dataset is a folder or a file that a modality reads (:meth:`~peephole.modalities.Modality.read_items`:
images from a folder or a CSV of paths, texts from a CSV column or a text file of lines, sequences from an
``.npy`` / ``.npz`` array, a folder of ``.npy`` files or a CSV of numeric rows), or a Python list of inputs.
Item ids are stable across runs of the same data, so a resumed run recognises what it has already done.
This module only dispatches: the requested modality reads the dataset, or else each modality in the order
of :data:`peephole.modalities.MODALITIES` is asked until one recognises it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peephole.errors import InputError
from peephole.modalities.items import Item, NotThisKind


@dataclass(frozen=True)
class Dataset:
    """Items of one input kind, in a fixed order; ``spec`` names where they came from (recorded in the run)."""

    items: tuple[Item, ...]
    modality: str  #: the name of the modality that read them
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
    """The items of ``data``: a folder or file (read by ``modality`` when given, else by the first modality
    that recognises it), a :class:`Dataset`, or a list of inputs (of ``modality``, else of the first modality
    that holds them all). ``column``: where a CSV (or ``.npz``) holds the inputs; ``label_column``: the true
    labels (default: a label/class/target column, when present).
    """
    from peephole.modalities import MODALITIES, get_modality

    if isinstance(data, Dataset):
        return data
    if isinstance(data, (str, Path)):
        p = Path(data)
        if not p.exists():
            raise InputError(f"{p}: no such folder or file")
        if not (p.is_dir() or p.is_file()):  # a FIFO or a device: reading it could wait forever
            raise InputError(f"{p}: not a folder or a regular file")
        asked = [get_modality(modality)] if modality is not None else [get_modality(m) for m in MODALITIES]
        reasons = []
        for mod in asked:
            try:
                items = mod.read_items(p, column, label_column, asked=modality is not None)
            except NotThisKind as exc:
                reasons.append(f"{mod.name}: {exc}")
                continue
            if not items:
                raise InputError(f"{p}: no rows")
            where = f"{p.resolve()}#{column}" if column is not None else str(p.resolve())
            return Dataset(tuple(items), mod.name, where)
        if modality is not None:
            raise NotThisKind(f"{p} holds no {modality} inputs ({'; '.join(reasons)})")
        raise InputError(f"{p}: no modality reads it ({'; '.join(reasons)})")
    if isinstance(data, Sequence) and not isinstance(data, str) and data:
        mods = [get_modality(modality)] if modality is not None else [get_modality(m) for m in MODALITIES]
        mod = next((m for m in mods if modality is not None or all(m.holds(x) for x in data)), None)
        if mod is None:
            raise InputError(f"cannot tell what kind of inputs the list holds; name it (modality=one of {sorted(MODALITIES)})")
        items = tuple(Item(f"{i:06d}", x) for i, x in enumerate(data))
        return Dataset(items, mod.name, f"<list of {len(items)} inputs>")
    raise InputError(f"cannot read a dataset from {type(data).__name__}: give a folder, a file or a list of inputs")


__all__ = ["Dataset", "Item", "open_dataset"]
