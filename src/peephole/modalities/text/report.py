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


def lines(explanation: Any, colour: bool) -> list[str]:
    """Per target: the words coloured by importance, then the three most important words."""
    e, out = explanation, []
    for t in e.targets:
        top = ", ".join(f"{printable(w)} {s:.3f}" for _, w, s in ranking(e.input, e.map_of(t), 3))
        out += [f"  {printable(e.name(t))}: {to_terminal(e.input, e.map_of(t), colour=colour)}", f"    top words: {top}"]
    return out


def title(source: Any) -> str:
    return printable(str(source))
