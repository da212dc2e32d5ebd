"""Explainer inference: one forward pass gives every class's mask (``peephole.explain(..., method='explainer')``)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from time import perf_counter
from typing import Any

import numpy as np

from peephole.core.query import to_numpy
from peephole.errors import InputError
from peephole.gradients.differentiable import as_differentiable, display, to_chw
from peephole.pipeline import Request, build, resolve_targets
from peephole.result import Explanation


@lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int, size: int) -> Any:
    from peephole_lab.systems.explainer.network import load_explainer

    return load_explainer(path)


def cached_explainer(path: str | os.PathLike[str]) -> Any:
    """The Explainer saved at ``path``, loaded once per file version (path, modification time and size)."""
    p = Path(path).resolve()
    if not p.is_file():
        raise InputError(f"{path}: no such Explainer file")
    st = p.stat()
    return _load(str(p), st.st_mtime_ns, st.st_size)


def class_probabilities(raw: Any, multilabel: bool | None, trained: bool | None) -> tuple[np.ndarray, bool, str]:
    """``(probabilities, multilabel, why)`` of one output row ``raw`` of the classifier.

    ``multilabel`` given wins; else the Explainer's training loss (``trained``, from its meta); else the output:
    a row of probabilities summing to 1 is single-label (taken as is), one in [0, 1] that does not sum to 1 is
    multi-label (per-class sigmoids, taken as is), and logits are single-label (softmax) — pass
    ``multilabel=True`` for logits of a multi-label classifier trained with BCE."""
    import torch

    r = raw.double()
    is_probs = bool(((r >= 0) & (r <= 1)).all())
    sums_to_one = is_probs and abs(float(r.sum()) - 1.0) < 1e-3
    if multilabel is not None:
        ml, why = bool(multilabel), "given"
    elif trained is not None:
        ml, why = bool(trained), "the Explainer's training loss"
    elif is_probs:
        ml, why = not sums_to_one, "the classifier's outputs sum to 1" if sums_to_one else "the outputs are per-class scores"
    else:
        ml, why = False, "the classifier returns logits"
    # probabilities: as they are (multi-label) or renormalised over the classes (single-label); logits: σ or softmax
    as_probs = r if ml else r / r.sum().clamp_min(1e-12)
    probs = as_probs if is_probs else (torch.sigmoid(r) if ml else torch.softmax(r, 0))
    return to_numpy(probs.float()), ml, why


def explainer(req: Request, explainer: Any = None, multilabel: bool | None = None) -> Explanation:
    """Masks ``σ(Explainer(x)_k)`` of the targets from a trained Explainer (a module or a saved file, loaded once
    per file version).

    ``multilabel``: ``None`` infers it (:func:`class_probabilities`: the Explainer's training loss, else the
    classifier's output). Default targets: the classes scored ≥ 0.5 when multi-label (at least the top one), else
    the ``top_k``; ``probabilities`` are the sigmoid (multi-label) or softmax outputs.
    """
    import torch

    if explainer is None:
        raise InputError("method='explainer' needs a trained Explainer: explainer=ExplainerNet or a saved file")
    if isinstance(explainer, (str, os.PathLike)):
        explainer = cached_explainer(explainer)
    if not isinstance(explainer, torch.nn.Module):
        raise InputError(f"explainer= must be a trained Explainer (a torch module) or a saved file, got {explainer!r}")
    t0 = perf_counter()
    dm = as_differentiable(req.model, "the Explainer", "logits", req.class_names)
    x = torch.from_numpy(to_chw(req.input, dm.shape)[None])
    explainer.eval()
    with torch.no_grad():
        seg = explainer(x)[0]
        raw = dm.logits(x)[0]
    trained = getattr(explainer, "meta", {}).get("multilabel")
    probs, ml, why = class_probabilities(raw, multilabel, trained)
    if seg.shape[0] != probs.shape[0]:
        raise InputError(f"the Explainer has {seg.shape[0]} class channels but the classifier {probs.shape[0]} classes")
    order = [int(i) for i in np.argsort(-probs, kind="stable")]
    default = ([i for i in order if probs[i] >= 0.5] or order[:1]) if ml else None
    tl = resolve_targets(probs, req.targets, req.top_k, dm.class_names, default=default)
    return build(
        "explainer",
        "image",
        display(to_numpy(x[0])),
        to_numpy(seg.sigmoid())[tl],
        tl,
        probs,
        dm.class_names,
        n_queries=1,
        timings={"total": perf_counter() - t0},
        params={"multilabel": ml, "multilabel_from": why, "explainer": type(explainer).__name__},
    )
