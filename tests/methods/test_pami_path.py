"""PAMI path: the greedy keep-and-hide order (Eq. P1) against a brute-force re-implementation on set
functions, the Shapley-style values it paints, the hide term's known effect on an AND interaction, the exact
budget, the surrogate fallback, the painting of overlapping parts, and maps that do not depend on the seed."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import RegionMeanModel, textured_image

import peephole
from peephole.errors import InputError
from peephole.methods.pami_path import PathOptions, values
from peephole.methods.surrogate import orthogonal_samples
from peephole.metrics.stability import rank_correlation
from peephole.modalities import get_modality
from peephole.modalities.image.superpixels import Segmentation

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


def interacting(s):
    """The additive part ``A`` plus three interactions: an AND pair, a negative pair and an OR pair."""
    return float(sum(A[j] for j in s) + 0.8 * ({1, 5} <= s) - 0.5 * ({2, 6} <= s) + 0.7 * (3 in s or 7 in s))


@pytest.mark.parametrize("w", [0.0, 1.0, 2.5])
def test_the_path_is_the_greedy_order_of_eq_p1(w):
    """Additive part plus interactions; with every part a candidate the path is Eq. P1's exact greedy order."""
    e = explain(interacting, hide_weight=w)
    assert e.params["orders"][0] == greedy_by_hand(interacting, range(N), w)
    order = e.params["orders"][0]
    assert [int(r) for r in np.argsort(-e.maps[0], kind="stable")] == order  # painted (n − r)/n
    assert len(np.unique(e.maps[0])) == N  # strictly decreasing along the order: no ties for the curves to break


def test_the_map_paints_each_parts_shapley_style_value_along_the_path():
    """Additive f(S) = Σ a_j: both marginal gains of part j are a_j whatever the parts before it, so the
    path takes the parts by decreasing a_j and paints a_j on each (one feature per part), up to the
    rank term of a thousandth; the map sums to f(x) − f(∅)."""
    e = explain(lambda s: float(sum(A[j] for j in s)))
    order = e.params["orders"][0]
    assert order == [int(j) for j in np.argsort(-A, kind="stable")]
    np.testing.assert_allclose(e.maps[0], A, atol=1e-3 * A.max())
    assert e.maps[0].sum() == pytest.approx(A.sum(), rel=1e-5)


def test_values_that_rise_along_the_path_are_pooled_and_keep_their_sum():
    """An AND pair {0, 1} worth 1 and part 2 worth 0.6: with w = 0 the path takes 2 first (0 and 1 alone add
    nothing when kept), then the pair, whose second part's gain (1) exceeds the first's; the values along
    the order are made non-increasing by pooling those two (½ each, up to the rank term) and still sum to
    f(x) − f(∅) = 1.6."""

    def value(s):
        return float({0, 1} <= s) + 0.6 * (2 in s)

    e = explain(value, hide_weight=0.0)
    order = e.params["orders"][0]
    assert order[0] == 2 and set(order[1:3]) == {0, 1}
    along = e.maps[0][order]
    assert all(np.diff(along) < 0)
    assert along[0] == pytest.approx(0.6, abs=1e-3) and along[1] == pytest.approx(along[2], abs=2e-3)
    assert along[1] + along[2] == pytest.approx(1.0, abs=1e-3) and e.maps[0].sum() == pytest.approx(1.6, rel=1e-5)


@pytest.mark.parametrize(
    "marginals, expected",
    [("both", [0.55, 0.25, 0.2]), ("insertion", [0.6, 0.2, 0.2]), ("deletion", [0.5, 0.4, 0.1])],
)
def test_values_take_the_marginals_of_one_path_or_both(marginals, expected):
    """Three one-feature parts, f(∅) = 0, f(x) = 1, a two-step path keeping 0.6 then 0.7 and hiding down to 0.5
    then 0.1: insertion marginals 0.6, 0.1 and the tail's 0.3 (pooled to 0.2, 0.2: they rise), deletion
    marginals 0.5, 0.4, 0.1, their mean for 'both'; each sums to f(x) − f(∅) and stays strictly decreasing."""
    v = values([(0.6, 0.5), (0.7, 0.1)], np.ones(3, int), 0.0, 1.0, marginals)
    np.testing.assert_allclose(v, expected, atol=2e-3)
    assert v.sum() == pytest.approx(1.0) and all(np.diff(v) < 0)


def test_one_paths_values_keep_the_order_and_the_sum():
    """``values='deletion'`` changes the magnitudes only: the same path, so the same order, and the same sum."""
    both, deletion = explain(interacting), explain(interacting, values="deletion")
    assert deletion.params["orders"] == both.params["orders"]
    assert [int(r) for r in np.argsort(-deletion.maps[0], kind="stable")] == both.params["orders"][0]
    assert not np.allclose(deletion.maps[0], both.maps[0], atol=1e-2)
    assert deletion.maps[0].sum() == pytest.approx(both.maps[0].sum(), rel=1e-5)
    with pytest.raises(InputError, match="values"):
        explain(interacting, values="median")


def test_surrogate_values_paint_the_surrogates_weights_in_the_paths_order():
    """``values='surrogate'``: on an additive black box the map is LIME's fit on the surrogate's 30 coalitions (ridge,
    α = 1, exponential kernel of width 0.25 on the cosine distance to the full input; refitted here with sklearn),
    not the parts' exact effects ``A`` the Shapley-style values give; with interactions the order (and so every
    curve) stays the path's, the magnitudes change."""
    from sklearn.linear_model import Ridge

    additive = explain(lambda s: float(sum(A[j] for j in s)), values="surrogate").maps[0]
    z = orthogonal_samples(N, 30).astype(float)
    cosine = 1 - z.sum(1) / np.sqrt(np.maximum(z.sum(1), 1e-12) * N)
    fit = Ridge(alpha=1.0).fit(z, z @ A, sample_weight=np.sqrt(np.exp(-(cosine**2) / 0.25**2))).coef_
    np.testing.assert_allclose(additive, fit, atol=2e-3)
    assert np.abs(explain(lambda s: float(sum(A[j] for j in s))).maps[0] - additive).max() > 0.05

    both, surrogate = explain(interacting), explain(interacting, values="surrogate")
    assert surrogate.params["orders"] == both.params["orders"]
    assert [int(r) for r in np.argsort(-surrogate.maps[0], kind="stable")] == both.params["orders"][0]
    assert not np.allclose(surrogate.maps[0], both.maps[0], atol=1e-2)


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
    # no step: the order is the surrogate's, whose orthogonal design separates the additive parts' effects
    additive = explain(lambda s: float(sum(A[j] for j in s)), candidates=3, max_queries=32)
    assert additive.params["path_steps"] == [0]
    assert additive.params["orders"][0] == [int(j) for j in np.argsort(-A, kind="stable")]


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


def test_search_fills_average_eq_p1_over_the_fills():
    """A linear model f(x) = Σ a_j x_j: under a fill c both of part j's gains are a_j (x_j − c), so with the fills 0
    (the sequence default) and the row's mean m the path orders the parts by a_j (x_j − m/2), the mean of the two,
    and paints that value on each; each fill alone gives another order."""
    x = np.array([1.0, 4.0, 2.0, 0.5, 3.0, 1.5, 2.5, 3.5])
    a = np.array([0.9, 0.2, 0.5, 0.8, 0.3, 0.6, 0.35, 0.25])

    def linear(batch):
        b = np.asarray(batch, np.float64)
        return np.stack([b @ a, np.zeros(len(b))], axis=1)

    def run(**kw):
        kw = {"n_samples": 30, "candidates": N, "max_queries": 2000, **kw}
        return peephole.explain(linear, x, "pami-path", modality="sequence", partition="single", output="scores", targets=0, **kw)

    both = run(search_fills=["mean"])
    expected = a * (x - x.mean() / 2)
    assert both.params["orders"][0] == [int(j) for j in np.argsort(-expected, kind="stable")]
    np.testing.assert_allclose(both.maps[0], expected, atol=2e-3 * np.abs(expected).max())
    zero, mean = run().params["orders"][0], run(masker="mean").params["orders"][0]
    assert zero != both.params["orders"][0] != mean
    assert run(search_fills=["mean"], max_queries=120).n_queries <= 120  # each step: 2 queries per candidate and fill


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"max_queries": 31}, "max_queries=31 leaves no query for the path"),
        ({"n_samples": 1}, "n_samples must be >= 2"),
        ({"candidates": 0}, "candidates must be >= 1"),
        ({"hide_weight": -1.0}, "hide_weight must be a finite number >= 0"),
        ({"hide_weight": float("nan")}, "hide_weight must be a finite number >= 0"),
        ({"hide_weight": "high"}, "hide_weight must be a number, got 'high'"),
        ({"search_fills": "mean"}, "search_fills must be a list of a string, got 'mean'"),
        ({"search_fills": ["fog"]}, "fog"),
    ],
)
def test_bad_settings_are_one_input_error(kw, message):
    with pytest.raises(InputError, match=message):
        explain(lambda s: 0.0, **kw)


def test_several_segmentations_average_one_path_each_on_an_equal_share():
    """Two segmentations: the map is the mean of the maps of two one-segmentation calls, each given half of the
    queries beyond the unperturbed input and half of the surrogate's samples; the orders are recorded per
    segmentation, and the call stays within its budget."""
    img = textured_image(48, 64, seed=3)
    shifted = ((np.arange(48)[:, None] + 4) // 12) * 8 + (np.arange(64)[None, :] + 6) // 10  # other, larger blocks
    call = {"output": "probs", "targets": 1, "candidates": 2}
    both = peephole.explain(
        interacting_model, img, "pami-path", partition=[BLOCKS, shifted], max_queries=121, n_samples=40, **call
    )
    one = [
        peephole.explain(interacting_model, img, "pami-path", partition=p, max_queries=61, n_samples=20, **call)
        for p in (BLOCKS, shifted)
    ]
    np.testing.assert_allclose(both.maps[0], (one[0].maps[0] + one[1].maps[0]) / 2, rtol=1e-6, atol=1e-7)
    assert both.params["orders"] == [o.params["orders"][0] for o in one]
    assert both.params["path_steps"] == [o.params["path_steps"][0] for o in one] and min(both.params["path_steps"]) > 0
    assert both.n_queries == sum(o.n_queries for o in one) - 1 <= 121  # the unperturbed input once
    assert not np.allclose(both.maps[0], one[0].maps[0])


def test_the_image_default_is_one_path_over_each_of_two_slic_segmentations():
    """On images PAMI path reads the 'slics' partition, SLIC-40 and SLIC-60 (docs/results.md, "PAMI path over two
    segmentations"): the same map as those two segmentations given explicitly, one order per segmentation."""
    img = textured_image(48, 64, seed=5)
    kw = {"output": "probs", "targets": 1, "max_queries": 121, "n_samples": 40}
    default = peephole.explain(interacting_model, img, "pami-path", **kw)
    slic = [Segmentation("slic", {"n_segments": n, "compactness": 20}) for n in (40, 60)]
    given = peephole.explain(interacting_model, img, "pami-path", partition=slic, **kw)
    assert default.params["partition"] == "slics" and len(default.params["orders"]) == 2
    np.testing.assert_array_equal(default.maps, given.maps)
    one = peephole.explain(interacting_model, img, "pami-path", partition="slics", segments=(40,), **kw)
    assert len(one.params["orders"]) == 1 and not np.array_equal(one.maps, default.maps)


def test_at_fifty_queries_or_fewer_the_image_default_is_one_slic50_path():
    """At ``max_queries`` <= 50 two paths on half the budget each take too few greedy steps (docs/results.md, "The
    budget table on the test split"): the default partition is then one SLIC-50 segmentation, unless the caller chose
    a partition or gave an option only 'slics' takes; from 51 queries on it is 'slics' again."""
    img = textured_image(48, 64, seed=5)
    kw = {"output": "probs", "targets": 1}
    for budget, used in ((25, "slic"), (50, "slic"), (51, "slics")):
        default = peephole.explain(interacting_model, img, "pami-path", max_queries=budget, n_samples=budget // 2, **kw)
        given = peephole.explain(
            interacting_model, img, "pami-path", partition=used, max_queries=budget, n_samples=budget // 2, **kw
        )
        assert default.params["partition"] == used and len(default.params["orders"]) == (1 if used == "slic" else 2)
        np.testing.assert_array_equal(default.maps, given.maps)
    small = {"max_queries": 50, "n_samples": 25, **kw}
    assert peephole.explain(interacting_model, img, "pami-path", partition="slics", **small).params["partition"] == "slics"
    kept = peephole.explain(interacting_model, img, "pami-path", segments=(30, 50), **small)
    assert kept.params["partition"] == "slics" and list(kept.params["segments"]) == [30, 50]
    tuned = peephole.explain(interacting_model, img, "pami-path", compactness=10.0, **small)  # 'slic' takes it too
    assert tuned.params["partition"] == "slic" and tuned.params["compactness"] == 10.0
    rule = get_modality("image").budget_defaults["pami-path"]
    assert PathOptions().max_queries > rule.at_most  # a call that sets no budget gets the usual default


def test_the_surrogates_samples_default_to_half_the_budget_at_most_200():
    """Unset, ``n_samples`` is half of ``max_queries`` (at most 200, the 500-query default's), so any budget of 4 or
    more queries runs without it; the number used is recorded."""
    assert [PathOptions(max_queries=b).n_samples for b in (4, 25, 100, 500, 2000)] == [2, 12, 50, 200, 200]
    with pytest.raises(InputError, match="max_queries=3 leaves no query for the path"):
        PathOptions(max_queries=3)
    img = textured_image(48, 64, seed=5)
    kw = {"output": "probs", "targets": 1, "max_queries": 25}
    auto = peephole.explain(interacting_model, img, "pami-path", **kw)
    given = peephole.explain(interacting_model, img, "pami-path", n_samples=12, **kw)
    assert auto.params["n_samples"] == 12 and auto.n_queries <= 25
    np.testing.assert_array_equal(auto.maps, given.maps)


def test_too_small_a_budget_for_the_segmentations_is_one_input_error():
    img = np.random.default_rng(1).random((32, 32, 3)).astype(np.float32)
    model = lambda b: np.ones((len(b), 2)) / 2  # noqa: E731
    with pytest.raises(InputError, match="too few for 20 segmentations: each segmentation's share of 10 queries must"):
        peephole.explain(model, img, "pami-path", partition="superpixels", max_queries=210, n_samples=200, output="probs")
    with pytest.raises(InputError, match="n_samples=30 are too few for 20 segmentations"):  # 2 samples each at least
        peephole.explain(model, img, "pami-path", partition="superpixels", n_samples=30, max_queries=2000, output="probs")


def test_the_surrogate_design_is_a_fixed_orthogonal_design_and_its_foldover():
    """Over its first N = 2^m rows each part is on in half of them and any two parts' ±1 columns are
    orthogonal; row 0 keeps every part; the rows after N are the complements of the first ones."""
    z = orthogonal_samples(50, 200)
    assert z.shape == (200, 50) and z[0].all()
    signs = 2 * z[:128].astype(int) - 1
    assert (signs.sum(0) == 0).all()
    np.testing.assert_array_equal(signs.T @ signs, 128 * np.eye(50, dtype=int))
    np.testing.assert_array_equal(z[128:], ~z[:72])
    np.testing.assert_array_equal(orthogonal_samples(50, 200), z)
    assert orthogonal_samples(2916, 12).shape == (12, 2916) and orthogonal_samples(1, 2).tolist() == [[True], [False]]


def interacting_model(batch):
    """p(class 1) = σ(6 · red(A) · green(B) + 2 · mean blue − 2): an AND of two regions plus a weak global term."""
    b = np.asarray(batch)
    a, c = b[:, 8:24, 8:32, 0].mean(axis=(1, 2)), b[:, 24:40, 32:56, 1].mean(axis=(1, 2))
    p = 1 / (1 + np.exp(-(6 * a * c + 2 * b[..., 2].mean(axis=(1, 2)) - 2)))
    return np.stack([1 - p, p], axis=1)


BLOCKS = (np.arange(48)[:, None] // 8) * 8 + np.arange(64)[None, :] // 8  # 6 × 8 blocks of 8 × 8


@pytest.mark.parametrize("kw", [{}, {"n_samples": 40, "max_queries": 120}], ids=["default", "small budget"])
def test_seeds_give_the_same_map(kw):
    """The same call gives the same map, and so does another seed: the surrogate's design is fixed. With the
    seeded random coalitions used before, seeds 0, 1 and 2 gave ρ 0.65 / 0.63 / 0.61 at the defaults and
    0.39 / 0.64 / 0.36 at the small budget on this image."""
    img = textured_image(48, 64)

    def call(seed):
        kws = {"targets": 1, "masker": "black", "partition": BLOCKS, "output": "probs", "seed": seed, **kw}
        return peephole.explain(interacting_model, img, "pami-path", **kws).maps[0]

    first = call(0)
    np.testing.assert_array_equal(call(0), first)
    assert rank_correlation(first, call(1)) > 0.95
    np.testing.assert_array_equal(call(2), first)
