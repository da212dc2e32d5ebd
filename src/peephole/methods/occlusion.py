"""Occlusion (Zeiler & Fergus, ECCV 2014): hide ONE part, keep the rest, measure the drop.

The mirror of PAMI on the same partitions: each query *hides* its part (the complement is kept) and
a feature's importance is the mean drop ``f_k(x) − f_k(x without part j)`` over the parts that hid it.
On images the default parts are PAMI Strategy I's sliding windows and the hidden pixels take PAMI's
blur, so the only difference from PAMI Strategy I is keep-the-part versus hide-the-part.
"""

from __future__ import annotations

from typing import Any

from peephole.core.aggregate import Aggregator, DropAggregator
from peephole.core.partition import Complement, Partition
from peephole.methods.base import PerturbationMethod, Settings
from peephole.pipeline import Context


class Occlusion(PerturbationMethod):
    """Explain by hiding each part of the partition in turn (one query per part)."""

    name = "occlusion"

    def parts(self, ctx: Context, s: Settings, partition: Partition) -> Partition:
        return Complement(partition)

    def aggregator(self, ctx: Context, s: Settings) -> tuple[type[Aggregator], dict[str, Any]]:
        return DropAggregator, {}
