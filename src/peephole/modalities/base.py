"""The modality contract: what an input kind must say so that every method runs on it unchanged.

A modality loads and validates its inputs, wraps models for them, names its partitions and maskers
(with their options and defaults), and offers views of a result. Methods never test the input
kind: they ask the modality.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from peephole.core.partition import Partition
from peephole.core.perturb import Masker
from peephole.errors import InputError


class Modality(ABC):
    """One input kind: images, texts, sequences, ..."""

    name: ClassVar[str]
    default_partition: ClassVar[Any]  #: what PAMI keeps one of, unless a method or the user says otherwise
    default_masker: ClassVar[Any]  #: what hidden features become
    partition_options: ClassVar[dict[str, Any]]  #: options of the named partitions, with their defaults

    @abstractmethod
    def load(self, x: Any, allow_large: bool = False) -> Any:
        """The input as the engine needs it (validated, converted), or an :class:`InputError`. An input above
        the modality's maximum work size is reduced to it (with a warning) unless ``allow_large``."""

    @abstractmethod
    def batch_of_one(self, x: Any) -> Any:
        """A model batch holding only the unperturbed ``x``."""

    def as_model(self, model: Any, output: str | None, class_names: Any) -> Any:
        """``model`` wrapped as a :class:`peephole.models.Model` for this input kind."""
        from peephole.models.base import as_model

        return as_model(model, output=output, class_names=class_names)

    def default_batch_size(self, x: Any) -> int:
        return 64

    @abstractmethod
    def partition(self, x: Any, spec: Any, seed: int = 0, **options: Any) -> Partition:
        """A partition of ``x``: by name (with :attr:`partition_options`), or given by the user."""

    @abstractmethod
    def masker(self, spec: Any) -> Masker:
        """A masker by name or value, or a :class:`Masker` as given."""

    def refine(self, x: Any, importance: Any, seed: int = 0, **options: Any) -> Partition:
        """PAMI's second run: a partition of ``x`` guided by a first-run map (where the modality has one)."""
        raise InputError(f"PAMI's second run is defined for images only, not for {self.name} inputs")

    @abstractmethod
    def view(self, explanation: Any) -> Any:
        """The views of a result of this modality (pictures, HTML, ...); each has ``write(target, base)``."""

    def check_partition_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """``options`` completed with defaults; an unknown name is an :class:`InputError` naming the valid ones."""
        bad = sorted(set(options) - set(self.partition_options))
        if bad:
            raise InputError(f"unknown {self.name} partition option {bad[0]!r}; valid: {sorted(self.partition_options)}")
        return {**self.partition_options, **options}
