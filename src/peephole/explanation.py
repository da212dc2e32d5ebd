"""The result type of every Peephole explanation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from peephole.engine.partition import Partition
from peephole.engine.run import aggregate


@dataclass
class Explanation:
    """Importance maps of one input for one or more target classes.

    ``maps[i]`` is the map of class ``targets[i]`` (the second run's when one was made, else the
    first run's). ``scores`` holds the model output for every part of the first run, so
    :meth:`map_for` gives the map of any other class without another model query.
    """

    maps: np.ndarray  #: (n_targets, *shape) importance maps
    targets: list[int]  #: class index of each map
    probabilities: np.ndarray  #: (n_classes,) model output on the unperturbed input
    scores: np.ndarray  #: (n_parts, n_classes) model output on each perturbed input (first run)
    n_queries: int  #: model queries made in total (the unperturbed input included)
    input: Any  #: the explained input (H×W×3 float image, word list, ...)
    method: str = "pami"
    class_names: list[str] | None = None  #: names of all classes, when the model knows them
    first_run_maps: np.ndarray | None = None  #: (n_targets, *shape) maps of the first run
    second_run_maps: np.ndarray | None = None  #: (n_targets, *shape) maps of the second run, if made
    timings: dict[str, float] = field(default_factory=dict)  #: seconds per stage, "total" included
    partition: Partition | None = field(default=None, repr=False)  #: first-run partition
    params: dict[str, Any] = field(default_factory=dict)  #: the settings that made it

    def name(self, cls: int) -> str:
        return self.class_names[cls] if self.class_names else f"class {cls}"

    @property
    def prediction(self) -> int:
        """The class the model predicts for the unperturbed input."""
        return int(np.argmax(self.probabilities))

    def top_classes(self, k: int = 5) -> list[tuple[int, str, float]]:
        """``(index, name, probability)`` of the k highest-scoring classes on the unperturbed input."""
        idx = np.argsort(-self.probabilities, kind="stable")[:k]
        return [(int(i), self.name(int(i)), float(self.probabilities[i])) for i in idx]

    def map_for(self, cls: int) -> np.ndarray:
        """The first-run map of any class, aggregated from stored scores (no model query)."""
        if cls in self.targets and self.second_run_maps is None:
            return self.maps[self.targets.index(cls)]
        if self.partition is None:
            raise ValueError("this explanation keeps no partition; only maps of its targets are available")
        if not 0 <= cls < self.scores.shape[1]:
            raise IndexError(f"class {cls} out of range for {self.scores.shape[1]} classes")
        return aggregate(self.partition, self.scores[:, [cls]])[0]

    def overlay(self, target: int | None = None, alpha: float = 0.5, cmap: str = "jet") -> np.ndarray:
        """H×W×3 uint8 overlay of the map of ``target`` (default: the first target) on the image."""
        from peephole.image.overlay import overlay

        return overlay(self.input, self._map(target), alpha, cmap)

    def figure(self, alpha: float = 0.5, cmap: str = "jet") -> Any:
        """A matplotlib figure with the image and one overlay per target."""
        from peephole.image.overlay import figure

        titles = [f"{self.name(t)} ({self.probabilities[t]:.2f})" for t in self.targets]
        return figure(self.input, list(self.maps), titles, alpha, cmap)

    def save(self, out_dir: str | Path, stem: str = "explanation") -> list[Path]:
        """Write, per target, a picture (:meth:`_write_view`) and the raw map (``.npy``); returns the paths."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for rank, t in enumerate(self.targets):
            base = out / f"{stem}_top{rank + 1}_{t}_{_slug(self.name(t))}"
            np.save(base.with_suffix(".npy"), self.maps[rank])
            paths += [self._write_view(t, base), base.with_suffix(".npy")]
        return paths

    def _write_view(self, target: int, base: Path) -> Path:
        """Write the picture of ``target``'s map next to ``base`` (here: the overlay PNG)."""
        from PIL import Image

        Image.fromarray(self.overlay(target)).save(base.with_suffix(".png"))
        return base.with_suffix(".png")

    def _map(self, target: int | None) -> np.ndarray:
        if target is None:
            return self.maps[0]
        if target not in self.targets:
            return self.map_for(target)
        return self.maps[self.targets.index(target)]


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", s).strip("-").lower()[:40] or "class"
