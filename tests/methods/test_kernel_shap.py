"""KernelSHAP against exact Shapley values computed by brute force over all coalitions."""

from __future__ import annotations

from itertools import combinations
from math import comb, factorial

import numpy as np
import pytest

import peephole
from peephole.methods.kernel_shap import ShapleyFit, shapley_kernel, shapley_samples
from peephole.methods.surrogate import LimeFit


def exact_shapley(value, m: int) -> np.ndarray:
    """φ_j = Σ_S |S|!(m−|S|−1)!/m! · (v(S ∪ {j}) − v(S)) over every coalition S without j."""
    phi = np.zeros(m)
    for j in range(m):
        others = [i for i in range(m) if i != j]
        for k in range(m):
            w = factorial(k) * factorial(m - k - 1) / factorial(m)
            for s in combinations(others, k):
                phi[j] += w * (value(set(s) | {j}) - value(set(s)))
    return phi


def game(x: np.ndarray) -> np.ndarray:
    """A non-additive black box on rows of 6 features (hidden features are 0): pairs, an AND, a max."""
    return (
        2 * x[:, 0]
        - x[:, 1]
        + 3 * x[:, 2] * x[:, 3]  # AND: worth something only when both are present
        + np.maximum(x[:, 4], x[:, 5])  # OR-like: either alone is enough
        + 0.5 * x[:, 0] * x[:, 4] * x[:, 5]
    )[:, None]


X = np.array([1.0, 2.0, 0.5, 1.5, 0.8, 1.2])


def value(coalition: set[int]) -> float:
    keep = np.array([i in coalition for i in range(6)], float)
    return float(game((X * keep)[None])[0, 0])


def test_kernel_shap_equals_exact_shapley_values_when_every_coalition_is_enumerated() -> None:
    e = peephole.explain(game, X, "kernel-shap", modality="sequence", output="scores", partition="single", n_samples=64)
    assert e.n_queries == 1 + 2**6  # f(x), then every coalition once
    np.testing.assert_allclose(e.maps[0], exact_shapley(value, 6), atol=1e-6)


def test_and_interaction_is_shared_equally_where_keep_and_hide_marginals_differ() -> None:
    phi = exact_shapley(value, 6)
    # the AND term 3·x2·x3 = 2.25: keep-one marginals give 0 to each, hide-one give 2.25 to each, Shapley 1.125
    assert phi[2] == pytest.approx(1.125) and phi[3] == pytest.approx(1.125)
    e = peephole.explain(game, X, "kernel-shap", modality="sequence", output="scores", partition="single", n_samples=64)
    assert e.maps[0][2] == pytest.approx(1.125) and e.maps[0][3] == pytest.approx(1.125)
    pami = peephole.explain(game, X, "pami", modality="sequence", output="scores", partition="single")
    occ = peephole.explain(game, X, "occlusion", modality="sequence", output="scores", partition="single")
    assert pami.maps[0][2] == pytest.approx(0.0) and occ.maps[0][2] == pytest.approx(2.25)


def test_sampled_kernel_shap_keeps_efficiency_exactly_and_is_exact_on_an_additive_model() -> None:
    w = np.array([0.3, -1.0, 2.0, 0.5, 0.0, 1.5, -0.7, 0.2])
    x = np.linspace(0.5, 2.0, 8)

    def additive(b: np.ndarray) -> np.ndarray:
        return (np.asarray(b) @ w)[:, None]

    e = peephole.explain(additive, x, "kernel-shap", modality="sequence", output="scores", partition="single", n_samples=60)
    distinct = len({row.tobytes() for row in e.partition.z})
    assert len(e.scores) == 60 < 2**8 and e.n_queries == 1 + distinct  # sampled, not enumerated; repeats queried once
    np.testing.assert_allclose(e.maps[0], w * x, atol=1e-6)
    nonlinear = peephole.explain(game, X, "kernel-shap", modality="sequence", output="scores", partition="single", n_samples=30)
    assert nonlinear.maps[0].sum() == pytest.approx(value(set(range(6))) - value(set()), abs=1e-5)


def test_works_on_images_and_texts_without_further_code() -> None:
    img = np.zeros((8, 8, 3), np.float32)
    img[:4, :4], img[4:, 4:] = 0.9, 0.4
    labels = (np.arange(8)[:, None] // 4) * 2 + np.arange(8)[None] // 4  # four 4×4 quadrants

    def bright(b: np.ndarray) -> np.ndarray:
        b = np.asarray(b)
        return np.stack([b[:, :4, :4].mean((1, 2, 3)) * b[:, 4:, 4:].mean((1, 2, 3)), b.mean((1, 2, 3))], 1)

    e = peephole.explain(bright, img, "kernel-shap", output="scores", partition=labels, masker="black", n_samples=16)
    quad = [e.maps[0][labels == q].mean() for q in range(4)]
    # the AND of quadrants 0 and 3 (0.9 · 0.4 = 0.36 when both shown) is split equally; the others get 0
    assert quad == pytest.approx([0.18, 0.0, 0.0, 0.18], abs=1e-6)

    def counts(texts: list[str]) -> np.ndarray:
        return np.array([[t.split().count("good") - t.split().count("bad")] for t in texts], float)

    t = peephole.explain(counts, "good plot bad acting good music", "kernel-shap", modality="text", output="scores", n_samples=64)
    np.testing.assert_allclose(t.maps[0], [1, 0, -1, 0, 1, 0], atol=1e-6)


def test_kernelshap_swaps_only_sampling_kernel_and_fit_of_lime() -> None:
    assert issubclass(ShapleyFit, LimeFit)
    assert ShapleyFit.add is LimeFit.add and ShapleyFit.maps is LimeFit.maps
    z = shapley_samples(4, 100, seed=0)
    assert len(z) == 16 and z[0].all() and not z[1].any() and len({r.tobytes() for r in z}) == 16
    w = shapley_kernel(z)
    assert np.isinf(w[:2]).all() and w[2:] == pytest.approx([3 / (comb(4, k) * k * (4 - k)) for k in z[2:].sum(1)])
    sampled = shapley_samples(10, 50, seed=1)
    assert sampled.shape == (50, 10) and sampled[0].all() and not sampled[1].any()
    assert sampled[2:].sum(1).min() > 0 and sampled[2:].sum(1).max() < 10  # never the empty or full coalition again
    np.testing.assert_array_equal(sampled, shapley_samples(10, 50, seed=1))


# Two groupings of the 6 features of X (as PAMI's segmentations overlap): singletons, and pairs.
SINGLES_AND_PAIRS = [np.arange(6), np.array([0, 0, 1, 1, 2, 2])]


def pair_value(coalition: set[int]) -> float:
    return value({f for p in coalition for f in (2 * p, 2 * p + 1)})


@pytest.mark.parametrize("density", [False, True])
def test_grouped_kernel_shap_is_each_groups_exact_shapley_values_averaged(density) -> None:
    from peephole.core.partition import LabelPartition

    part = LabelPartition(SINGLES_AND_PAIRS)
    kw = {"modality": "sequence", "output": "scores", "partition": part, "density": density}
    e = peephole.explain(game, X, "kernel-shap", n_samples=128, **kw)
    assert len(e.scores) == 2**6 + 2**3  # each group enumerated its own coalitions (the pairs need only 8)
    singles, pairs = exact_shapley(value, 6), np.repeat(exact_shapley(pair_value, 3), 2)
    np.testing.assert_allclose(e.maps[0], (singles + (pairs / 2 if density else pairs)) / 2, atol=1e-6)
    # the AND pair (features 2, 3) is one part of the second grouping: its whole 2.25 goes to that part
    assert exact_shapley(pair_value, 3)[1] == pytest.approx(2.25)


def test_grouped_samples_split_the_budget_and_keep_each_block_inside_its_group() -> None:
    from peephole.core.partition import LabelPartition
    from peephole.errors import InputError
    from peephole.methods.surrogate import grouped_samples, lime_samples

    part = LabelPartition([np.arange(12) % 5, np.arange(12) // 4, np.arange(12) % 2])  # 5, 3 and 2 parts
    z, rows = grouped_samples(part, 31, lime_samples, seed=3)
    assert z.shape == (31, 10) and np.bincount(rows).tolist() == [11, 10, 10]
    assert not (z & (part.groups[None, :] != rows[:, None])).any()  # a block keeps only its group's parts
    np.testing.assert_array_equal(z[rows == 1][:, part.groups == 1], lime_samples(3, 10, seed=4))
    with pytest.raises(InputError, match="too few for 3 groups"):
        grouped_samples(part, 5, lime_samples)
