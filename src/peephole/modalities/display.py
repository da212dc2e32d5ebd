"""How a result shows in a notebook or a REPL: a short text, a summary in HTML with the maps inline, a PNG.

:class:`~peephole.Explanation` calls these lazily (``repr``, ``_repr_html_``, ``_repr_png_``); the maps themselves
come from the modality's view (``notebook()``: an HTML fragment; ``figure()``: a matplotlib figure). Figures are
drawn on matplotlib's object API (:class:`matplotlib.figure.Figure`), so nothing here touches pyplot's state or
its backend.
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import numpy as np

#: Targets a ``repr`` names before it says how many more there are.
REPR_TARGETS = 4
#: Maps a figure or notebook view draws unless told which (``figure(targets=...)``): a detector's 2,000 boxes made a
#: figure 113,000 pixels tall (50 s, about 900 MB of canvas); the first this many are drawn and the rest counted.
FIGURE_MAPS = 35


def shown(targets: Any, chosen: Any = None) -> tuple[list[int], int]:
    """The targets a figure draws (``chosen``, else the first :data:`FIGURE_MAPS`) and how many it leaves out."""
    if chosen is not None:
        return [int(t) for t in ([chosen] if isinstance(chosen, (int, np.integer)) else chosen)], 0
    targets = [int(t) for t in targets]
    return targets[:FIGURE_MAPS], max(0, len(targets) - FIGURE_MAPS)


def png(fig: Any, dpi: int = 100) -> bytes:
    """The PNG bytes of a matplotlib figure (its canvas is matplotlib's Agg; no pyplot involved)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def img_tag(data: bytes, alt: str = "importance maps") -> str:
    """An ``<img>`` holding the PNG ``data`` inline (a base64 data URL): the page needs no other file."""
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}">'


def _short(s: str, n: int = 30) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def text(e: Any) -> str:
    """A one-line ``repr``: method, input kind and shape, the targets with their probabilities, the queries."""
    if e.input is None:
        shape = "-"
    elif hasattr(e.input, "shape"):
        shape = "x".join(str(d) for d in e.input.shape)
    else:
        shape = f"{len(e.input)} items"
    named = [f"{t} {_short(e.name(t))!r} p={e.probabilities[t]:.3f}" for t in e.targets[:REPR_TARGETS]]
    more = len(e.targets) - REPR_TARGETS
    if more > 0:
        named.append(f"+{more} more")
    return (
        f"Explanation(method={e.method!r}, modality={e.modality!r}, input={shape}, targets=[{', '.join(named)}], "
        f"maps={'x'.join(str(d) for d in e.maps.shape)}, n_queries={e.n_queries})"
    )


def summary(e: Any) -> str:
    """The notebook view: method, task, queries and time, a table of the targets (class, name, probability,
    whether the model predicts it), then the modality's maps (``view.notebook()``). Every name is escaped."""
    esc = html.escape
    rows = "".join(
        f"<tr><td>{t}</td><td>{esc(e.name(t))}</td><td>{e.probabilities[t]:.3f}</td>"
        f"<td>{'predicted' if t == e.prediction else ''}</td></tr>"
        for t in e.targets
    )
    seconds = e.timings.get("total")
    took = f", {seconds:.1f} s" if seconds is not None else ""
    head = (
        f"<p><b>{esc(e.method)}</b> explanation ({esc(e.modality)} input, task: {esc(e.task)}): "
        f"{e.n_queries} model queries{took}</p>"
    )
    table = (
        '<table class="peephole-targets"><thead><tr><th>class</th><th>name</th><th>probability</th><th></th></tr>'
        f"</thead><tbody>{rows}</tbody></table>"
    )
    maps = e.view.notebook() if e.input is not None else "<p>(an input-agnostic result: no input to draw its maps on)</p>"
    return f'<div class="peephole-explanation">{head}{table}{maps}</div>'


def figure_png(e: Any) -> bytes | None:
    """The PNG of the modality's figure, or None where the modality draws none (texts show as HTML; a result
    without an input)."""
    view = e.view
    return png(view.figure()) if hasattr(view, "figure") and e.input is not None else None
