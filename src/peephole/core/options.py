"""Typed options: a method's, a partition's and a masker's options are frozen dataclasses (names, types, defaults);
their ``__post_init__`` checks ranges with :func:`require`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from peephole.errors import InputError


@dataclass(frozen=True)
class NoOptions:
    """The options of a method, partition or masker that has none."""


def require(name: str, value: Any, valid: str, test: Callable[[Any], Any]) -> None:
    """An :class:`InputError` ``"{name} must be {valid}, got {value!r}"`` unless ``test(value)`` holds."""
    try:
        ok = bool(test(value))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InputError(f"{name} must be {valid}, got {value!r}")


def values(options: Any) -> dict[str, Any]:
    """An options dataclass as a dict (shallow: the values themselves)."""
    return {f.name: getattr(options, f.name) for f in fields(options)}


def names(options_class: type) -> set[str]:
    """The option names of an options dataclass."""
    return {f.name for f in fields(options_class)}
