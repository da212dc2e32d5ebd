"""``peephole.explain(classifier, image, method='explainer', explainer=NET_OR_PATH)``: one forward pass of a
trained Explainer network (Stalder et al., NeurIPS 2022); see :mod:`peephole.explainer`. Imports torch lazily."""

from __future__ import annotations

from typing import Any

from peephole.explanation import Explanation


def explainer(model: Any, image: Any, explainer: Any = None, **options: Any) -> Explanation:
    """Masks of the classifier ``model``'s classes on ``image`` from a trained Explainer (a module or a saved file)."""
    from peephole.explainer.infer import explainer_method

    return explainer_method(model, image, explainer=explainer, **options)
