"""Views of a signal or tabular explanation: the input above the importance of each position."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


class SequenceView:
    """``maps[i]`` holds one importance per position of ``input`` (axis 0) for class ``targets[i]``."""

    def __init__(self, explanation: Any) -> None:
        self._e = explanation

    def figure(self, target: int | None = None) -> Any:
        """A matplotlib figure: the input (signal lines or feature bars) above the importance of each position."""
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        e = self._e
        m = e.map_of(target)
        x = np.asarray(e.input)
        pos = np.arange(len(m))
        fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(8, 4))
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

    def write(self, target: int, base: Path) -> Path:
        """The figure of ``target`` as ``base.png``."""
        import matplotlib.pyplot as plt

        fig = self.figure(target)
        fig.savefig(base.with_suffix(".png"), dpi=80)
        plt.close(fig)
        return base.with_suffix(".png")
