"""The methods the harness compares, by name, each turning (image, target class) into one H×W map.

Black-box methods query the ONNX model; gradient methods use the torch export of the same network
(Score-CAM's masked queries go to the ONNX model). Settings are the methods' defaults unless the
harness is given others (``options``), and every setting used is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

import numpy as np

from peephole.errors import InputError
from peephole.metrics.reference import centre_gaussian_map, random_map

BLACK_BOX = ("pami-superpixels", "pami-superpixels-2", "pami-superpixels-grey", "pami-window", "rise", "occlusion", "lime")
GRADIENT = ("saliency", "guided-backprop", "smoothgrad", "integrated-gradients", "gradcam", "scorecam")
REFERENCE = ("random", "centre")
METHOD_NAMES = BLACK_BOX + GRADIENT + REFERENCE


@dataclass
class MapResult:
    map: np.ndarray
    n_queries: int
    seconds: float


@dataclass
class MapMaker:
    """Makes maps with the named methods; models are loaded on first use."""

    model_name: str = "efficientnet-lite0"
    options: dict[str, dict[str, Any]] = field(default_factory=dict)  #: method -> extra keyword arguments
    seed: int = 0
    _models: dict[str, Any] = field(default_factory=dict, repr=False)

    def model(self, backend: str) -> Any:
        if backend not in self._models:
            import peephole

            self._models[backend] = peephole.load_model(self.model_name, backend)
        return self._models[backend]

    def settings(self, method: str) -> dict[str, Any]:
        """The keyword arguments ``method`` is called with (for the report)."""
        base: dict[str, Any] = {
            "pami-superpixels": {"partition": "superpixels"},
            "pami-superpixels-2": {"partition": "superpixels", "second_run": True},
            "pami-superpixels-grey": {"partition": "superpixels", "masker": "grey"},
            "pami-window": {"partition": "window"},
        }.get(method, {})
        return {**base, **self.options.get(method, {})}

    def __call__(self, method: str, image: np.ndarray, target: int, index: int = 0) -> MapResult:
        return self.maps(method, image, [target], index)[0]

    def maps(self, method: str, image: np.ndarray, targets: list[int], index: int = 0) -> list[MapResult]:
        """One map per target; methods that explain several classes at once (PAMI, RISE, ...) query once.

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
        fn, backend, extra = self._resolve(method)
        e = fn(self.model(backend), image, targets=[int(t) for t in targets], **extra, **self.settings(method))
        if e.maps.shape[1:] != image.shape[:2]:
            raise InputError(f"{method} returned {e.maps.shape[1:]} maps for a {image.shape[:2]} image")
        n, sec = len(targets), perf_counter() - t0
        return [MapResult(m, int(round(e.n_queries / n)), sec / n) for m in e.maps]

    def _resolve(self, method: str) -> tuple[Callable[..., Any], str, dict[str, Any]]:
        if method.startswith("pami"):
            from peephole.methods.pami import pami

            return pami, "onnx", {"seed": self.seed}
        if method in ("rise", "lime"):
            from peephole.methods.lime import lime
            from peephole.methods.rise import rise

            return (rise if method == "rise" else lime), "onnx", {"seed": self.seed}
        if method == "occlusion":
            from peephole.methods.occlusion import occlusion

            return occlusion, "onnx", {}
        from peephole.methods.gradients import gradient_explanation

        extra: dict[str, Any] = {"seed": self.seed}
        if method == "scorecam":
            extra["black_box"] = self.model("onnx")
        return (lambda model, image, **kw: gradient_explanation(method, model, image, **kw)), "torch", extra
