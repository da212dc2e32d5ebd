"""The generic PAMI engine: partition -> perturb -> query -> aggregate, and the preparation of a call.

Nothing here knows about images or text; each input kind's partitions and maskers live in its
modality (:mod:`peephole.modalities`).
"""

from peephole.core.aggregate import Aggregator, DropAggregator, Eq1Aggregator, ScoresOnly, WeightedSumAggregator
from peephole.core.partition import Coalitions, Complement, FunctionPartition, LabelPartition, MaskPartition, Partition
from peephole.core.perturb import BaselineMasker, Masker, SoftMasker
from peephole.core.query import Query
from peephole.core.run import RunResult, aggregate, run

__all__ = [
    "Aggregator",
    "BaselineMasker",
    "Coalitions",
    "Complement",
    "DropAggregator",
    "Eq1Aggregator",
    "FunctionPartition",
    "LabelPartition",
    "MaskPartition",
    "Masker",
    "Partition",
    "Query",
    "RunResult",
    "ScoresOnly",
    "SoftMasker",
    "WeightedSumAggregator",
    "aggregate",
    "run",
]
