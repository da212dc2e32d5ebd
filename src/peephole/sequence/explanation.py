"""The result of PAMI on a signal or a tabular row: one importance per position (time step / feature)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from peephole.explanation import Explanation


@dataclass
class SequenceExplanation(Explanation):
    """``maps[i]`` holds one importance per position of ``input`` (axis 0) for class ``targets[i]``."""

    def overlay(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise TypeError("a sequence explanation has no image overlay; use .figure()")

    def figure(self, target: int | None = None) -> Any:
        """A matplotlib figure: the input (signal lines or feature bars) above the importance of each position."""
        import matplotlib.pyplot as plt

        m = self._map(target)
        x = np.asarray(self.input)
        pos = np.arange(len(m))
        fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(8, 4))
        if len(m) <= 40 and x.ndim == 1:
            top.bar(pos, x, color="grey")
        else:
            top.plot(pos, x.reshape(len(m), -1), lw=1)
        top.set_ylabel("input")
        bottom.fill_between(pos, m, step="mid", color="tab:red", alpha=0.6)
        t = self.targets[0] if target is None else target
        bottom.set_ylabel(f"importance\n{self.name(t)}")
        bottom.set_xlabel("position")
        names = self.params.get("part_names")
        if names and self.partition is not None:
            ticks = [int(p[0]) for p in getattr(self.partition, "parts", [])]
            bottom.set_xticks(ticks, names, rotation=45, ha="right")
        fig.tight_layout()
        return fig

    def _write_view(self, target: int, base: Path) -> Path:
        """The figure of ``target`` as a PNG."""
        import matplotlib.pyplot as plt

        fig = self.figure(target)
        fig.savefig(base.with_suffix(".png"), dpi=80)
        plt.close(fig)
        return base.with_suffix(".png")
