"""The result of PAMI on a text: an :class:`~peephole.Explanation` whose input is the word list,
rendered as HTML or terminal text instead of image overlays."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from peephole.explanation import Explanation
from peephole.text.render import html_page, ranking, to_html, to_terminal


@dataclass
class TextExplanation(Explanation):
    """``maps[i]`` holds one importance per word of ``input`` for class ``targets[i]``."""

    def ranking(self, target: int | None = None, k: int | None = None) -> list[tuple[int, str, float]]:
        """``(index, word, score)`` from most to least important for ``target`` (default: the first target)."""
        return ranking(self.input, self._map(target), k)

    def html(self, target: int | None = None) -> str:
        """An HTML fragment with the words highlighted by importance."""
        t = self.targets[0] if target is None else target
        return to_html(self.input, self._map(t), title=f"{self.name(t)} ({self.probabilities[t]:.3f})")

    def terminal(self, target: int | None = None, colour: bool = True) -> str:
        """The words with ANSI colours by importance (``colour=False``: ``word[0.42]``)."""
        return to_terminal(self.input, self._map(target), colour=colour)

    def overlay(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise TypeError("a text explanation has no image overlay; use .html() or .terminal()")

    def figure(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("a text explanation has no image figure; use .html() or .terminal()")

    def _write_view(self, target: int, base: Path) -> Path:
        """The highlighted words of ``target`` as an HTML page."""
        base.with_suffix(".html").write_text(html_page([self.html(target)]), encoding="utf-8")
        return base.with_suffix(".html")
