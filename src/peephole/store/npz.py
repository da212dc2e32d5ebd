"""One :class:`~peephole.result.Explanation` <-> one ``.npz`` file (arrays + a JSON metadata string, versioned).

:meth:`Explanation.save` writes it; :func:`read` reads it back as data only: no pickle, classes named only
from the table of saved kinds (:data:`peephole.core.state.SAVED`), and sizes checked before anything is
allocated — the zip members' uncompressed sizes against ``max_bytes``, each array's declared shape against its
member's size, a saved partition's declared size against :mod:`peephole.core.partition`'s limits. Whatever is
wrong with a file (truncated, bit-flipped, empty, not a zip, missing or mistyped entries) is one
:class:`InputError` naming it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from peephole.core.aggregate import Aggregator
from peephole.core.arrays import MAX_BYTES, read_npz
from peephole.core.partition import Partition
from peephole.core.state import resolve
from peephole.errors import InputError
from peephole.result import FORMAT, FORMAT_VERSION, Explanation

#: The most arrays a saved explanation may hold.
MAX_MEMBERS = 10_000
#: The most characters of its JSON metadata.
MAX_META_CHARS = 64 << 20


def read(path: str | Path, max_bytes: int = MAX_BYTES) -> Explanation:
    """The :class:`Explanation` saved at ``path`` by :meth:`Explanation.save`; an :class:`InputError` naming
    the file for anything else (including a file whose arrays hold more than ``max_bytes`` uncompressed)."""
    try:
        arrays = read_npz(Path(path), "a saved explanation", max_bytes, MAX_MEMBERS)
        return _explanation(arrays)
    except InputError as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, RecursionError) as exc:  # a mistyped entry
        raise InputError(
            f"cannot read {path}: not a readable saved explanation ({type(exc).__name__}: {str(exc)[:200]})"
        ) from exc


def _explanation(arrays: dict[str, np.ndarray]) -> Explanation:
    meta_array = arrays.pop("__meta__", None)
    if meta_array is None:
        raise InputError("an .npz file but not a saved Peephole explanation")
    if meta_array.dtype.kind != "U" or meta_array.shape != () or meta_array.dtype.itemsize > 4 * MAX_META_CHARS:
        raise InputError(f"metadata is {meta_array.dtype} of shape {meta_array.shape}: not a saved explanation")
    try:
        meta = json.loads(str(meta_array))
    except (ValueError, RecursionError) as exc:
        raise InputError(f"metadata is not JSON ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise InputError(f"not a saved Peephole explanation (format {meta.get('format') if isinstance(meta, dict) else None!r})")
    version = meta.get("version", 0)
    if not _is_int(version):
        raise InputError(f"explanation format version {version!r}")
    if version > FORMAT_VERSION:
        raise InputError(
            f"written in explanation format version {version}; this Peephole reads up to "
            f"version {FORMAT_VERSION}: upgrade Peephole to load it"
        )
    _check_meta(meta)
    maps, probabilities, scores = (_array(arrays, k, "biuf") for k in ("maps", "probabilities", "scores"))
    targets = meta["targets"]
    if probabilities.ndim != 1 or scores.ndim != 2:
        raise InputError(f"probabilities of shape {probabilities.shape}, scores of shape {scores.shape}")
    if maps.ndim < 1 or len(maps) != len(targets):
        raise InputError(f"maps of shape {maps.shape} for {len(targets)} targets")
    if not all(0 <= t < len(probabilities) for t in targets):
        raise InputError(f"targets {targets[:10]} outside the {len(probabilities)} classes")
    first = arrays.get("first_run_maps")
    if first is not None and (first.dtype.kind not in "biuf" or first.shape != maps.shape):
        raise InputError(f"first_run_maps {first.dtype} of shape {first.shape}, maps of shape {maps.shape}")
    x = {"array": lambda: _array(arrays, "input", "biuf"), "words": lambda: meta["words"], None: lambda: None}[meta["input"]]()
    partition = None
    if meta.get("partition"):
        p = meta["partition"]
        parts = {k: _array(arrays, f"partition/{k}", "biuf") for k in p["arrays"]}
        partition = resolve(p["class"], Partition).from_state(p["params"], parts)
    if meta["aggregator"] is not None:
        _check_aggregator(meta["aggregator"])
    return Explanation(
        method=meta["method"],
        modality=meta["modality"],
        input=x,
        maps=maps,
        targets=list(targets),
        probabilities=probabilities,
        class_names=meta["class_names"],
        n_queries=meta["n_queries"],
        scores=scores,
        partition=partition,
        aggregator=meta["aggregator"],
        first_run_maps=first,
        timings=meta["timings"],
        params=meta["params"],
        extras={k: _array(arrays, f"extras/{k}", "biufUS") for k in meta["extras"]},
        task=meta.get("task", "classification"),  # files written before tasks existed are classifications
    )


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_list(v: Any, kind: Any) -> bool:
    return isinstance(v, list) and all(kind(e) for e in v)


_STR = lambda v: isinstance(v, str)  # noqa: E731

#: Each metadata entry, and what it must be.
_META = {
    "method": (_STR, "a string"),
    "modality": (_STR, "a string"),
    "targets": (lambda v: _is_list(v, _is_int), "a list of class indices"),
    "class_names": (lambda v: v is None or _is_list(v, _STR), "null or a list of strings"),
    "n_queries": (lambda v: _is_int(v) and v >= 0, "a count"),
    "aggregator": (lambda v: v is None or isinstance(v, dict), "null or an object"),
    "timings": (lambda v: isinstance(v, dict) and all(isinstance(t, (int, float)) for t in v.values()), "seconds by stage"),
    "params": (lambda v: isinstance(v, dict), "an object"),
    "extras": (lambda v: _is_list(v, _STR), "a list of names"),
    "task": (_STR, "a string"),
    "input": (lambda v: v in ("array", "words", None), "'array', 'words' or null"),
    "partition": (
        lambda v: not v or (isinstance(v, dict) and isinstance(v.get("params"), dict) and _is_list(v.get("arrays"), _STR)),
        "null or an object with the partition's class, params and arrays",
    ),
}


def _check_meta(meta: dict[str, Any]) -> None:
    for key, (ok, what) in _META.items():
        if key == "task" and key not in meta or key == "partition" and key not in meta:
            continue
        if key not in meta:
            raise InputError(f"metadata has no {key!r}: not a complete saved explanation")
        if not ok(meta[key]):
            raise InputError(f"metadata {key!r} is {str(meta[key])[:80]!r}, expected {what}")
    if meta["input"] == "words" and not _is_list(meta.get("words"), _STR):
        raise InputError("metadata 'words' is not a list of strings")


def _array(arrays: dict[str, np.ndarray], key: str, kinds: str) -> np.ndarray:
    a = arrays.get(key)
    if a is None:
        raise InputError(f"array {key!r} is missing: not a complete saved explanation")
    if a.dtype.kind not in kinds:
        raise InputError(f"array {key!r} is {a.dtype}, not numbers")
    return a


def _check_aggregator(agg: dict[str, Any]) -> None:
    """The saved aggregator names a saved kind, with parameters its class takes (checked, not built)."""
    import inspect

    if set(agg) != {"class", "params"} or not isinstance(agg["params"], dict):
        raise InputError(f"aggregator {str(agg)[:80]!r}, expected its class and params")
    cls = resolve(agg["class"], Aggregator)
    try:
        inspect.signature(cls.__init__).bind(None, None, None, **agg["params"])
    except TypeError as exc:
        raise InputError(f"aggregator {agg['class']!r} takes no parameters {sorted(agg['params'])} ({exc})") from exc
    if not all(isinstance(v, (bool, int, float, str)) or v is None for v in agg["params"].values()):
        raise InputError(f"aggregator {agg['class']!r}: parameters must be numbers, strings or flags")
