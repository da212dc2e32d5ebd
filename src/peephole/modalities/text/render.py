"""Rendering per-word importance: HTML with highlighted words, ANSI terminal colours, a ranking."""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

from peephole.errors import InputError
from peephole.terminal import printable


def scale(scores: Sequence[float], vmin: float | None = None, vmax: float | None = None) -> np.ndarray:
    """Scores mapped to [0, 1] (min-max over the words unless ``vmin``/``vmax`` are given); equal scores give 1."""
    s = np.asarray(scores, dtype=np.float64)
    lo = s.min() if vmin is None else vmin
    hi = s.max() if vmax is None else vmax
    if hi - lo <= 1e-12:
        return np.ones_like(s)
    return np.clip((s - lo) / (hi - lo), 0.0, 1.0)


def _check(ws: Sequence[str], scores: Sequence[float]) -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64)
    if s.shape != (len(ws),):
        raise InputError(f"{s.size} scores for {len(ws)} words")
    return s


def to_html(
    ws: Sequence[str],
    scores: Sequence[float],
    title: str | None = None,
    colour: tuple[int, int, int] = (220, 40, 40),
    vmin: float | None = None,
    vmax: float | None = None,
) -> str:
    """An HTML fragment: each word on a background whose opacity is its scaled importance (tooltip: the score)."""
    s = _check(ws, scores)
    r, g, b = colour
    spans = [
        f'<span style="background-color: rgba({r},{g},{b},{a:.3f}); padding: 0 2px; border-radius: 3px" '
        f'title="{v:.4f}">{html.escape(w)}</span>'
        for w, v, a in zip(ws, s, scale(s, vmin, vmax))
    ]
    head = f"<div><b>{html.escape(title)}</b></div>\n" if title else ""
    return f'<div class="peephole-text" style="line-height: 1.8; font-family: sans-serif">\n{head}{" ".join(spans)}\n</div>'


def html_page(fragments: Sequence[str], title: str = "Peephole text explanation") -> str:
    """A standalone HTML page holding ``fragments``."""
    body = "\n<hr>\n".join(fragments)
    head = f'<head><meta charset="utf-8"><title>{html.escape(title)}</title></head>'
    return f"<!DOCTYPE html>\n<html>{head}\n<body>\n{body}\n</body></html>\n"


#: xterm-256 background colours from weak to strong importance (white -> yellow -> orange -> red).
_ANSI_RAMP = (231, 230, 229, 228, 222, 216, 215, 209, 203, 196)


def to_terminal(
    ws: Sequence[str], scores: Sequence[float], colour: bool = True, vmin: float | None = None, vmax: float | None = None
) -> str:
    """The words with an ANSI 256-colour background by importance, or, without colour, ``word[0.42]``.

    Control characters and bidi overrides in the words are shown escaped (:func:`printable`), so the input
    cannot send escape sequences to the terminal."""
    s = _check(ws, scores)
    ws = [printable(w) for w in ws]
    if not colour:
        return " ".join(f"{w}[{v:.2f}]" for w, v in zip(ws, s))
    idx = np.minimum((scale(s, vmin, vmax) * len(_ANSI_RAMP)).astype(int), len(_ANSI_RAMP) - 1)
    return " ".join(f"\x1b[48;5;{_ANSI_RAMP[i]}m\x1b[38;5;16m{w}\x1b[0m" for w, i in zip(ws, idx))


def ranking(ws: Sequence[str], scores: Sequence[float], k: int | None = None) -> list[tuple[int, str, float]]:
    """``(index, word, score)`` from most to least important (ties keep word order)."""
    s = _check(ws, scores)
    order = np.argsort(-s, kind="stable")[:k]
    return [(int(i), ws[i], float(s[i])) for i in order]
