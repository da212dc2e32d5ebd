"""One :class:`~peephole.result.Explanation` <-> one ``.npz`` file (arrays + a JSON metadata string, versioned).

:meth:`Explanation.save` writes it; :func:`read` reads it back with ``allow_pickle=False``. Saved partitions
and aggregators are named by class path and resolved only among Peephole's own classes
(:func:`peephole.core.state.resolve`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from peephole.core.partition import Partition
from peephole.core.state import resolve
from peephole.errors import InputError
from peephole.result import FORMAT, FORMAT_VERSION, Explanation


def read(path: str | Path) -> Explanation:
    """The :class:`Explanation` saved at ``path`` by :meth:`Explanation.save`; an :class:`InputError` for anything else."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {path}: not a saved explanation ({exc})") from exc
    if "__meta__" not in arrays:
        raise InputError(f"{path} is an .npz file but not a saved Peephole explanation")
    meta = json.loads(str(arrays.pop("__meta__")))
    if meta.get("format") != FORMAT:
        raise InputError(f"{path} is not a saved Peephole explanation (format {meta.get('format')!r})")
    if int(meta.get("version", 0)) > FORMAT_VERSION:
        raise InputError(
            f"{path} was written in explanation format version {meta['version']}; this Peephole reads up to "
            f"version {FORMAT_VERSION}: upgrade Peephole to load it"
        )
    partition = None
    if meta.get("partition"):
        p = meta["partition"]
        parts = {k: arrays[f"partition/{k}"] for k in p["arrays"]}
        partition = resolve(p["class"], Partition).from_state(p["params"], parts)
    x = {"array": arrays.get("input"), "words": meta.get("words"), None: None}[meta["input"]]
    return Explanation(
        method=meta["method"],
        modality=meta["modality"],
        input=x,
        maps=arrays["maps"],
        targets=[int(t) for t in meta["targets"]],
        probabilities=arrays["probabilities"],
        class_names=meta["class_names"],
        n_queries=int(meta["n_queries"]),
        scores=arrays["scores"],
        partition=partition,
        aggregator=meta["aggregator"],
        first_run_maps=arrays.get("first_run_maps"),
        timings=meta["timings"],
        params=meta["params"],
        extras={k: arrays[f"extras/{k}"] for k in meta["extras"]},
        task=str(meta.get("task", "classification")),  # files written before tasks existed are classifications
    )
