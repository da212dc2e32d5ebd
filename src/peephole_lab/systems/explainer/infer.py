"""Explainer inference: one forward pass gives every class's mask (``peephole.explain(..., method='explainer')``)."""

from __future__ import annotations

import os
from time import perf_counter
from typing import Any

import numpy as np

from peephole.errors import InputError
from peephole.gradients.differentiable import as_differentiable, display, to_chw
from peephole.pipeline import Request, build, resolve_targets
from peephole.result import Explanation


def explainer(req: Request, explainer: Any = None, multilabel: bool = True) -> Explanation:
    """Masks ``σ(Explainer(x)_k)`` of the targets from a trained Explainer (a module or a saved file).

    Default targets: the classes the classifier scores ≥ 0.5 when ``multilabel`` (at least its top
    one), else its ``top_k``; ``probabilities`` are the classifier's sigmoid (multi-label) or softmax outputs.
    """
    import torch

    if explainer is None:
        raise InputError("method='explainer' needs a trained Explainer: explainer=ExplainerNet or a saved file")
    if isinstance(explainer, (str, os.PathLike)):
        from peephole_lab.systems.explainer.network import load_explainer

        explainer = load_explainer(explainer)
    t0 = perf_counter()
    dm = as_differentiable(req.model, "the Explainer", req.output or "logits", req.class_names)
    x = torch.from_numpy(to_chw(req.input, dm.shape)[None])
    explainer.eval()
    with torch.no_grad():
        seg = explainer(x)[0]
        logits = dm.logits(x)[0]
    probs = (logits.sigmoid() if multilabel else logits.softmax(0)).numpy()
    if seg.shape[0] != probs.shape[0]:
        raise InputError(f"the Explainer has {seg.shape[0]} class channels but the classifier {probs.shape[0]} classes")
    order = [int(i) for i in np.argsort(-probs, kind="stable")]
    default = ([i for i in order if probs[i] >= 0.5] or order[:1]) if multilabel else None
    tl = resolve_targets(probs, req.targets, req.top_k, dm.class_names, default=default)
    return build(
        "explainer",
        "image",
        display(x[0].numpy()),
        seg.sigmoid().numpy()[tl],
        tl,
        probs,
        dm.class_names,
        n_queries=1,
        timings={"total": perf_counter() - t0},
        params={"multilabel": multilabel, "explainer": type(explainer).__name__},
    )
