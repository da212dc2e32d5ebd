"""Views of a text explanation: highlighted HTML, coloured terminal text, a word ranking."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from peephole.modalities.text.render import html_page, ranking, to_html, to_terminal


class TextView:
    """``maps[i]`` holds one importance per word of ``input`` for class ``targets[i]``."""

    def __init__(self, explanation: Any) -> None:
        self._e = explanation

    def ranking(self, target: int | None = None, k: int | None = None) -> list[tuple[int, str, float]]:
        """``(index, word, score)`` from most to least important for ``target`` (default: the first target)."""
        return ranking(self._e.input, self._e.map_of(target), k)

    def html(self, target: int | None = None) -> str:
        """An HTML fragment with the words highlighted by importance."""
        e = self._e
        t = e.targets[0] if target is None else target
        return to_html(e.input, e.map_of(t), title=f"{e.name(t)} ({e.probabilities[t]:.3f})")

    def terminal(self, target: int | None = None, colour: bool = True) -> str:
        """The words with ANSI colours by importance (``colour=False``: ``word[0.42]``)."""
        return to_terminal(self._e.input, self._e.map_of(target), colour=colour)

    def write(self, target: int, base: Path) -> Path:
        """The highlighted words of ``target`` as ``base.html``."""
        base.with_suffix(".html").write_text(html_page([self.html(target)]), encoding="utf-8")
        return base.with_suffix(".html")

    def show(self, target: int | None = None) -> None:
        """Print the words coloured by importance (for a script or a REPL; a notebook shows the HTML)."""
        print(self.terminal(target))

    def notebook(self) -> str:
        """The notebook's picture of the maps: the highlighted words of every target."""
        return "".join(self.html(t) for t in self._e.targets)
