"""Sequences: signals / time series (window partitions) and tabular rows (feature groups)."""

from peephole.modalities.sequence.maskers import ConstantBaseline, FeatureBaseline
from peephole.modalities.sequence.partitions import IndexPartition, feature_groups, singletons, window_starts, windows

__all__ = ["ConstantBaseline", "FeatureBaseline", "IndexPartition", "feature_groups", "singletons", "window_starts", "windows"]
