"""The result type of every Peephole method: pure data, views by modality, saved and loaded losslessly.

``Explanation.save(path)`` writes one ``.npz`` (arrays) holding a JSON metadata string; nothing is
pickled, and :func:`load` reads it back with ``allow_pickle=False``. The partition and the aggregator
a method used are saved as data too (their Peephole class and parameters), so a loaded result
still gives :meth:`Explanation.map_for` of any class.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from peephole.core.classes import class_named, classes_named
from peephole.errors import InputError

FORMAT = "peephole.explanation"
FORMAT_VERSION = 1


@dataclass(repr=False)
class Explanation:
    """Importance maps of one input for one or more target classes.

    ``maps[i]`` is the map of class ``targets[i]`` (the second run's when one was made). ``scores``
    holds the model's outputs (all classes) on every perturbed input the method queried, in query
    order — the unperturbed input excluded; methods that query no perturbed inputs keep none. With
    the ``partition`` and ``aggregator`` that made the maps, :meth:`map_for` gives any class's map
    without another model query. Views (overlays, HTML, figures) depend on the ``modality``; a notebook shows
    the result as a summary with its maps inline (``_repr_html_``), a REPL as one short line.
    """

    method: str
    modality: str  #: 'image', 'text', 'sequence'
    input: Any  #: the explained input (H×W×3 float image, word list, array; None when input-agnostic)
    maps: np.ndarray  #: (n_targets, *feature shape) float32 importance maps
    targets: list[int]  #: class index of each map
    probabilities: np.ndarray  #: (n_classes,) model output on the unperturbed input
    class_names: list[str] | None = None  #: names of all classes, when the model knows them
    n_queries: int = 0  #: model queries made in total (the unperturbed input included)
    scores: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))  #: (n perturbed queries, n_classes)
    partition: Any = field(default=None, repr=False)  #: the perturbations' partition, when it can be rebuilt
    aggregator: dict[str, Any] | None = None  #: {"class": import path, "params": {...}} of the map builder
    first_run_maps: np.ndarray | None = None  #: (n_targets, *shape) PAMI's first-run maps (second run made)
    timings: dict[str, float] = field(default_factory=dict)  #: seconds per stage, "total" included
    params: dict[str, Any] = field(default_factory=dict)  #: the settings that made it (JSON-safe)
    extras: dict[str, np.ndarray] = field(default_factory=dict)  #: method-specific arrays (e.g. ρ, fidelity)
    task: str = "classification"  #: what was explained about the model's output (:mod:`peephole.tasks`)

    # --- reading -----------------------------------------------------------------------------------
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

    def map_for(self, cls: int | str) -> np.ndarray:
        """The (first-run) map of any class, aggregated from the stored outputs: no model query.

        Raises :class:`~peephole.errors.InputError` for methods that keep no per-query outputs
        (gradient methods, systems) or whose queries depend on the target (``pami-path``): only their
        targets' maps exist.
        """
        cls = self.index(cls)
        if cls in self.targets and self.first_run_maps is None:
            return self.maps[self.targets.index(cls)]
        if self.partition is None or self.aggregator is None or len(self.scores) != self.partition.n_parts:
            raise InputError(
                f"method {self.method!r} cannot rebuild another class's map from stored outputs (it keeps none, "
                f"or its queries depend on the target); only the maps of its targets {self.targets} exist"
            )
        from peephole.core.aggregate import Aggregator
        from peephole.core.run import aggregate
        from peephole.core.state import resolve

        cls_ = resolve(self.aggregator["class"], Aggregator)
        return aggregate(self.partition, self.scores[:, [cls]], self.probabilities[[cls]], cls_, self.aggregator["params"])[0]

    def map_of(self, target: int | str | None = None) -> np.ndarray:
        """The map of ``target`` (an index or a class name; default: the first target); other classes via
        :meth:`map_for`."""
        if target is None:
            return self.maps[0]
        target = self.index(target)
        return self.maps[self.targets.index(target)] if target in self.targets else self.map_for(target)

    def index(self, cls: int | str) -> int:
        """The index of class ``cls`` (an index, or the name of one of ``class_names``); an :class:`InputError`
        otherwise, or for a name several classes share."""
        if isinstance(cls, str) and classes_named(cls, self.class_names):
            return class_named(cls, self.class_names)
        if isinstance(cls, (bool, np.bool_)) or not isinstance(cls, (int, np.integer)):
            raise InputError(f"a class is an index or one of the class names, got {cls!r}")
        if not 0 <= cls < len(self.probabilities):
            raise InputError(f"class {cls} out of range for {len(self.probabilities)} classes")
        return int(cls)

    # --- views ---------------------------------------------------------------------------------------
    @property
    def view(self) -> Any:
        """The modality's views of this result (image: ``overlay``/``figure``/``show``; text: ``html``/``terminal``)."""
        from peephole.modalities import get_modality

        return get_modality(self.modality).view(self)

    def __repr__(self) -> str:
        from peephole.modalities.display import text

        return text(self)

    def _repr_html_(self) -> str:
        """The notebook's view: method, queries, targets with names and probabilities, the maps inline."""
        from peephole.modalities.display import summary

        return summary(self)

    def _repr_png_(self) -> bytes | None:
        """The modality's figure as PNG bytes (None where it draws none: texts show as HTML)."""
        from peephole.modalities.display import figure_png

        return figure_png(self)

    def __getattr__(self, name: str) -> Any:
        # Views are reached as e.overlay(), e.html(), ... ; only what the modality offers exists.
        if name.startswith("_") or name in {f.name for f in fields(Explanation)}:
            raise AttributeError(name)
        view = self.view
        if hasattr(view, name):
            return getattr(view, name)
        offered = ", ".join(v for v in dir(view) if not v.startswith("_"))
        raise AttributeError(f"a {self.modality} explanation has no {name!r}; its views: {offered}")

    def write(self, out_dir: str | Path, stem: str = "explanation") -> list[Path]:
        """Per target a picture (the modality's view), plus the whole result as ``{stem}.npz``; returns the paths."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = [self.view.write(t, out / f"{stem}_top{r + 1}_{t}_{_slug(self.name(t))}") for r, t in enumerate(self.targets)]
        return [*paths, self.save(out / f"{stem}.npz")]

    # --- disk --------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write this result losslessly to ``path`` (``.npz``: arrays + JSON metadata, no pickle), whole or not at all:
        written beside it, then moved into place (a failed write leaves any older file whole)."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        part = p.with_name(f".{p.name}.{os.getpid()}.part")
        try:
            with open(part, "wb") as f:
                self.dump(f)
            os.replace(part, p)
        finally:
            part.unlink(missing_ok=True)
        return p

    def dump(self, f: Any) -> None:
        """Write this result's ``.npz`` to the open binary file ``f`` (a writer with its own temporary file, such as
        the run store, calls this instead of :meth:`save`)."""
        from peephole.core.state import class_path

        arrays: dict[str, np.ndarray] = {"maps": self.maps, "probabilities": self.probabilities, "scores": self.scores}
        meta: dict[str, Any] = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "method": self.method,
            "modality": self.modality,
            "targets": self.targets,
            "class_names": self.class_names,
            "n_queries": self.n_queries,
            "aggregator": self.aggregator,
            "timings": self.timings,
            "params": self.params,
            "extras": sorted(self.extras),
            "task": self.task,
        }
        if isinstance(self.input, np.ndarray):
            arrays["input"] = self.input
            meta["input"] = "array"
        elif self.input is None:
            meta["input"] = None
        else:
            meta["input"] = "words"
            meta["words"] = list(self.input)
        if self.first_run_maps is not None:
            arrays["first_run_maps"] = self.first_run_maps
        if self.partition is not None:
            params, parts = self.partition.state()
            meta["partition"] = {"class": class_path(self.partition), "params": params, "arrays": sorted(parts)}
            arrays.update({f"partition/{k}": v for k, v in parts.items()})
        arrays.update({f"extras/{k}": np.asarray(v) for k, v in self.extras.items()})
        np.savez_compressed(f, __meta__=np.array(json.dumps(meta)), **arrays)  # to a file: no .npz suffix appended


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", s).strip("-").lower()[:40] or "class"
