"""What a report and a terminal show of a sequence result: the plot of the input above a class's importance."""

from __future__ import annotations

from typing import Any

import numpy as np

from peephole.modalities.sequence.view import SequenceView
from peephole.terminal import printable

DPI = 60  #: a report card's plot: 480×240 pixels


def class_picture(explanation: Any, cls: int) -> np.ndarray:
    """The input above the importance of each position for ``cls``, as an RGB uint8 picture."""
    import matplotlib.pyplot as plt

    fig = SequenceView(explanation).figure(cls)
    try:
        fig.set_dpi(DPI)
        fig.canvas.draw()
        return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    finally:
        plt.close(fig)


def lines(explanation: Any, colour: bool) -> list[str]:
    """Per target, the five most important positions."""
    e, out = explanation, []
    for t in e.targets:
        m = np.asarray(e.map_of(t))
        top = np.argsort(-m, kind="stable")[:5]
        out.append(f"  {printable(e.name(t))}: top positions " + ", ".join(f"{int(i)} ({m[i]:.3f})" for i in top))
    return out
