"""Partitions as data: state()/from_state() rebuild the same parts; Coalitions' unions and painting."""

import numpy as np
import pytest
from partition_fixtures import roundtrip

from peephole.core import Coalitions, Complement, FunctionPartition, LabelPartition, MaskPartition


def grouped_masks() -> MaskPartition:
    rng = np.random.default_rng(3)
    return MaskPartition(rng.random((5, 3, 4)) > 0.5, groups=np.array([0, 1, 1, 2, 0]))


def two_label_maps() -> LabelPartition:
    a = np.array([[0, 0, 5, 5], [0, 7, 7, 5], [9, 9, 7, 5]])  # labels need not be consecutive
    b = np.array([[1, 1, 1, 1], [2, 2, 2, 2], [2, 2, 2, 2]])
    return LabelPartition([a, b])


def test_mask_partition_round_trip_keeps_masks_and_groups():
    p = grouped_masks()
    q = roundtrip(p)
    np.testing.assert_array_equal(q.groups, [0, 1, 1, 2, 0])


def test_label_partition_round_trip_keeps_every_label_map():
    p = two_label_maps()
    q = roundtrip(p)
    assert q.n_parts == 4 + 2 and q.n_groups == 2
    for a, b in zip(q.label_maps, p.label_maps, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("inner", [grouped_masks, two_label_maps])
def test_complement_round_trip_rebuilds_its_inner_partition(inner):
    p = Complement(inner())
    q = roundtrip(p)
    assert type(q.inner) is type(p.inner)
    np.testing.assert_array_equal(q.masks(0, q.n_parts), ~p.inner.masks(0, p.n_parts))


@pytest.mark.parametrize("inner", [grouped_masks, two_label_maps])
def test_coalitions_round_trip_keeps_parts_and_samples(inner):
    parts = inner()
    z = np.random.default_rng(0).random((7, parts.n_parts)) > 0.5
    rows = np.array([0, 0, 0, 1, 1, 1, 1])
    p = Coalitions(parts, z, rows)
    q = roundtrip(p)
    assert type(q.parts) is type(parts)
    np.testing.assert_array_equal(q.z, z)
    np.testing.assert_array_equal(q.groups, rows)
    np.testing.assert_array_equal(q.parts.masks(0, parts.n_parts), parts.masks(0, parts.n_parts))


def test_a_function_partition_is_not_saved():
    p = FunctionPartition((3,), 2, lambda a, b: np.ones((b - a, 3), bool))
    with pytest.raises(NotImplementedError, match="FunctionPartition cannot be saved"):
        p.state()


# --- Coalitions: unions of kept parts, and per-part weights painted back onto the features --------

# Three overlapping parts over a 2×3 feature grid; feature (1, 2) is in none of them.
OVERLAPPING = np.array(
    [
        [[1, 1, 0], [0, 0, 0]],
        [[0, 1, 1], [1, 0, 0]],
        [[0, 0, 1], [1, 1, 0]],
    ],
    bool,
)


def test_coalition_masks_are_the_union_of_the_kept_parts():
    z = np.array([[1, 0, 1], [0, 0, 0], [1, 1, 1], [0, 1, 0], [1, 1, 0]], bool)
    c = Coalitions(MaskPartition(OVERLAPPING), z)
    got = c.masks(0, len(z))
    assert got.dtype == bool and got.shape == (5, 2, 3)
    for i, row in enumerate(z):
        np.testing.assert_array_equal(got[i], OVERLAPPING[row].any(axis=0))
    # Hand-written: parts 0 and 2 together; nothing; everything any part covers.
    np.testing.assert_array_equal(got[0], [[1, 1, 1], [1, 1, 0]])
    assert not got[1].any()
    np.testing.assert_array_equal(got[2], [[1, 1, 1], [1, 1, 0]])
    np.testing.assert_array_equal(c.masks(3, 5), got[3:5])  # any slice builds the same masks


def test_coalitions_reject_vectors_of_the_wrong_length():
    from peephole.errors import InputError

    with pytest.raises(InputError, match=r"\(n_samples, 3\)"):
        Coalitions(MaskPartition(OVERLAPPING), np.ones((2, 4), bool))


def test_paint_gives_each_feature_the_mean_weight_of_the_parts_covering_it():
    c = Coalitions(MaskPartition(OVERLAPPING), np.ones((1, 3), bool))
    w = np.array([[1.0, 3.0, 8.0], [-2.0, 0.0, 4.0]])  # two targets' weights of parts 0, 1, 2
    got = c.paint(w)
    assert got.shape == (2, 2, 3)
    # (0,0): part 0; (0,1): parts 0, 1; (0,2): parts 1, 2; (1,0): parts 1, 2; (1,1): part 2; (1,2): none -> 0.
    np.testing.assert_allclose(got[0], [[1.0, 2.0, 5.5], [5.5, 8.0, 0.0]])
    np.testing.assert_allclose(got[1], [[-2.0, -1.0, 2.0], [2.0, 4.0, 0.0]])


def test_paint_with_density_spreads_each_weight_over_its_part():
    c = Coalitions(MaskPartition(OVERLAPPING), np.ones((1, 3), bool))
    got = c.paint(np.array([[2.0, 3.0, 6.0]]), density=True)  # parts of 2, 3 and 3 features
    # (0,0): 2/2; (0,1): mean(2/2, 3/3); (0,2), (1,0): mean(3/3, 6/3); (1,1): 6/3; (1,2): none.
    np.testing.assert_allclose(got[0], [[1.0, 1.0, 1.5], [1.5, 2.0, 0.0]])


# --- Masks built a block of parts at a time (memory bounded by a block, not by the parts) ----------


def window_partition():
    from peephole.modalities.image.windows import SlidingWindows

    return SlidingWindows(23, 31, radius=4, stride=3)


@pytest.mark.parametrize("make", [window_partition, two_label_maps, grouped_masks], ids=["windows", "labels", "masks"])
@pytest.mark.parametrize("block", [1, 7, 1 << 22], ids=["one-part-blocks", "small-blocks", "one-block"])
def test_sparse_masks_unions_and_paintings_equal_the_dense_masks(make, block, monkeypatch):
    import peephole.core.partition as partition

    monkeypatch.setattr(partition, "BLOCK_ELEMENTS", block)
    p = make()
    n, dense = p.n_parts, p.masks(0, p.n_parts).reshape(p.n_parts, -1)
    np.testing.assert_array_equal(p.sparse_masks(2, n).toarray(), dense[2:])  # the partition's own sparse masks
    sizes = [m.shape[0] for _, m in partition.blocks(p)]
    assert sum(sizes) == n and max(sizes) == min(p.block_parts, n)
    z = np.random.default_rng(0).random((9, n)) < 0.3
    c = Coalitions(p, z)
    np.testing.assert_array_equal(c.masks(0, 9).reshape(9, -1), z.astype(np.float32) @ dense.astype(np.float32) > 0)
    w = np.random.default_rng(1).normal(size=(2, n))
    covered = np.maximum(dense.sum(0), 1)
    np.testing.assert_allclose(c.paint(w).reshape(2, -1), w @ dense / covered, rtol=1e-12, atol=1e-15)
    spread = w / np.maximum(dense.sum(1), 1) @ dense / covered
    np.testing.assert_allclose(c.paint(w, density=True).reshape(2, -1), spread, rtol=1e-12, atol=1e-15)


def test_coalitions_of_many_parts_never_hold_every_parts_mask(monkeypatch):
    """Masks of 2,601 windows over 200×200 pixels are built a block at a time, each block's windows as their
    pixels (at most BLOCK_ELEMENTS of them), never a dense mask of every window (2,601 × 40,000)."""
    import peephole.core.partition as partition
    from peephole.modalities.image.windows import SlidingWindows

    monkeypatch.setattr(partition, "BLOCK_ELEMENTS", 20_000)
    p = SlidingWindows(200, 200, radius=6, stride=4)
    asked: list[int] = []
    sparse = SlidingWindows.sparse_masks
    monkeypatch.setattr(SlidingWindows, "sparse_masks", lambda self, a, b: asked.append(b - a) or sparse(self, a, b))
    monkeypatch.setattr(SlidingWindows, "masks", lambda *a: pytest.fail("a dense mask of every window was built"))
    c = Coalitions(p, np.random.default_rng(0).random((4, p.n_parts)) < 0.5)
    c.masks(0, 4), c.paint(np.ones((1, p.n_parts)))
    assert p.n_parts == 2601 and max(asked) == p.block_parts == 20_000 // (13 * 13)  # a 13×13 stencil per window
