"""The methods the harness compares, by name, each turning (image, target class) into one H×W map.

A harness name is a registered method (:data:`peephole.registry.METHODS`) or a named variant of one
(:data:`VARIANTS`: rules as data). Perturbation methods query the ONNX model; gradient methods use
the torch export of the same network (Score-CAM's masked queries go to the ONNX model). Settings
are the methods' defaults unless the harness is given others (``options``); every setting is reported.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

import numpy as np

from peephole.api import explain
from peephole.errors import InputError
from peephole.evaluation.bare import BareTwin
from peephole.metrics.reference import centre_gaussian_map, random_map
from peephole.modalities.image.superpixels import Segmentation
from peephole.registry import METHODS

#: The two SLIC segmentations of experiments/path_segs and the test cards' seg2 rows ('slics' at its 2026-12-06 defaults)
SEG2 = tuple(Segmentation("slic", {"n_segments": n, "compactness": 20}) for n in (40, 60))
#: Harness names that are a registered method with settings: name -> (method, options).
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "pami-superpixels": ("pami", {"partition": "superpixels"}),
    "pami-superpixels-2": ("pami", {"partition": "superpixels", "second_run": True}),
    "pami-superpixels-grey": ("pami", {"partition": "superpixels", "masker": "grey"}),
    "pami-window": ("pami", {"partition": "window"}),
    # under 1/4 of Strategy II's 458 queries per image on the test split
    "pami-adaptive": ("pami", {"partition": "superpixels", "max_queries": 114}),
    # LIME over PAMI's 20 segmentations (Table 3): 25 coalitions per segmentation, density painting
    # (chosen on the dev split: experiments/coalitions_dev.py, docs/results.md)
    "lime-pami": ("lime", {"partition": "superpixels", "n_samples": 500, "density": True}),
    # the query-based baselines at the default explainer's budget (500 queries per image)
    "lime-500": ("lime", {"n_samples": 500}),
    "kernel-shap-500": ("kernel-shap", {"n_samples": 500}),
    "rise-500": ("rise", {"n_masks": 500}),
    # RISE with its outputs centred: no mask-coverage term in the map (docs/results.md, "Randomisation checks")
    "rise-centred": ("rise", {"centre": True}),
    # PAMI path whose search is scored under two fills (experiments/path_fills/PLAN.md: confirmed on dev photos 15-26),
    # over one SLIC-50 segmentation as in its card rows (made before 2026-12-06), and over the default's two
    # segmentations (experiments/path_seg2_fills/PLAN.md)
    "pami-path-fills": ("pami-path", {"partition": "slic", "search_fills": ["black"]}),
    "pami-path-seg2-fills": ("pami-path", {"search_fills": ["black"]}),
    # PAMI path over two SLIC segmentations, the budget shared, maps averaged (experiments/path_segs/PLAN.md: confirmed
    # on dev photos 15-26, then the default image method by that plan's rule on the test-split cards; the cards' rows
    # of 2026-12-06 carry this name) and the default before it, one SLIC-50 segmentation
    "pami-path-seg2": ("pami-path", {"partition": "superpixels", "segmentations": SEG2}),
    "pami-path-slic50": ("pami-path", {"partition": "slic"}),
    # HSIC and Sobol over LIME's SLIC-50 superpixels instead of their papers' 8x8 grid (issue 27's suggestion; on the
    # test cards they insert better and delete worse there), at their default budgets (500 designs; 32 x (parts + 1))
    "hsic-slic": ("hsic", {"partition": "slic"}),
    "sobol-slic": ("sobol", {"partition": "slic"}),
}
#: Methods that need no input: reference maps.
REFERENCE = ("random", "centre")
#: Every image method of the registry the harness can score (systems need their own set-up).
REGISTERED = tuple(n for n, s in METHODS.items() if "image" in s.modalities and s.family != "system" and n != "pami")
METHOD_NAMES = (*VARIANTS, *REGISTERED, *REFERENCE)


def check_installed(methods: list[str]) -> None:
    """One :class:`InputError` naming the first harness method whose extra is not installed (before any work)."""
    for m in methods:
        if m not in METHOD_NAMES:
            raise InputError(f"unknown method {m!r}; choose from {', '.join(METHOD_NAMES)}")
        if m in REFERENCE:
            continue
        missing = METHODS[VARIANTS.get(m, (m, {}))[0]].missing()
        if missing:
            extras = ",".join(sorted(set(missing)))
            raise InputError(
                f"method {m!r} needs the {extras} extra: pip install 'peephole[{extras}]', or leave it out of --methods"
            )


def code_version(method: str) -> str:
    """A hash of the source of registered ``method``'s module and of every ``peephole.methods`` module it uses, followed
    through their globals (``surrogate`` for LIME, KernelSHAP and PAMI path); not ``methods.base``, the template every
    method shares, nor ``core`` or the modalities' partitions and maskers. Editing the algorithm changes it, so a resumed
    card redoes that method's items."""
    import importlib
    import inspect

    start = METHODS[method].target.partition(":")[0]
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name in seen or not (name == start or name.startswith("peephole.methods.")) or name == "peephole.methods.base":
            continue
        seen.add(name)
        values = vars(importlib.import_module(name)).values()
        todo += [v.__name__ if inspect.ismodule(v) else getattr(v, "__module__", None) or "" for v in values]
    digest = hashlib.sha1()
    for name in sorted(seen):
        digest.update(inspect.getsource(importlib.import_module(name)).encode())
    return digest.hexdigest()[:12]


@dataclass
class MapResult:
    map: np.ndarray
    n_queries: int
    seconds: float  #: the method's wall time (without the bare twin's, when timed)
    bare_seconds: float | None = None  #: the same queries on their own (:class:`~peephole.evaluation.bare.BareTwin`)


@dataclass
class MapMaker:
    """Makes maps with the named methods; models are loaded on first use."""

    model_name: str = "efficientnet-lite0"
    options: dict[str, dict[str, Any]] = field(default_factory=dict)  #: method -> extra keyword arguments
    seed: int = 0
    bare: bool = False  #: also time each perturbation method's queries on their own (doubles its model time)
    _models: dict[str, Any] = field(default_factory=dict, repr=False)

    def model(self, backend: str) -> Any:
        if backend not in self._models:
            import peephole

            self._models[backend] = peephole.load_model(self.model_name, backend)
        return self._models[backend]

    def settings(self, method: str) -> dict[str, Any]:
        """The keyword arguments ``method`` is called with (for the report)."""
        return {**VARIANTS.get(method, (method, {}))[1], **self.options.get(method, {})}

    def __call__(self, method: str, image: np.ndarray, target: int, index: int = 0) -> MapResult:
        return self.maps(method, image, [target], index)[0]

    def params(self, method: str) -> dict[str, Any]:
        """What an item made by ``method`` records, and what a resumed run compares before reusing it: the partition
        and masker it uses (the image modality's defaults for it unless its settings name others, so a changed default
        redoes its items), its settings (values that JSON cannot hold as their ``repr``) and ``code``,
        :func:`code_version` of its method."""
        if method in REFERENCE:
            return {**self.settings(method), "code": ""}
        from peephole.modalities import get_modality

        name, image = VARIANTS.get(method, (method, {}))[0], get_modality("image")
        takes = METHODS[name].options(image)
        used = {k: v for k, v in image.defaults(name, self.settings(method)).items() if k in takes}
        settings = {**used, **self.settings(method)}
        return {k: v if isinstance(v, (int, float, str, bool)) or v is None else repr(v) for k, v in settings.items()} | {
            "code": code_version(name)
        }

    def takes_masker(self, method: str) -> bool:
        """Whether ``method`` hides pixels with a masker (and so is run on each substrate of a matrix)."""
        from peephole.modalities import get_modality

        return method not in REFERENCE and "masker" in METHODS[VARIANTS.get(method, (method, {}))[0]].options(
            get_modality("image")
        )

    def maps(
        self, method: str, image: np.ndarray, targets: list[int], index: int = 0, masker: str | None = None
    ) -> list[MapResult]:
        """One map per target; methods that explain several classes at once (PAMI, RISE, ...) query once.

        ``masker`` overrides the masker of methods that take one (a substrate of the benchmark's matrix).
        Queries and seconds are shared equally among the maps of one call.
        """
        if method not in METHOD_NAMES:
            raise InputError(f"unknown method {method!r}; choose from {', '.join(METHOD_NAMES)}")
        t0 = perf_counter()
        if method in REFERENCE:
            make = (
                (lambda: random_map(image.shape[:2], seed=self.seed + index))
                if method == "random"
                else (lambda: centre_gaussian_map(image.shape[:2]))
            )
            return [MapResult(make(), 0, 0.0) for _ in targets]
        name = VARIANTS.get(method, (method, {}))[0]
        gradient = METHODS[name].family == "gradient"
        extra: dict[str, Any] = {"black_box": self.model("onnx")} if name == "scorecam" else {}
        model = self.model("torch" if gradient else "onnx")
        twin = BareTwin(model, image) if self.bare and not gradient else None
        settings = {**self.settings(method), **({"masker": masker} if masker is not None and self.takes_masker(method) else {})}
        e = explain(twin or model, image, name, targets=[int(t) for t in targets], seed=self.seed, **extra, **settings)
        if e.maps.shape[1:] != image.shape[:2]:
            raise InputError(f"{method} returned {e.maps.shape[1:]} maps for a {image.shape[:2]} image")
        bare = None if twin is None else twin.bare_s / len(targets)
        n, sec = len(targets), perf_counter() - t0 - (twin.bare_s if twin else 0.0)
        return [MapResult(m, int(round(e.n_queries / n)), sec / n, bare) for m in e.maps]
