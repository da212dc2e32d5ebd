"""Index partitions of 1-D inputs round-trip through state()/from_state() with the same parts."""

import numpy as np
import pytest
from partition_fixtures import roundtrip

from peephole.core.partition import Complement
from peephole.modalities.sequence.partitions import IndexPartition, feature_groups, singletons, windows


@pytest.mark.parametrize(
    "make",
    [
        lambda: windows(11, 4, stride=3),  # overlapping parts of equal size, the last one flush with the end
        lambda: singletons(5),
        lambda: IndexPartition(9, [[8, 0, 3], [2], [4, 5, 6, 7, 1], [3, 3, 4]]),  # unsorted, repeated, uneven
        lambda: IndexPartition(6, [[5, 1]]),  # a single part that leaves positions uncovered
    ],
)
def test_index_partition_round_trip_keeps_every_part(make):
    p = make()
    q = roundtrip(p)
    assert q.names is None
    for a, b in zip(q.parts, p.parts, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(q.coverage, p.coverage)


def test_named_feature_groups_keep_their_names():
    p = feature_groups(7, {"age": [0], "address": [3, 4, 5], "income": [1, 6]})
    q = roundtrip(p)
    assert q.names == ["age", "address", "income"]
    np.testing.assert_array_equal(q.masks(1, 2)[0], [0, 0, 0, 1, 1, 1, 0])
    c = roundtrip(Complement(p))
    assert type(c.inner) is IndexPartition and c.inner.names == p.names
