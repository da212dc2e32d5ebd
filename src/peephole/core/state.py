"""Classes named by import path, so partitions and aggregators round-trip to disk as data (no pickle).

Only classes inside the ``peephole`` package that subclass the expected base are ever resolved: a
file cannot make :func:`resolve` import or run anything else.
"""

from __future__ import annotations

import importlib
from typing import Any, TypeVar

from peephole.errors import InputError

T = TypeVar("T")


def class_path(obj: Any) -> str:
    """``'module:QualName'`` of an object's class (or of a class)."""
    cls = obj if isinstance(obj, type) else type(obj)
    return f"{cls.__module__}:{cls.__qualname__}"


#: Module paths of earlier versions (before the package was restructured), read as their new place.
RENAMED = {"peephole.engine.": "peephole.core."}


def resolve(path: str, base: type[T]) -> type[T]:
    """The class at ``path`` (see :func:`class_path`), if it is a Peephole subclass of ``base``."""
    module, _, name = str(path).partition(":")
    for old, new in RENAMED.items():
        if module.startswith(old):
            module = new + module[len(old) :]
    if not (module == "peephole" or module.startswith("peephole.")) or not name:
        raise InputError(f"refusing to load {path!r}: only Peephole classes can be named in a saved explanation")
    try:
        obj: Any = importlib.import_module(module)
        for part in name.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"cannot find {path!r} in this version of Peephole") from exc
    if not (isinstance(obj, type) and issubclass(obj, base)):
        raise InputError(f"{path!r} is not a {base.__name__}")
    return obj
