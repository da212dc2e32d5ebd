"""Class names: the class (or classes) a name gives. Names repeat in real label lists, so a name is not a key."""

from __future__ import annotations

from collections.abc import Sequence

from peephole.errors import InputError


def classes_named(name: str, class_names: Sequence[str] | None) -> list[int]:
    """The indices of the model's classes called ``name``: more than one where names repeat (ImageNet calls classes
    134 and 517 'crane', 638 and 639 'maillot')."""
    return [i for i, n in enumerate(class_names or ()) if n == name]


def class_named(name: str, class_names: Sequence[str] | None) -> int:
    """The one class called ``name``; an :class:`InputError` when none is, or when several are (it took the first,
    silently: ``--target crane`` explained the bird, never the machine)."""
    hits = classes_named(name, class_names)
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise InputError(f"{name!r} names {len(hits)} of the model's classes ({', '.join(map(str, hits))}): give its index")
    known = f"the model's classes are {list(class_names)[:20]}" if class_names else "the model names no classes"
    raise InputError(f"unknown class {name!r}; {known}")
