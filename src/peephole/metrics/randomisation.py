"""Randomisation checks: a map should change when what it explains changes.

* Model-parameter randomisation (MPRT; Adebayo et al., "Sanity Checks for Saliency Maps", NeurIPS 2018): the layers
  of a COPY of a torch model are re-initialised one by one, cascading from the output down; after each, the map of
  the same class is compared with the original one by Spearman's ρ (:func:`~peephole.metrics.stability.rank_correlation`).
  A map that stays the same (ρ near 1) does not depend on what the model learned.
* Random logit (Sixt, Granz & Landgraf, "When Explanations Lie", ICML 2020): the map of a random other class
  against the map of the explained class (ρ near 1: the map ignores the class).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from peephole.errors import InputError
from peephole.metrics.stability import rank_correlation


def mprt(
    model: Any, explain: Callable[[Any], np.ndarray], seed: int = 0, layers: Sequence[str] | None = None
) -> list[tuple[str, float]]:
    """``[(layer, ρ)]``: ρ between ``explain(model)`` and ``explain(copy)`` after re-initialising the copy's layers
    with parameters from the output side down to that layer (``reset_parameters()``, seeded; torch's global
    generator is left as it was). ``layers``: the layers at which to compare (the cascade still re-initialises every
    layer above each; default: every layer, one explanation each). ``model`` itself is never changed."""
    import torch

    if not isinstance(model, torch.nn.Module):
        raise InputError(f"model-parameter randomisation needs a torch.nn.Module, got {type(model).__name__}")
    order = [n for n, m in model.named_modules() if any(True for _ in m.parameters(recurse=False))][::-1]
    if not order:
        raise InputError("the model has no layer with parameters to randomise")
    wanted = set(order if layers is None else layers)
    unknown = sorted(wanted - set(order))
    if unknown or not wanted:
        raise InputError(
            f"mprt layers must name layers with parameters of the model: {', '.join(unknown) or 'none given'} "
            f"(from the output: {', '.join(order[:4])}, ...)"
        )
    original = explain(model)
    net = copy.deepcopy(model)
    modules = dict(net.named_modules())
    out = []
    for i, name in enumerate(order):
        layer = modules[name]
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(seed + i)
            if hasattr(layer, "reset_parameters"):
                layer.reset_parameters()
            else:
                for p in layer.parameters(recurse=False):
                    p.normal_(0, 0.01)
        if name in wanted:
            out.append((name, rank_correlation(original, explain(net))))
            if len(out) == len(wanted):
                break
    return out


def random_logit(explain: Callable[[int], np.ndarray], target: int, n_classes: int, seed: int = 0) -> tuple[int, float]:
    """``(other, ρ)``: a seeded random class ``other ≠ target`` and ρ between ``explain(target)`` and
    ``explain(other)`` (e.g. ``explanation.map_of``, which rebuilds other classes' maps from stored outputs)."""
    if n_classes < 2 or not 0 <= target < n_classes:
        raise InputError(f"random logit needs a target among n_classes >= 2 classes, got {target} of {n_classes}")
    other = int(np.random.default_rng(seed).choice([k for k in range(n_classes) if k != target]))
    return other, rank_correlation(explain(target), explain(other))
