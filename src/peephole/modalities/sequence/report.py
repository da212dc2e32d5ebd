"""What a report and a terminal show of a sequence result: the plot of the input above a class's importance."""

from __future__ import annotations

from typing import Any

import numpy as np

from peephole.modalities.sequence.view import SequenceView
from peephole.terminal import printable

DPI = 60  #: a report card's plot: 480×240 pixels


def class_picture(explanation: Any, cls: int, vrange: tuple[float, float] | None = None) -> np.ndarray:
    """The input above the importance of each position for ``cls``, as an RGB uint8 picture; the importance
    axis spans ``vrange`` (unset: matplotlib's choice)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = SequenceView(explanation).figure(cls)
    if vrange is not None and vrange[1] > vrange[0]:
        fig.axes[1].set_ylim(min(vrange[0], 0.0), vrange[1])
    fig.set_dpi(DPI)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def lines(explanation: Any, colour: bool) -> list[str]:
    """Per target, the five most important positions."""
    e, out = explanation, []
    for t in e.targets:
        m = np.asarray(e.map_of(t))
        top = np.argsort(-m, kind="stable")[:5]
        out.append(f"  {printable(e.name(t))}: top positions " + ", ".join(f"{int(i)} ({m[i]:.3f})" for i in top))
    return out
