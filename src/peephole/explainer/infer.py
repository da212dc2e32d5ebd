"""Explainer inference: one forward pass gives every class's mask, returned as a :class:`peephole.Explanation`."""

from __future__ import annotations

from collections.abc import Sequence
from time import perf_counter
from typing import Any

import numpy as np
import torch

from peephole.errors import InputError
from peephole.explanation import Explanation
from peephole.methods.differentiable import as_differentiable, check_targets, display, to_chw


def explain_with(
    explainer: torch.nn.Module,
    classifier: Any,
    image: Any,
    targets: int | Sequence[int] | None = None,
    top_k: int = 1,
    multilabel: bool = True,
    class_names: Sequence[str] | None = None,
    output: str = "logits",
) -> Explanation:
    """Masks ``σ(Explainer(x)_k)`` of ``targets`` (default: classes the classifier scores ≥ 0.5 when
    ``multilabel``, at least its top one, else its ``top_k``); ``probabilities`` are the classifier's
    sigmoid (multi-label) or softmax outputs."""
    t0 = perf_counter()
    dm = as_differentiable(classifier, "the Explainer", output, class_names)
    x = torch.from_numpy(to_chw(image, dm.shape)[None])
    explainer.eval()
    with torch.no_grad():
        seg = explainer(x)[0]
        logits = dm.logits(x)[0]
    probs = (logits.sigmoid() if multilabel else logits.softmax(0)).numpy()
    if seg.shape[0] != probs.shape[0]:
        raise InputError(f"the Explainer has {seg.shape[0]} class channels but the classifier {probs.shape[0]} classes")
    if targets is None and top_k < 1:
        raise InputError(f"top_k must be >= 1, got {top_k}")
    order = [int(i) for i in np.argsort(-probs, kind="stable")]
    default = ([i for i in order if probs[i] >= 0.5] or order[:1]) if multilabel else order[:top_k]
    tl = check_targets(targets, probs.shape[0], default)
    return Explanation(
        maps=seg.sigmoid().numpy()[tl],
        targets=tl,
        probabilities=probs,
        scores=np.zeros((0, probs.shape[0]), np.float32),
        n_queries=1,
        input=display(x[0].numpy()),
        method="explainer",
        class_names=dm.class_names,
        timings={"total": perf_counter() - t0},
        params={"multilabel": multilabel, "explainer": type(explainer).__name__},
    )


def explainer_method(model: Any, image: Any, explainer: torch.nn.Module | str | None = None, **options: Any) -> Explanation:
    """``peephole.explain(classifier, image, method='explainer', explainer=NET_OR_PATH)``."""
    if explainer is None:
        raise InputError("method='explainer' needs a trained Explainer: explainer=ExplainerNet or a saved file")
    if isinstance(explainer, str):
        from peephole.explainer.network import load_explainer

        explainer = load_explainer(explainer)
    return explain_with(explainer, model, image, **options)
