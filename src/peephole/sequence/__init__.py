"""PAMI on 1-D inputs: signals / time series (window partitions) and tabular rows (feature groups)."""

from peephole.sequence.explanation import SequenceExplanation
from peephole.sequence.maskers import ConstantBaseline, FeatureBaseline
from peephole.sequence.partitions import IndexPartition, feature_groups, singletons, window_starts, windows

__all__ = [
    "ConstantBaseline",
    "FeatureBaseline",
    "IndexPartition",
    "SequenceExplanation",
    "feature_groups",
    "singletons",
    "window_starts",
    "windows",
]
