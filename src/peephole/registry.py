"""The one registry of methods, read by ``peephole.explain``, the CLI and the benchmark harness.

Rules as data: each row names the method, where its function lives (imported on first use, so
listing methods imports neither torch nor Captum), its family and the modalities it runs on.
Every method function takes a :class:`~peephole.pipeline.Request` and keyword options; a perturbation
method is a :class:`peephole.methods.base.PerturbationMethod`, whose typed options depend on the partition and
masker chosen (it answers ``option_defaults(modality)`` and ``settings(modality, options)``); any other method's
options are its function's keyword arguments.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from peephole.errors import InputError
from peephole.plugins import loaded

#: Families: ``perturbation`` methods query the model as a black box (any framework); ``gradient``
#: methods and ``system`` methods need a differentiable torch model.
FAMILIES = ("perturbation", "gradient", "system")
ALL = ("image", "text", "sequence")


@dataclass(frozen=True)
class MethodSpec:
    name: str
    target: str  #: 'module:function', or 'module:Class' of a method class (its instances are the callables)
    family: str
    modalities: tuple[str, ...]
    summary: str
    requires: tuple[str, ...] = ()  #: (import name, pip extra) pairs the method needs beyond the core install
    tasks: tuple[str, ...] | None = ("classification",)  #: the tasks it explains; None: any (it scores through the task)

    def check_task(self, task: str) -> None:
        """One :class:`InputError` when this method cannot explain ``task`` (a name in ``peephole.tasks.TASKS``)."""
        if self.tasks is not None and task not in self.tasks:
            raise InputError(f"method {self.name!r} explains {', '.join(self.tasks)} only, not the task {task!r}")

    def missing(self) -> list[str]:
        """The extras to install for this method: one per import that cannot be found (no import is run)."""
        import importlib.util

        return [extra for mod, extra in self.requires if importlib.util.find_spec(mod) is None]

    @property
    def function(self) -> Callable[..., Any]:
        module, _, attr = self.target.partition(":")
        found = getattr(importlib.import_module(module), attr)
        return found() if isinstance(found, type) else found

    def options(self, modality: Any) -> dict[str, Any]:
        """Every option the method may take on ``modality``, with its default (with some partition and masker)."""
        fn = self.function
        if hasattr(fn, "option_defaults"):
            return fn.option_defaults(modality)
        params = list(inspect.signature(fn).parameters.values())[1:]  # after the Request
        return {p.name: p.default for p in params if p.kind is p.POSITIONAL_OR_KEYWORD or p.kind is p.KEYWORD_ONLY}

    def check(self, options: dict[str, Any], modality: Any) -> None:
        """One :class:`InputError` naming the options the method does not take (with the partition and masker
        the options choose) and the valid ones."""
        if modality.name not in self.modalities:
            raise InputError(
                f"method {self.name!r} does not run on {modality.name} inputs; it runs on: {', '.join(self.modalities)}"
            )
        fn = self.function
        if hasattr(fn, "settings"):
            fn.settings(modality, options)
            return
        valid = self.options(modality)
        bad = sorted(set(options) - set(valid))
        if bad:
            raise InputError(
                f"unknown option {bad[0]!r} for method {self.name!r} on {modality.name} inputs; valid options: "
                f"{', '.join(sorted(valid))} (and targets, top_k, batch_size, seed, progress, output, class_names, modality)"
            )


#: Perturbation methods explain any task: they aggregate the task's scores (peephole.tasks).
ANY_TASK = None
TORCH = (("torch", "models"),)
CAPTUM = (("torch", "models"), ("captum", "gradients"))

BUILTIN: dict[str, MethodSpec] = {
    s.name: s
    for s in (
        MethodSpec(
            "pami", "peephole.methods.pami:Pami", "perturbation", ALL, "keep one part, mask the rest; Eq. 1", tasks=ANY_TASK
        ),
        MethodSpec(
            "pami-path", "peephole.methods.pami_path:PamiPath", "perturbation", ALL, "greedy keep-and-hide path", tasks=ANY_TASK
        ),
        MethodSpec(
            "occlusion", "peephole.methods.occlusion:Occlusion", "perturbation", ALL, "hide one part; mean drop", tasks=ANY_TASK
        ),
        MethodSpec(
            "rise", "peephole.methods.rise:Rise", "perturbation", ("image",), "random soft masks; RISE Eq. 6", tasks=ANY_TASK
        ),
        MethodSpec(
            "hsic",
            "peephole.methods.hsic:Hsic",
            "perturbation",
            ("image", "text"),
            "HSIC of parts (Novello et al.)",
            tasks=ANY_TASK,
        ),
        MethodSpec(
            "sobol", "peephole.methods.sobol:Sobol", "perturbation", ("image",), "total Sobol indices; Fel et al.", tasks=ANY_TASK
        ),
        MethodSpec("lime", "peephole.methods.lime:Lime", "perturbation", ALL, "ridge surrogate over parts", tasks=ANY_TASK),
        MethodSpec(
            "kernel-shap",
            "peephole.methods.kernel_shap:KernelShap",
            "perturbation",
            ALL,
            "Shapley values of parts",
            tasks=ANY_TASK,
        ),
        *(
            MethodSpec(n, f"peephole.gradients.captum:{n.replace('-', '_')}", "gradient", ("image",), s, CAPTUM)
            for n, s in (
                ("saliency", "|∂f/∂x| (Simonyan et al.)"),
                ("guided-backprop", "guided backpropagation (Springenberg et al.)"),
                ("smoothgrad", "saliency averaged over noisy copies (Smilkov et al.)"),
                ("integrated-gradients", "path integral from a black image (Sundararajan et al.)"),
                ("gradcam", "gradient-weighted class activation map (Selvaraju et al.)"),
            )
        ),
        MethodSpec(
            "scorecam", "peephole.gradients.scorecam:scorecam", "gradient", ("image",), "CAM weighted by masked scores", TORCH
        ),
    )
}


class MethodTable(Mapping[str, MethodSpec]):
    """The built-in rows plus every plug-in's (entry point ``peephole.methods``, e.g. ``peephole[lab]``'s
    systems), read on first use so that ``import peephole`` loads no plug-in code."""

    def __init__(self, builtin: dict[str, MethodSpec]) -> None:
        self._builtin = builtin
        self._rows: dict[str, MethodSpec] | None = None

    @property
    def rows(self) -> dict[str, MethodSpec]:
        if self._rows is None:
            rows = dict(self._builtin)
            for _, specs in loaded("peephole.methods"):
                rows.update((s.name, s) for s in specs if s.name not in self._builtin)
            self._rows = rows
        return self._rows

    def __getitem__(self, name: str) -> MethodSpec:
        return self.rows[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


#: Every method by name (``peephole.METHODS``): the built-in rows, then the plug-ins'.
METHODS = MethodTable(BUILTIN)

#: The method run when none is named, per input kind (rules as data). Images: PAMI path, ahead of every
#: other method in insertion with deletion as low as the best, on both substrates of the test split
#: (docs/results.md); texts and sequences: keep-one PAMI (PAMI path was not measured there).
DEFAULT_METHODS = {"image": "pami-path", "text": "pami", "sequence": "pami"}


def get_method(name: str) -> MethodSpec:
    if name not in METHODS:
        raise InputError(f"unknown method {name!r}; available: {', '.join(METHODS)}")
    return METHODS[name]
