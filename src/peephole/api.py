"""The one-call facade: ``peephole.explain(model, image, method=...)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from peephole.errors import InputError
from peephole.explanation import Explanation
from peephole.methods import gradients, lime, occlusion, rise
from peephole.methods.explainer import explainer
from peephole.methods.fill_in_blanks import progressive_fill
from peephole.methods.input_agnostic import input_agnostic
from peephole.methods.pami import pami
from peephole.methods.pami_caption import pami_caption
from peephole.methods.pami_sequence import pami_sequence
from peephole.methods.pami_text import pami_text
from peephole.text.models import is_text_model

#: Methods by name; each takes ``(model, input, **options)`` and returns an :class:`Explanation`.
METHODS: dict[str, Callable[..., Explanation]] = {
    "pami": pami,
    "rise": rise.rise,
    "occlusion": occlusion.occlusion,
    "lime": lime.lime,
    **gradients.METHODS,
}
METHODS.update({"pami-text": pami_text, "pami-sequence": pami_sequence, "pami-caption": pami_caption})
METHODS.update({"input-agnostic": input_agnostic, "fill-in-the-blanks": progressive_fill, "explainer": explainer})


def explain(model: Any, image: Any, method: str = "pami", **options: Any) -> Explanation:
    """Explain ``model``'s prediction on ``image`` (array or path) with ``method``.

    ``model`` is a :class:`peephole.models.Model`, ``'efficientnet-lite0'``, a path to an ``.onnx``
    file, a torch module or a callable (declare ``output='probs'|'logits'|'scores'`` for the last
    two). See :func:`peephole.methods.pami.pami` for PAMI's options. With ``method='pami'`` and a
    text classifier (``'vader'``, ``'minilm'``, a text adapter or pipeline), ``image`` is a text and
    :func:`peephole.methods.pami_text.pami_text` runs.
    """
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; available: {sorted(METHODS)}")
    if method == "pami" and is_text_model(model):
        method = "pami-text"
    return METHODS[method](model, image, **options)
