"""Views of a signal or tabular explanation: the input above the importance of each position."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


class SequenceView:
    """``maps[i]`` holds one importance per position of ``input`` (axis 0) for class ``targets[i]``."""

    def __init__(self, explanation: Any) -> None:
        self._e = explanation

    def figure(self, target: int | None = None, fig: Any = None) -> Any:
        """A :class:`matplotlib.figure.Figure`: the input (signal lines or feature bars) above the importance of each
        position for ``target`` (default: the first target); no pyplot state, the backend untouched. ``fig``: a
        figure to draw in instead."""
        from matplotlib.figure import Figure

        e = self._e
        m = e.map_of(target)
        x = np.asarray(e.input)
        pos = np.arange(len(m))
        fig = Figure() if fig is None else fig
        fig.set_size_inches(8, 4)
        top, bottom = fig.subplots(2, 1, sharex=True)
        if len(m) <= 40 and x.ndim == 1:
            top.bar(pos, x, color="grey")
        else:
            top.plot(pos, x.reshape(len(m), -1), lw=1)
        top.set_ylabel("input")
        bottom.fill_between(pos, m, step="mid", color="tab:red", alpha=0.6)
        t = e.targets[0] if target is None else target
        bottom.set_ylabel(f"importance\n{e.name(t)}")
        bottom.set_xlabel("position")
        names = getattr(e.partition, "names", None)
        if names:
            bottom.set_xticks([int(p[0]) for p in e.partition.parts], names, rotation=45, ha="right")
        fig.tight_layout()
        return fig

    def show(self, target: int | None = None) -> None:
        """Show :meth:`figure` with pyplot (a window in a script or REPL, inline in a notebook)."""
        import matplotlib.pyplot as plt

        self.figure(target, fig=plt.figure())
        plt.show()

    def notebook(self) -> str:
        """The notebook's pictures of the maps: :meth:`figure` of each target (the first
        :data:`~peephole.modalities.display.FIGURE_MAPS`, the rest counted) as an inline PNG."""
        from peephole.modalities.display import img_tag, png, shown

        chosen, left = shown(self._e.targets)
        pictures = "".join(img_tag(png(self.figure(t), dpi=80), f"importance for class {t}") for t in chosen)
        n = len(chosen)
        return pictures + (f"<p>the first {n} of {n + left} targets' maps: figure(target) draws each</p>" if left else "")

    def write(self, target: int, base: Path) -> Path:
        """The figure of ``target`` as ``base.png``."""
        self.figure(target).savefig(base.with_suffix(".png"), dpi=80)
        return base.with_suffix(".png")
