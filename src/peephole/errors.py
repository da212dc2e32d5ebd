"""Errors raised by Peephole: one clear message naming the problem."""

from __future__ import annotations


class PeepholeError(Exception):
    """Base class of every error Peephole raises on purpose."""


class InputError(PeepholeError, ValueError):
    """The input (file, array, text, target index, parameter) cannot be explained as given."""


class NothingToExplain(InputError):
    """The input is fine but holds no target to explain (a detector found no boxes on it): in a dataset run the
    item is ``'skipped'``, not failed."""


class ModelError(PeepholeError, RuntimeError):
    """The model raised, or returned something that is not a (batch, classes) score matrix."""
