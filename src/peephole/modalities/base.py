"""The modality contract: what an input kind must say so that every method runs on it unchanged.

A modality loads and validates its inputs, wraps models for them, names its partitions and maskers
(each a :class:`PartitionSpec` / :class:`MaskerSpec` with its own typed options), says which partition
and masker each method uses by default (:meth:`Modality.defaults`), and offers views of a result.
Methods never test the input kind: they ask the modality.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from numbers import Integral
from typing import Any, ClassVar

from peephole.core.options import NoOptions, names
from peephole.core.partition import Partition
from peephole.core.perturb import Masker
from peephole.errors import InputError


@dataclass(frozen=True)
class PartitionSpec:
    """A named partition: ``factory(x, options, seed)`` builds it; ``Options``: its frozen dataclass of options."""

    name: str
    factory: Callable[[Any, Any, int], Partition]
    Options: type = NoOptions
    help: str = ""
    #: ``sized(x, options)``: the options with the defaults that depend on the input filled in (window sizes)
    sized: Callable[[Any, Any], Any] | None = None


@dataclass(frozen=True)
class BudgetDefault:
    """A method's defaults at small budgets: when the caller sets ``option`` (its query budget) to at most
    ``at_most``, ``defaults`` replace the method's usual ones (e.g. PAMI path's partition), unless the caller chose
    them or gave an option only the usual partition takes. The method's own default ``option`` lies above ``at_most``."""

    option: str
    at_most: int
    defaults: Mapping[str, Any]


@dataclass(frozen=True)
class MaskerSpec:
    """A named masker: ``factory(options)`` builds it; ``Options``: its frozen dataclass of options."""

    name: str
    factory: Callable[[Any], Masker]
    Options: type = NoOptions
    help: str = ""


class Modality(ABC):
    """One input kind: images, texts, sequences, ..."""

    name: ClassVar[str]
    partitions: ClassVar[dict[str, PartitionSpec]]  #: the named partitions, with their options
    maskers: ClassVar[dict[str, MaskerSpec]]  #: the named maskers, with their options
    default_partition: ClassVar[str]  #: what PAMI keeps one of, unless a method or the user says otherwise
    default_masker: ClassVar[Any]  #: what hidden features become
    method_defaults: ClassVar[dict[str, dict[str, Any]]] = {}  #: method name -> the partition / masker it uses here
    budget_defaults: ClassVar[dict[str, BudgetDefault]] = {}  #: method name -> its defaults here at small budgets
    #: what to choose when a partition has one part on an input (the one-part warning's advice)
    smaller_parts: ClassVar[str] = "a partition of smaller parts"

    @abstractmethod
    def load(self, x: Any, allow_large: bool = False) -> Any:
        """The input as the engine needs it (validated, converted), or an :class:`InputError`. An input above
        the modality's maximum work size is reduced to it (with a warning) unless ``allow_large``."""

    @abstractmethod
    def batch_of_one(self, x: Any) -> Any:
        """A model batch holding only the unperturbed ``x``."""

    def split(self, x: Any) -> list[Any] | None:
        """The inputs of ``x`` when it is a batch of several (``peephole.explain`` then explains each), None when it
        is one input. Only where the modality can tell the two apart without a guess (images: a list, or an array
        with a batch axis)."""
        return None

    def as_model(self, model: Any, output: str | None, class_names: Any) -> Any:
        """``model`` wrapped as a :class:`peephole.models.Model` for this input kind."""
        from peephole.models.base import as_model

        return as_model(model, output=output, class_names=class_names)

    def default_batch_size(self, x: Any) -> int:
        return 64

    def defaults(self, method: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``{"partition": ..., "masker": ...}``: what ``method`` uses on this input kind unless told otherwise;
        ``options``: the caller's options (None values: not given), which a :class:`BudgetDefault` of the method reads."""
        usual = {"partition": self.default_partition, "masker": self.default_masker, **self.method_defaults.get(method, {})}
        rule, options = self.budget_defaults.get(method), options or {}
        budget = options.get(rule.option) if rule else None
        if rule is None or not isinstance(budget, Integral) or isinstance(budget, bool) or budget > rule.at_most:
            return usual
        given = {k for k, v in options.items() if v is not None}
        only_usual = self.partition_option_names(usual["partition"]) - self.partition_option_names(rule.defaults.get("partition"))
        return usual if given & only_usual else {**usual, **rule.defaults}

    def partition_option_names(self, spec: Any) -> set[str]:
        """The options of the named partition ``spec`` (none for an object or an unknown name)."""
        return names(self.partitions[spec].Options) if isinstance(spec, str) and spec in self.partitions else set()

    def partition_spec(self, spec: Any) -> PartitionSpec | None:
        """The named partition ``spec`` (None for a partition given as an object); an unknown name is an error."""
        if not isinstance(spec, str):
            return None
        if spec not in self.partitions:
            raise InputError(
                f"unknown partition strategy {spec!r} for {self.name} inputs; use one of {sorted(self.partitions)} "
                "or a partition object"
            )
        return self.partitions[spec]

    def masker_spec(self, spec: Any) -> MaskerSpec | None:
        """The named masker ``spec`` (None for a masker given as an object or a value)."""
        return self.maskers.get(spec) if isinstance(spec, str) else None

    def partition(self, x: Any, spec: Any, seed: int = 0, options: Any = None) -> Partition:
        """A partition of ``x``: by name (with that partition's ``options``, default its defaults), or given as an object."""
        named = self.partition_spec(spec)
        if named is None:
            return self.partition_of(x, spec, seed)
        return named.factory(x, self.partition_options(x, spec, options), seed)

    def partition_options(self, x: Any, spec: Any, options: Any = None) -> Any:
        """The named partition ``spec``'s ``options`` (default its defaults) with those that depend on ``x`` filled
        in: what the partition of ``x`` is made with and a result records. ``options`` as given for an object."""
        named = self.partition_spec(spec)
        if named is None:
            return options
        options = named.Options() if options is None else options
        return options if named.sized is None else named.sized(x, options)

    @abstractmethod
    def partition_of(self, x: Any, spec: Any, seed: int = 0) -> Partition:
        """A partition given as an object (a :class:`Partition`, label maps, index groups, ...), checked against ``x``."""

    def masker(self, spec: Any, options: Any = None) -> Masker:
        """A masker by name (with that masker's ``options``), or a :class:`Masker` as given, or by value."""
        if isinstance(spec, Masker):
            return spec
        named = self.masker_spec(spec)
        if named is None:
            return self.masker_of(spec)
        return named.factory(named.Options() if options is None else options)

    def masker_of(self, spec: Any) -> Masker:
        """A masker given by value rather than by name (a token, a number, per-feature values)."""
        raise InputError(f"unknown masker {spec!r}; use one of {sorted(self.maskers)} or a Masker")

    def refine(self, x: Any, importance: Any, seed: int = 0, options: Any = None) -> Partition:
        """PAMI's second run: a partition of ``x`` guided by a first-run map (where the modality has one);
        ``options``: the first run's partition options."""
        raise InputError(f"PAMI's second run is defined for images only, not for {self.name} inputs")

    @abstractmethod
    def view(self, explanation: Any) -> Any:
        """The views of a result of this modality (pictures, HTML, ...); each has ``write(target, base)``."""

    # --- what the layers above the methods ask: datasets and runs, reports, metrics, the command line ---------

    #: The model explained when none is named (the command line's default), or None when there is none.
    default_model: ClassVar[str | None] = None
    #: Whether items are brought to a work size when read (``load_item(size=, crop=)``); only then do runs and
    #: the command line pass a size.
    resizes: ClassVar[bool] = False

    def read_items(self, source: Any, column: str | None = None, labels: str | None = None, asked: bool = False) -> list[Any]:
        """The items (:class:`peephole.modalities.items.Item`, with stable ids) of the dataset folder or file
        ``source`` (a :class:`~pathlib.Path`): ``column`` names where the inputs are, ``labels`` the true labels.
        A :class:`~peephole.modalities.items.NotThisKind` when ``source`` holds no inputs of this kind (another
        modality may read it); ``asked``: this modality was named, so read what is readable rather than only
        what is unmistakably of this kind."""
        from peephole.modalities.items import NotThisKind

        raise NotThisKind(f"{self.name} datasets are not read from files")

    def holds(self, x: Any) -> bool:
        """Whether the Python value ``x`` looks like one input of this kind (how a list of inputs is told apart)."""
        return False

    def load_item(self, source: Any, **work: Any) -> Any:
        """One dataset item's input from its ``source`` (a path, a text, an array), ready for :meth:`load`.
        ``work``: ``size=`` / ``crop=`` / ``allow_large=``, given only where :attr:`resizes`."""
        return source

    def named_model(self, name: str, **settings: Any) -> Any:
        """The model called ``name`` (a built-in name or a file), loaded with ``settings`` (image: ``backend``,
        ``output``, ``layout``, ``normalise``); :meth:`as_model` wraps what this returns (and is given ``output``)."""
        settings.pop("output", None)
        if settings:
            raise InputError(f"{', '.join(sorted(settings))}: not settings of {self.name} models")
        return name

    def report_input(self, explanation: Any) -> Any:
        """What a report shows of the input itself: an RGB uint8 picture, an HTML fragment, or None (the
        per-class views show it)."""
        return None

    def report_view(self, explanation: Any, cls: int, vrange: tuple[float, float] | None = None) -> Any:
        """What a report shows for class ``cls``: an RGB uint8 picture (H×W×3), or an HTML fragment whose
        user-supplied parts the modality has escaped. ``vrange``: the (low, high) importance its colours span
        (a report shares one across an item's classes); unset, the map's own range."""
        raise InputError(f"a report has no view of {self.name} results")

    def report_ramp(self) -> list[str] | None:
        """The CSS colours of a report view's colour scale, low to high importance (a report's colour bar), or
        None where a view shows importance on an axis of its own."""
        return None

    def input_title(self, source: Any) -> str:
        """How a terminal names an input (safe to print: no control characters of the input's own)."""
        return str(source)

    def detail_lines(self, explanation: Any, colour: bool = False, score: Any = None) -> list[str]:
        """Lines a terminal shows of a result below its top classes (text: the coloured words, top words).
        ``score``: the explained model's output on a batch of one (:func:`peephole.pipeline.reference_scorer`), for
        lines that need one more query."""
        return []

    def map_shape(self, x: Any) -> tuple[int, ...]:
        """The shape of an importance map of the loaded input ``x`` (one value per feature the curves order)."""
        raise InputError(f"importance maps of {self.name} inputs have no known shape")

    def curve_masker(self, mode: str) -> Masker:
        """What the insertion (``mode='insertion'``: the start) or deletion (the end) curve shows in place of
        the features not yet inserted / already deleted; an :class:`InputError` where the modality has no curves."""
        raise InputError(f"insertion / deletion curves are not defined for {self.name} inputs")
