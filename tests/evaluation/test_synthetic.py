"""The synthetic ground-truth set: known features, a small CNN that learns them, PAMI's maps find them."""

import numpy as np
import pytest

from peephole.evaluation.synthetic import PATTERNS, make_synthetic
from peephole.metrics.ground_truth import mask_auc, relevance_mass_accuracy


def test_the_set_is_seeded_balanced_and_its_masks_are_the_brightened_pixels() -> None:
    a, b = make_synthetic(8, seed=3), make_synthetic(8, seed=3)
    np.testing.assert_array_equal(a.images, b.images)
    assert np.bincount(a.labels).tolist() == [2] * len(PATTERNS)
    assert (a.masks.sum(axis=(1, 2)) == 4 * 9).all()  # four 3×3 cells each
    for img, m in zip(a.images, a.masks):
        assert img[m, 0].min() > img[~m, 0].max() - 0.3  # the pattern is brighter than most of the texture
        assert img[m, 0].mean() > img[~m, 0].mean() + 0.3


def test_an_oracle_map_scores_one_and_a_random_map_chance() -> None:
    data = make_synthetic(12, seed=1)
    rng = np.random.default_rng(0)
    assert all(mask_auc(m.astype(float), m) == 1.0 and relevance_mass_accuracy(m.astype(float), m) == 1.0 for m in data.masks)
    assert np.mean([mask_auc(rng.random(m.shape), m) for m in data.masks]) == pytest.approx(0.5, abs=0.06)


@pytest.fixture
def one_thread():
    torch = pytest.importorskip("torch", reason="the synthetic CNN needs torch (the models or lab extra)")
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # a small net trains faster on one thread than on a shared machine's cores
    yield
    torch.set_num_threads(n)


def test_pami_on_the_trained_cnn_finds_the_features(one_thread) -> None:
    import peephole
    from peephole.evaluation.synthetic import accuracy, train_cnn

    net = train_cnn(make_synthetic(400, seed=0))
    test = make_synthetic(4, seed=1)
    assert accuracy(net, make_synthetic(40, seed=1)) >= 0.9
    rng = np.random.default_rng(0)
    pami, chance = [], []
    for img, label, m in zip(test.images, test.labels, test.masks):
        e = peephole.explain(net, img, "pami", targets=[int(label)], output="logits", seed=0)
        pami.append(mask_auc(e.maps[0], m))
        chance.append(mask_auc(rng.random(m.shape), m))
    assert np.mean(pami) >= 0.9
    assert np.mean(pami) - np.mean(chance) >= 0.3
