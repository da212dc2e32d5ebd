"""The generic PAMI engine: partition -> perturb -> query -> aggregate.

Nothing here knows about images or text; modality-specific partitions and maskers live in
:mod:`peephole.image` (and later :mod:`peephole.text`).
"""

from peephole.engine.aggregate import Eq1Aggregator
from peephole.engine.partition import LabelPartition, MaskPartition, Partition
from peephole.engine.perturb import BaselineMasker, Masker
from peephole.engine.query import Query
from peephole.engine.run import RunResult, aggregate, run

__all__ = [
    "BaselineMasker",
    "Eq1Aggregator",
    "LabelPartition",
    "MaskPartition",
    "Masker",
    "Partition",
    "Query",
    "RunResult",
    "aggregate",
    "run",
]
