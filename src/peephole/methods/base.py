"""The template every perturbation method fills in: typed options, then parts -> masker -> maps -> Explanation.

A method is one subclass of :class:`PerturbationMethod`: its ``name``, its ``Options`` (a frozen dataclass of
typed options with defaults; ``__post_init__`` checks ranges with :func:`require`) and the hooks it changes:

* :meth:`~PerturbationMethod.parts`: what is queried, from the modality's partition (default: that partition);
* :meth:`~PerturbationMethod.masker`: what hides the features, from the modality's masker (default: that masker);
* :meth:`~PerturbationMethod.aggregator`: how outputs become maps (default: PAMI's Eq. 1);
* :meth:`~PerturbationMethod.maps`: the queries (default: one :func:`~peephole.core.run.run` over the parts).

Calling the method (``method(request, **options)``, what the registry's row names) checks the options, prepares the
request, builds the partition and the masker the modality names (its :meth:`~peephole.modalities.Modality.defaults`
for this method unless the caller chose; every value checked against its field's type, then the ``Options``'
range checks), runs the hooks and records the settings in ``params`` once. An option is
valid when the method's ``Options``, the chosen partition's or the chosen masker's has it; any other is one
:class:`InputError` naming it and the valid ones.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any, ClassVar

import numpy as np

from peephole.core.aggregate import Aggregator, Eq1Aggregator
from peephole.core.options import NoOptions, make, names, values
from peephole.core.partition import Partition
from peephole.core.perturb import Masker
from peephole.core.run import run
from peephole.errors import InputError
from peephole.pipeline import Context, Request, prepare
from peephole.result import Explanation

#: Options of ``peephole.explain`` itself, valid with every method.
COMMON = "targets, top_k, batch_size, seed, progress, output, class_names, modality"


def label(spec: Any, built: Any) -> Any:
    """What ``params`` call a partition or masker: its name or value as given, else the class of what was built."""
    return spec if isinstance(spec, (str, int, float)) else type(built).__name__


def warn_one_part(partition: Partition, name: Any, smaller_parts: str) -> None:
    """A warning when ``partition`` has one part per group on an input of several features: every feature is kept
    or hidden together, so the map is one value everywhere (``smaller_parts``: the modality's advice)."""
    if partition.n_parts == partition.n_groups and int(np.prod(partition.shape)) > 1:
        warnings.warn(
            f"the {name!r} partition has one part{' per segmentation' if partition.n_groups > 1 else ''} on this input "
            f"of shape {tuple(partition.shape)}: every feature gets the same value (a constant map); choose smaller "
            f"parts (e.g. {smaller_parts}) or a larger input",
            stacklevel=4,
        )


@dataclass(frozen=True)
class Settings:
    """One call's checked options: the method's own, and the chosen partition and masker with theirs."""

    options: Any  #: the method's ``Options``
    partition: Any  #: a name the modality knows or an object (None: the method makes its own parts)
    partition_options: Any  #: the named partition's options (empty for an object)
    masker: Any  #: a name, a value or a :class:`Masker`
    masker_options: Any  #: the named masker's options (empty otherwise)


@dataclass
class Outcome:
    """What a method's queries gave: maps, per-query outputs, timings, and what :meth:`Explanation.map_for` needs."""

    maps: np.ndarray
    scores: np.ndarray
    timings: dict[str, float]
    partition: Partition | None = None  #: saved with the result when the scores are one row per part
    aggregator: dict[str, Any] | None = None  #: ``RunResult.aggregator`` of that run
    first_run_maps: np.ndarray | None = None
    record: dict[str, Any] = field(default_factory=dict)  #: what the run found, added to ``params`` (e.g. an order)


class PerturbationMethod:
    """A black-box method: query the model on perturbed inputs, aggregate the outputs into maps."""

    name: ClassVar[str]
    Options: ClassVar[type] = NoOptions
    takes_partition: ClassVar[bool] = True  #: False: the method makes its own parts (:meth:`parts`)

    # --- options ---------------------------------------------------------------------------------------
    def settings(self, modality: Any, options: dict[str, Any]) -> Settings:
        """``options`` checked against the method and the partition and masker they choose (one error for all)."""
        usual = modality.defaults(self.name, options)  # may depend on the budget the options set
        chosen = {k: d if options.get(k) is None else options[k] for k, d in usual.items()}
        part = modality.partition_spec(chosen["partition"]) if self.takes_partition else None
        mask = modality.masker_spec(chosen["masker"])
        own = {"partition", "masker"} if self.takes_partition else {"masker"}
        groups = [self.Options, part.Options if part else NoOptions, mask.Options if mask else NoOptions]
        valid = own.union(*map(names, groups))
        bad = sorted(set(options) - valid)
        if bad:
            raise InputError(self.unknown(bad, valid, modality, chosen))
        made = [make(g, **{k: v for k, v in options.items() if k in names(g)}) for g in groups]
        return Settings(made[0], chosen["partition"] if self.takes_partition else None, made[1], chosen["masker"], made[2])

    def unknown(self, bad: list[str], valid: set[str], modality: Any, chosen: dict[str, Any]) -> str:
        """The message for options nobody takes, naming the partitions or maskers that would take them."""
        specs = [("masker", s) for s in modality.maskers.values()]
        if self.takes_partition:
            specs += [("partition", s) for s in modality.partitions.values()]
        owners = [f"{b!r} is an option of {kind} {s.name!r}" for b in bad for kind, s in specs if b in names(s.Options)]
        using = ", ".join(f"{k} {label(v, v)!r}" for k, v in chosen.items() if k != "partition" or self.takes_partition)
        return (
            f"unknown option {', '.join(map(repr, bad))} for method {self.name!r} with {using} on {modality.name} inputs"
            f"{' (' + '; '.join(owners) + ')' if owners else ''}; valid options: {', '.join(sorted(valid))} (and {COMMON})"
        )

    def option_defaults(self, modality: Any) -> dict[str, Any]:
        """Every option valid with some partition and masker of ``modality``, with its default (the CLI's flags)."""
        specs = [*(modality.partitions.values() if self.takes_partition else ()), *modality.maskers.values()]
        out: dict[str, Any] = {"partition": None, "masker": None} if self.takes_partition else {"masker": None}
        for options in (self.Options, *(s.Options for s in specs)):
            out.update({k: v for k, v in values(options()).items() if k not in out})
        return out

    # --- hooks -----------------------------------------------------------------------------------------
    def parts(self, ctx: Context, s: Settings, partition: Partition | None) -> Partition:
        """What is queried, from the modality's ``partition`` (None when :attr:`takes_partition` is False)."""
        if partition is None:
            raise NotImplementedError(f"{type(self).__name__} takes no partition: it must make its parts")
        return partition

    def masker(self, ctx: Context, s: Settings, masker: Masker) -> Masker:
        """What hides the features, from the modality's ``masker``."""
        return masker

    def aggregator(self, ctx: Context, s: Settings) -> tuple[type[Aggregator], dict[str, Any]]:
        """The aggregator class and its parameters (saved with the result)."""
        return Eq1Aggregator, {}

    def maps(self, ctx: Context, s: Settings, parts: Partition, masker: Masker) -> Outcome:
        """The queries and the maps: by default one run over every part."""
        cls, params = self.aggregator(ctx, s)
        args = (ctx.query, ctx.x, parts, masker, ctx.targets, ctx.batch_size, ctx.request.progress)
        res = run(*args, cls, params, ctx.reference, desc=self.name)
        return Outcome(res.maps, res.scores, res.timings, parts, res.aggregator)

    # --- the template ------------------------------------------------------------------------------------
    def __call__(self, req: Request, **options: Any) -> Explanation:
        t0 = perf_counter()
        s = self.settings(req.modality, options)
        ctx = prepare(req)
        mod = ctx.modality
        t = perf_counter()
        sized = mod.partition_options(ctx.x, s.partition, s.partition_options) if self.takes_partition else None
        inner = mod.partition(ctx.x, s.partition, req.seed, sized) if self.takes_partition else None
        if inner is not None:
            warn_one_part(inner, label(s.partition, inner), mod.smaller_parts)
        parts = self.parts(ctx, s, inner)
        t_segment = perf_counter() - t
        given = mod.masker(s.masker, s.masker_options)
        out = self.maps(ctx, s, parts, self.masker(ctx, s, given))
        params: dict[str, Any] = values(s.options)
        if self.takes_partition:
            params.update(partition=label(s.partition, inner), **values(sized))
        params.update(masker=label(s.masker, given), **values(s.masker_options))
        params.update(n_parts=(parts if inner is None else inner).n_parts, batch_size=ctx.batch_size, seed=req.seed, **out.record)
        return ctx.explanation(
            self.name,
            out.maps,
            out.scores,
            partition=out.partition,
            aggregator=out.aggregator,
            first_run_maps=out.first_run_maps,
            timings={"segment": t_segment, **out.timings, "total": perf_counter() - t0},
            params=params,
        )
