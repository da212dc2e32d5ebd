"""TABOR (Guo et al., arXiv:1908.01763) on the clean / BadNets MNIST CNNs of the systems tests."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from systems_fixtures import TARGET, TRIGGER, clean_cnn, generic_pool, single_thread, trojaned_cnn  # noqa: F401

from peephole.errors import InputError
from peephole_lab.systems.backdoor import BackdoorReport, scan_backdoor
from peephole_lab.systems.tabor import (
    CALIBRATED_THRESHOLD,
    GAP_THRESHOLD,
    SIZE_THRESHOLD,
    gap_anomaly,
    gap_rule,
    margin_below_others,
    size_anomaly,
    size_rule,
    smoothness,
    tabor,
    trigger_scores,
)
from peephole_lab.systems.trigger_transfer import GATE, natural_anomaly

pytestmark = pytest.mark.usefixtures("single_thread")


def test_the_default_scan_is_tabor_by_trigger_size_gap_and_transfer_and_flags_the_trojan_not_its_clean_twin():
    troj = scan_backdoor(trojaned_cnn())  # the library's default scan, as `peephole backdoor` runs it
    assert troj.method == "tabor-natural" and troj.threshold == GAP_THRESHOLD
    transfer = troj.measures["transfer"]
    assert np.isfinite(transfer).sum() == 3 and transfer[TARGET] < GATE  # the BadNets trigger fools no clean model
    assert troj.anomaly == pytest.approx(natural_anomaly(troj.measures["mask_l1"], transfer >= GATE, 784))
    assert troj.flagged == [TARGET], troj.table()
    assert gap_rule(troj).flagged == [TARGET]  # the previous default agrees here
    index = troj.measures["tabor_index"]  # the MAD index of TABOR's score: the previous default and the paper's rule
    assert index.argmax() == TARGET and index[TARGET] > CALIBRATED_THRESHOLD > 2.0
    assert troj.measures["mask_l1"][TARGET] < np.exp(3.5)  # the rule's 33.1 pixels
    assert troj.explanation is None and "concentration" not in troj.measures  # not the input-agnostic scan
    assert troj.measures["tabor_score"].argmin() == TARGET
    assert troj.measures["trigger_success"][TARGET] >= 0.9
    mask = troj.extras["masks"][TARGET]
    assert mask[TRIGGER.mask(28, 28)].sum() > 0.5 * mask.sum()
    clean = scan_backdoor(clean_cnn())
    assert clean.flagged == [] and clean.measures["tabor_index"].max() <= 2.0, clean.table()
    assert size_rule(clean).flagged == [] and size_rule(troj).flagged == [TARGET]  # the previous default agrees here
    assert scan_backdoor(clean_cnn(), "tabor-calibrated", epochs=1, classes=[0, 1, 2]).threshold == CALIBRATED_THRESHOLD
    assert tabor(clean_cnn(), classes=[0, 1, 2], epochs=1, steps=1).method == "tabor"  # the paper's rule stays selectable


def test_regularisers_change_the_search_and_weights_are_checked():
    x = generic_pool()[:100]
    plain = tabor(trojaned_cnn(), x, classes=[0, 1, TARGET], epochs=2, steps=2, weights=(0,) * 6)
    reg = tabor(trojaned_cnn(), x, classes=[0, 1, TARGET], epochs=2, steps=2, weights=(1e-2, 1e-2, 1e-2, 1e-2, 1e-2, 1.0))
    assert not np.allclose(plain.extras["masks"], reg.extras["masks"])
    with pytest.raises(InputError, match="6 non-negative weights"):
        tabor(trojaned_cnn(), weights=(1.0, 2.0))


def test_trigger_score_prefers_a_small_smooth_working_trigger():
    # a 3-class "model" that answers class 2 whenever the top-left 3×3 block is bright
    class Toy(torch.nn.Module):
        def forward(self, x):
            corner = x[:, 0, :3, :3].mean((1, 2))
            return torch.stack([torch.zeros_like(corner), 0.1 * torch.ones_like(corner), 10 * (corner - 0.5)], 1)

    from peephole.gradients.differentiable import as_differentiable

    dm = as_differentiable(Toy(), "test")
    x = torch.zeros(8, 1, 8, 8)
    small = np.zeros((8, 8), np.float32)
    small[:3, :3] = 1
    big = np.ones((8, 8), np.float32)
    masks = np.stack([big, big, small])
    noise = np.random.default_rng(0).uniform(0, 1, (2, 1, 8, 8)).astype(np.float32)  # large, scattered triggers
    patterns = np.concatenate([noise, np.ones((1, 1, 8, 8), np.float32)])
    s = trigger_scores(dm, x, [0, 1, 2], masks, patterns)
    assert s["trigger_success"][2] == 1.0 and s["crop_accuracy"][2] == 1.0
    assert s["tabor_score"].argmin() == 2
    assert float(smoothness(torch.ones(4, 4))) == 0.0 and float(smoothness(torch.eye(2))) == 4.0


def test_size_rule_flags_masks_smaller_than_33_pixels_of_a_28x28_image():
    """The default decision rule on a hand-made per-class table: anomaly log(H·W / ‖M‖₁), flagged above
    SIZE_THRESHOLD, i.e. ‖M‖₁ < e^3.5 = 33.12 px on 28×28 (the same area fraction on other sizes)."""
    l1 = np.array([9.0, 33.0, 33.2, 80.0])
    assert size_anomaly(l1, 1) == pytest.approx(-np.log(l1))
    assert abs(SIZE_THRESHOLD - (np.log(784) - 3.5)) < 1e-12
    index = np.array([4.0, 0.5, 0.2, -1.0])

    def report(h, w):
        masks = np.zeros((4, h, w), np.float32)
        return BackdoorReport("tabor", [0, 1, 2, 3], index, np.ones(4, bool), 2.0, {"mask_l1": l1}, extras={"masks": masks})

    r = size_rule(report(28, 28))
    assert r.method == "tabor-size" and r.threshold == SIZE_THRESHOLD
    assert r.anomaly == pytest.approx(np.log(784 / l1)) and r.flagged == [0, 1]
    assert list(r.measures["tabor_index"]) == list(index) and list(r.measures["mask_l1"]) == list(l1)
    assert size_rule(report(14, 14)).flagged == []  # 9 px is more than 4.2 % of a 14×14 image
    assert size_rule(report(28, 28), threshold=np.log(784 / 50)).flagged == [0, 1, 2]


def test_gap_rule_adds_how_far_a_mask_lies_under_every_other_class():
    """The default decision rule: log(H·W / L_c) + log(min_{c'≠c} L_c' / L_c) above GAP_THRESHOLD = log(H·W) − 3.2,
    i.e. L_c² / L_next < e^3.2 ≈ 24.5 px on 28×28."""
    assert abs(GAP_THRESHOLD - (np.log(784) - 3.2)) < 1e-12
    # a 35.9 px mask with the next at 115 px (the seed-4 zoo's missed deep-CNN blend): over 33.1 px, yet flagged
    lone = np.array([35.9, 115.0, 130.0, 200.0])
    assert gap_anomaly(lone, 784) == pytest.approx(np.log(784 / lone) + np.log([115 / 35.9, 35.9 / 115, 35.9 / 130, 35.9 / 200]))
    # two masks of 30 px: under 33.1 px (the size rule flags both) but no gap, and 30² / 30 > 24.5 px
    twins = np.array([30.0, 30.0, 90.0, 120.0])
    masks = np.zeros((4, 28, 28), np.float32)

    def report(l1):
        return BackdoorReport("tabor", [0, 1, 2, 3], -l1, np.ones(4, bool), 2.0, {"mask_l1": l1}, extras={"masks": masks})

    assert gap_rule(report(lone)).flagged == [0] and size_rule(report(lone)).flagged == []
    assert gap_rule(report(twins)).flagged == [] and size_rule(report(twins)).flagged == [0, 1]
    r = gap_rule(report(lone))
    assert r.method == "tabor-gap" and r.threshold == GAP_THRESHOLD and list(r.measures["tabor_index"]) == list(-lone)
    assert gap_rule(report(twins), threshold=np.log(784) - 3.5).flagged == [0, 1]  # 30² / 30 < e^3.5


def test_margin_below_others_is_the_distance_to_the_smallest_other_entry():
    assert list(margin_below_others([3.0, 1.0, 2.0])) == [-2.0, 1.0, -1.0]
    assert list(margin_below_others([2.0, 2.0, 5.0])) == [0.0, 0.0, -3.0]  # a tie: no entry below the others
    assert list(margin_below_others([4.0, 1.0])) == [-3.0, 3.0]
