"""Typed options: a method's, a partition's and a masker's options are frozen dataclasses (names, types, defaults);
their ``__post_init__`` checks ranges with :func:`require`."""

from __future__ import annotations

import operator
from collections import abc
from collections.abc import Callable
from dataclasses import dataclass, fields
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import numpy as np

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


def require_count(name: str, value: int | None, least: int, most: int | None = None) -> None:
    """An :class:`InputError` unless ``value`` is unset (None) or a whole number of at least ``least`` (a count of
    images, steps or items: a negative one would silently count from the end) and, given ``most``, at most that."""
    if value is not None:
        valid = f"a whole number >= {least}" if most is None else f"a whole number in [{least}, {most}]"
        require(
            name,
            value,
            valid,
            lambda v: not isinstance(v, bool) and operator.index(v) >= least and (most is None or operator.index(v) <= most),
        )


def require_finite(name: str, value: Any, least: float, strict: bool = False, optional: bool = False) -> None:
    """An :class:`InputError` unless ``value`` is a finite number ``>= least`` (``> least`` when ``strict``); None
    passes when ``optional`` (the setting's default is used)."""
    if optional and value is None:
        return
    op = ">" if strict else ">="
    valid = f"a finite number {op} {least:g}" + (" (or None)" if optional else "")
    require(name, value, valid, lambda v: np.isfinite(v) and (v > least if strict else v >= least))


def values(options: Any) -> dict[str, Any]:
    """An options dataclass as a dict (shallow: the values themselves)."""
    return {f.name: getattr(options, f.name) for f in fields(options)}


def names(options_class: type) -> set[str]:
    """The option names of an options dataclass."""
    return {f.name for f in fields(options_class)}


def kind(tp: Any) -> str:
    """What a value of the annotated type ``tp`` is, in words (for messages)."""
    origin, args = get_origin(tp), get_args(tp)
    if tp is type(None):
        return "None"
    if origin is Literal:
        return "one of " + ", ".join(map(repr, args))
    if origin in (Union, UnionType):
        return " or ".join(dict.fromkeys(kind(a) for a in args))
    if origin in (list, tuple, abc.Sequence) or tp in (list, tuple, abc.Sequence):
        inner = [a for a in args if a is not Ellipsis]
        words = kind(inner[0]) if inner else ""
        return "a list" + (f" of ({words})" if " or " in words else f" of {words}" if words else "")
    if origin in (abc.Callable,) or tp is abc.Callable:
        return "a function"
    names = {int: "an integer", float: "a number", bool: "True or False", str: "a string"}
    return names.get(tp, getattr(tp, "__name__", str(tp)))


def fits(value: Any, tp: Any) -> bool:
    """Whether ``value`` is of the annotated type ``tp``: an int field takes Python and numpy integers (not bools,
    not 6.0, not '6'); a float field any real number but a bool; a bool field a bool; a list field a list or tuple
    whose items fit; ``Any`` and types not known here take anything."""
    origin, args = get_origin(tp), get_args(tp)
    if tp is Any:
        return True
    if tp is type(None):
        return value is None
    if origin is Literal:
        # the type first (an array's == is elementwise; 1 is no True); a str subclass (NumPy's str_) is a str
        return any((type(value) is type(a) or isinstance(a, str) and isinstance(value, str)) and value == a for a in args)
    if origin in (Union, UnionType):
        return any(fits(value, a) for a in args)
    if tp is bool:
        return isinstance(value, (bool, np.bool_))
    if tp is int:
        return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if tp is float:
        return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if tp is str:
        return isinstance(value, str)
    if origin in (list, tuple, abc.Sequence) or tp in (list, tuple, abc.Sequence):
        if not isinstance(value, (list, tuple)):
            return False
        inner = [a for a in args if a is not Ellipsis]
        if origin is tuple and len(inner) > 1 and Ellipsis not in args:
            return len(value) == len(inner) and all(fits(v, a) for v, a in zip(value, inner))
        return not inner or all(fits(v, inner[0]) for v in value)
    if origin in (dict, abc.Mapping) or tp in (dict, abc.Mapping):
        return isinstance(value, abc.Mapping)
    if origin is abc.Callable or tp is abc.Callable:
        return callable(value)
    if isinstance(tp, type):
        return isinstance(value, tp)
    return True


def check_types(options_class: type, given: dict[str, Any]) -> None:
    """One :class:`InputError` for the first of ``given`` whose value does not fit its field's annotated type,
    naming the option, the value and what is valid (:func:`fits`)."""
    check_hints(get_type_hints(options_class), given)


def check_call(function: Callable[..., Any], given: dict[str, Any]) -> None:
    """``given`` keyword arguments checked against ``function``'s annotations (:func:`check_types`): the options of a
    method that is a function; a function whose annotations cannot be resolved here is left unchecked."""
    try:
        hints = get_type_hints(function)
    except Exception:  # noqa: BLE001 - annotations naming what only a type checker imports
        return
    check_hints(hints, given)


def check_hints(hints: dict[str, Any], given: dict[str, Any]) -> None:
    """The first of ``given`` whose value does not fit its annotation in ``hints`` is one :class:`InputError`."""
    for name, value in given.items():
        tp = hints.get(name, Any)
        if not fits(value, tp):
            raise InputError(f"{name} must be {kind(tp)}, got {value!r} ({type(value).__name__})")


def make(options_class: type, **given: Any) -> Any:
    """``options_class(**given)`` with every value type-checked first (:func:`check_types`), then the class's own
    range checks (its ``__post_init__``)."""
    check_types(options_class, given)
    return options_class(**given)


#: The seeds ``peephole.explain`` takes: 0 <= seed < SEED_LIMIT.
SEED_LIMIT = 2**63


def seed32(seed: int) -> int:
    """A seed for a generator that takes 32-bit seeds (OpenCV, scikit-learn): ``seed`` itself below 2**31, else a
    number derived from it deterministically (numpy's SeedSequence)."""
    seed = int(seed)
    if 0 <= seed < 2**31:
        return seed
    return int(np.random.SeedSequence(seed).generate_state(1)[0] & 0x7FFFFFFF)
