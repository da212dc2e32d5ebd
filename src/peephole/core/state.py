"""Classes named by import path, so partitions and aggregators round-trip to disk as data (no pickle).

A saved file names its classes; :func:`resolve` looks each name up in :data:`SAVED`, the table of the
partition and aggregator kinds that may be saved, and imports only a module that table names. Any other
name is an :class:`InputError` before anything is imported: a file cannot make :func:`resolve` import or
run anything else (not even another Peephole module, such as ``peephole.__main__``).
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


#: Every partition and aggregator kind a saved explanation may name (its :func:`class_path`). A new kind
#: that a method saves must be added here (``tests/core/test_state.py`` checks that none is missing).
KINDS = (
    "peephole.core.partition:MaskPartition",
    "peephole.core.partition:LabelPartition",
    "peephole.core.partition:Complement",
    "peephole.core.partition:Coalitions",
    "peephole.core.partition:PartSubset",
    "peephole.core.partition:GroupSubset",
    "peephole.core.aggregate:Eq1Aggregator",
    "peephole.core.aggregate:FilledEq1Aggregator",
    "peephole.core.aggregate:WeightedSumAggregator",
    "peephole.core.aggregate:DropAggregator",
    "peephole.core.aggregate:ScoresOnly",
    "peephole.modalities.image.superpixels:Superpixels",
    "peephole.modalities.image.windows:SlidingWindows",
    "peephole.modalities.sequence.partitions:IndexPartition",
    "peephole.methods.rise:RiseMasks",
    "peephole.methods.surrogate:LimeFit",
    "peephole.methods.kernel_shap:ShapleyFit",
    "peephole.core.designs:Designs",
    "peephole.core.designs:DesignAggregator",
    "peephole.methods.hsic:HsicAggregator",
    "peephole.methods.sobol:JansenAggregator",
)

#: Module paths of earlier versions (before the package was restructured), read as their new place.
RENAMED = {"peephole.engine.": "peephole.core."}

#: Class paths that files of earlier versions name, and where those classes live now.
MOVED = {"peephole.methods.lime:LimeFit": "peephole.methods.surrogate:LimeFit"}

#: A saved class path -> the ``'module:Class'`` it is read as: :data:`KINDS`, their old ``peephole.engine.``
#: paths (:data:`RENAMED`) and :data:`MOVED`. Nothing outside this table is ever imported by :func:`resolve`.
SAVED: dict[str, str] = {
    **{k: k for k in KINDS},
    **{old + k[len(new) :]: k for k in KINDS for old, new in RENAMED.items() if k.startswith(new)},
    **MOVED,
}


def resolve(path: str, base: type[T]) -> type[T]:
    """The class that the saved class path ``path`` names (see :data:`SAVED`), if it is a subclass of ``base``."""
    target = SAVED.get(path) if isinstance(path, str) else None
    if target is None:
        shown = path if isinstance(path, str) and len(path) <= 200 else f"{str(path)[:200]}..."
        raise InputError(
            f"refusing to load {shown!r}: a saved explanation may name only Peephole classes of the partition and "
            f"aggregator kinds it saves"
        )
    module, _, name = target.partition(":")
    try:
        obj: Any = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:  # an optional dependency missing
        raise InputError(f"cannot load {path!r} in this installation of Peephole ({exc})") from exc
    if not (isinstance(obj, type) and issubclass(obj, base)):
        raise InputError(f"{path!r} is not a {base.__name__}")
    return obj
