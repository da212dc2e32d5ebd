"""What a report and a terminal show of a text result: highlighted words, coloured words, the top words."""

from __future__ import annotations

from typing import Any

import numpy as np

from peephole.modalities.text.render import ranking, to_html, to_terminal
from peephole.terminal import printable


def class_fragment(explanation: Any, cls: int, vrange: tuple[float, float] | None = None) -> str:
    """The words highlighted by their importance for ``cls`` (an HTML fragment, every word escaped); the
    highlight spans ``vrange`` (unset: the map's own range)."""
    lo, hi = vrange if vrange is not None else (None, None)
    return to_html(explanation.input, explanation.map_of(cls), vmin=lo, vmax=hi)


def ramp(n: int = 6) -> list[str]:
    """CSS colours of the highlight, low to high importance (a report's colour bar)."""
    return [f"rgba(220,40,40,{a:.2f})" for a in np.linspace(0, 1, n)]


def keeps_one(explanation: Any) -> bool:
    """Whether the maps hold keep-one outputs (PAMI's Eq. 1: a word's value is f of the text keeping it alone)."""
    from peephole.core.aggregate import Aggregator, Eq1Aggregator
    from peephole.core.state import resolve

    agg = explanation.aggregator
    return agg is not None and issubclass(resolve(agg["class"], Aggregator), Eq1Aggregator)


def hidden_reference(explanation: Any, score: Any) -> np.ndarray:
    """f(∅): the outputs ``score`` gives (the task's reference, e.g. class probabilities) for the text with every
    word hidden by the result's masker (one query). A keep-one word score minus this is what the word adds alone."""
    from peephole.modalities import get_modality

    e = explanation
    mod = get_modality("text")
    hidden = mod.masker(e.params.get("masker", mod.default_masker)).bind(e.input)(np.zeros((1, len(e.input)), bool))
    return np.asarray(score(hidden))


def lines(explanation: Any, colour: bool, score: Any = None) -> list[str]:
    """Per target: the words coloured by importance, then the three most important words. Keep-one scores
    (PAMI), given ``score`` (the model's output on a batch of one: :func:`peephole.pipeline.reference_scorer`), are
    shown as changes from the text with every word hidden (one more query), so a word that says nothing on its
    own sits at 0 instead of at the empty text's score."""
    e, out = explanation, []
    base = hidden_reference(e, score) if score is not None and keeps_one(e) else None
    for t in e.targets:
        if base is None:
            m = e.map_of(t)
            top = ", ".join(f"{printable(w)} {s:.3f}" for _, w, s in ranking(e.input, m, 3))
            head = "top words"
        else:
            m = e.map_of(t) - float(base[t])
            raising = [(w, s) for _, w, s in ranking(e.input, m, 3) if s > 1e-6]
            top = ", ".join(f"{printable(w)} {s:+.3f}" for w, s in raising) or "none raises it on its own"
            head = f"top words (change from no words, {float(base[t]):.3f})"
        out += [f"  {printable(e.name(t))}: {to_terminal(e.input, m, colour=colour)}", f"    {head}: {top}"]
    return out


#: the most characters of a text a terminal line names it by
TITLE_CHARS = 80


def title(source: Any) -> str:
    """How a terminal names a text: printable, its first :data:`TITLE_CHARS` characters and how many more."""
    text = printable(str(source))
    return text if len(text) <= TITLE_CHARS else f"{text[: TITLE_CHARS - 1]}… (+{len(text) - TITLE_CHARS + 1} characters)"
