"""PAMI path: the greedy keep-and-hide order (Eq. P1) against a brute-force re-implementation on set
functions, the hide term's known effect on an AND interaction, the exact budget, the surrogate fallback
and the painting of overlapping parts."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import RegionMeanModel, textured_image

import peephole
from peephole.errors import InputError

N = 8  # parts: one position each ('single' partition of a length-8 row)
X = np.ones(N)


def set_model(value):
    """A black box on (B, N) rows of 0/1 (hidden positions take the masker's 0): ``value(set of kept positions)``."""

    def model(batch):
        b = np.asarray(batch)
        return np.array([[value(frozenset(np.flatnonzero(row > 0.5).tolist())), 0.0] for row in b])

    return model


def greedy_by_hand(value, parts, w):
    """Eq. P1 on a set function with every remaining part a candidate (independent of the library)."""
    chosen, left = [], list(parts)
    full = frozenset(parts)
    while len(left) > 1:
        s = frozenset(chosen)
        gain = [value(s | {j}) - value(s) + w * (value(full - s) - value(full - s - {j})) for j in left]
        j = left[int(np.argmax(gain))]
        chosen.append(j)
        left.remove(j)
    return chosen + left


def explain(value, **kw):
    kw = {"n_samples": 30, "candidates": N, "max_queries": 1000, **kw}
    return peephole.explain(
        set_model(value), X, "pami-path", modality="sequence", partition="single", output="scores", targets=0, **kw
    )


REGION = (slice(8, 24), slice(36, 56))
A = np.array([0.05, 0.3, 0.9, 0.0, 0.6, 0.2, 0.45, 0.1])


@pytest.mark.parametrize("w", [0.0, 1.0, 2.5])
def test_the_path_is_the_greedy_order_of_eq_p1(w):
    """Additive part plus interactions; with every part a candidate the path is Eq. P1's exact greedy order."""

    def value(s):
        return float(sum(A[j] for j in s) + 0.8 * ({1, 5} <= s) - 0.5 * ({2, 6} <= s) + 0.7 * (3 in s or 7 in s))

    e = explain(value, hide_weight=w)
    assert e.params["orders"][0] == greedy_by_hand(value, range(N), w)
    order = e.params["orders"][0]
    assert [int(r) for r in np.argsort(-e.maps[0], kind="stable")] == order  # painted (n − r)/n
    assert len(np.unique(e.maps[0])) == N  # strictly decreasing along the order: no ties for the curves to break


def test_the_map_paints_the_share_of_both_curves_still_unexplained_when_a_part_is_added():
    """Additive f(S) = Σ a_j: the path takes the parts by decreasing a_j, and after r parts keeping explains
    Σ_{first r} a / Σ a of the insertion rise and hiding the same share of the deletion fall; position r is
    painted 0.95 · (1 − that share) + 0.05 · (n − r)/n (the rank term only breaks ties)."""
    e = explain(lambda s: float(sum(A[j] for j in s)))
    order = e.params["orders"][0]
    assert order == [int(j) for j in np.argsort(-A, kind="stable")]
    before = np.concatenate([[0.0], np.cumsum(A[order])[:-1]]) / A.sum()
    expect = 0.95 * (1 - before) + 0.05 * (N - np.arange(N)) / N
    np.testing.assert_allclose(e.maps[0][order], expect, rtol=1e-5)
    # no rise from the empty input to the full one (f(∅) ≥ f(x)): no share to paint, the map is the rank
    flat = explain(lambda s: float(3 - len(s)))
    np.testing.assert_allclose(flat.maps[0][flat.params["orders"][0]], (N - np.arange(N)) / N, rtol=1e-6)


def test_the_hide_term_brings_an_and_pair_forward():
    """f = [0 and 1 kept] + 0.6·[2] + 0.3·[3]: kept alone, neither 0 nor 1 adds anything, so the keep-only
    path (w = 0) takes 3 before them; hidden, each of them costs the whole 1, so with w = 1 they come
    straight after 2 (2 gains 0.6 + 0.6 = 1.2 > 1)."""

    def value(s):
        return float({0, 1} <= s) + 0.6 * (2 in s) + 0.3 * (3 in s)

    keep_only = explain(value, hide_weight=0.0).params["orders"][0]
    both = explain(value, hide_weight=1.0).params["orders"][0]
    assert keep_only[:2] == [2, 3] and set(keep_only[2:4]) == {0, 1}
    assert both[0] == 2 and set(both[1:3]) == {0, 1} and both[3] == 3


def test_the_budget_is_never_exceeded_and_the_surrogate_orders_the_rest():
    def value(s):
        return float(sum(A[j] for j in s) + 0.8 * ({1, 5} <= s))

    base = explain(value, candidates=3, max_queries=32)  # the smallest budget: surrogate and empty coalition only
    assert base.params["path_steps"] == [0] and base.n_queries <= 32
    steps = []
    for extra in (0, 3, 6, 11, 12, 40, 200):
        e = explain(value, candidates=3, max_queries=32 + extra)
        assert e.n_queries <= 32 + extra
        share = 32 + extra - base.n_queries  # what the path may spend (drawn coalitions repeat: base < 32)
        # a step of 3 candidates needs at most 6 queries (coalitions met before cost none)
        n = e.params["path_steps"][0]
        assert n >= min(N - 1, share // 6) and (n == 0 or share >= 6)
        steps.append(n)
    assert steps == sorted(steps) and steps[-1] == N - 1 and steps[0] < steps[3]
    # no step: the order is the LIME surrogate's on the same coalitions (same samples, same seed)
    lime = peephole.explain(
        set_model(value), X, "lime", modality="sequence", partition="single", output="scores", targets=0, n_samples=30
    )
    e = explain(value, candidates=3, max_queries=32)
    assert e.params["orders"][0] == [int(j) for j in np.argsort(-lime.maps[0], kind="stable")]


def test_overlapping_parts_are_painted_by_the_first_part_that_covers_them():
    """Windows of 4 every 2 overlap: each position takes the value of the first chosen window covering it."""
    x = np.ones(12)

    def value(s):
        return float(s >= {4, 5, 6, 7}) + 0.1 * len(s)

    e = peephole.explain(
        set_model(value),
        x,
        "pami-path",
        modality="sequence",
        output="scores",
        targets=0,
        window=4,
        stride=2,
        n_samples=20,
        max_queries=300,
    )
    order = e.params["orders"][0]
    windows = [set(range(s, s + 4)) for s in range(0, 9, 2)]
    assert windows[order[0]] == {4, 5, 6, 7}  # the one window that completes the AND
    first, done = np.full(12, -1), set()  # the position in the order of the first window covering each feature
    for r, j in enumerate(order):
        for i in windows[j] - done:
            first[i] = r
        done |= windows[j]
    for r in np.unique(first):  # one value per window on what it added, decreasing along the order
        assert np.ptp(e.maps[0][first == r]) == 0
    assert all(np.diff([e.maps[0][first == r][0] for r in np.unique(first)]) < 0)


def test_images_rank_the_blocks_the_model_reads_first():
    """p(class 1) = mean of the region's red channel over 3 × 4 blocks: the blocks the region overlaps lead
    the order, the one that adds most red first; every block is painted with one value."""
    labels = (np.arange(48)[:, None] // 16) * 4 + np.arange(64)[None, :] // 16
    img = textured_image(48, 64)
    e = peephole.explain(RegionMeanModel(REGION), img, "pami-path", targets=1, masker="black", partition=labels, n_samples=100)
    red = np.zeros((48, 64))
    red[REGION] = img[REGION][..., 0]
    read = np.array([red[labels == k].sum() for k in range(12)])  # what keeping block k adds to the output
    order = e.params["orders"][0]
    assert order[0] == int(np.argmax(read)) and set(order[:4]) == set(np.flatnonzero(read))
    assert all(np.ptp(e.maps[0][labels == k]) == 0 for k in range(12)) and e.n_queries <= 500


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"max_queries": 31}, "max_queries=31 leaves no query for the path"),
        ({"n_samples": 1}, "n_samples must be >= 2"),
        ({"candidates": 0}, "candidates must be >= 1"),
        ({"hide_weight": -1.0}, "hide_weight must be a finite number >= 0"),
        ({"hide_weight": float("nan")}, "hide_weight must be a finite number >= 0"),
        ({"hide_weight": "high"}, "hide_weight must be a number, got 'high'"),
    ],
)
def test_bad_settings_are_one_input_error(kw, message):
    with pytest.raises(InputError, match=message):
        explain(lambda s: 0.0, **kw)


def test_several_segmentations_are_refused():
    img = np.random.default_rng(1).random((32, 32, 3)).astype(np.float32)
    with pytest.raises(InputError, match="one segmentation; this partition has 20 groups"):
        peephole.explain(lambda b: np.ones((len(b), 2)) / 2, img, "pami-path", partition="superpixels", output="probs")
