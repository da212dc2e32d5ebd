"""The generic PAMI engine: partition -> perturb -> query -> aggregate, and the preparation of a call.

Nothing here knows about images or text; each input kind's partitions and maskers live in its
modality (:mod:`peephole.modalities`).
"""

from peephole.engine.aggregate import Aggregator, DropAggregator, Eq1Aggregator, ScoresOnly, WeightedSumAggregator
from peephole.engine.partition import Coalitions, Complement, FunctionPartition, LabelPartition, MaskPartition, Partition
from peephole.engine.perturb import BaselineMasker, Masker, SoftMasker
from peephole.engine.query import Query
from peephole.engine.run import RunResult, aggregate, run

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
