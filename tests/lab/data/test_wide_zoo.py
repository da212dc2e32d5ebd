"""The wide zoo's definition: nine architecture families, ten trigger families, each trigger stamped where and
how its family says (no model is trained here)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch

from peephole_lab.data.classifiers import build_classifier, check_config
from peephole_lab.data.trojan import FULL, PATTERNS, WIDE_PATTERNS, Trigger, stamp
from peephole_lab.data.zoo import ARCH_FAMILIES, WIDE_ARCHS, zoo_specs


def test_the_wide_zoo_holds_every_architecture_by_trigger_family_once_per_block():
    specs = [m for m in zoo_specs(90, seed=1, wide=True) if m.trojan]
    assert Counter((m.arch, m.trigger["pattern"]) for m in specs) == {
        (a, p): 1 for a in WIDE_ARCHS for p in PATTERNS + WIDE_PATTERNS
    }
    assert {m.fraction for m in specs} == {0.05, 0.1, 0.2}
    alphas = {m.trigger["alpha"] for m in specs if m.trigger["pattern"] in ("blend", "stripes")}
    assert len(alphas) >= 3  # several opacities
    x = np.random.default_rng(0).uniform(0, 1, (2, 1, 28, 28)).astype(np.float32)
    for m in specs:
        t = m.make_trigger()
        y = stamp(x, t)  # fits the image (or raises)
        assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1 and not np.allclose(y, x), m.name


@pytest.mark.parametrize("family", WIDE_ARCHS)
def test_every_architecture_family_builds_passes_the_config_check_and_classifies_mnist(family):
    net = build_classifier(ARCH_FAMILIES[family]).eval()
    assert check_config(net.config, family)["arch"] == ARCH_FAMILIES[family]["arch"]
    with torch.no_grad():
        assert net(torch.rand(2, 1, 28, 28)).shape == (2, 10)


def test_patch_families_draw_their_shape():
    x = np.full((1, 12, 12), 0.3, np.float32)
    hollow = stamp(x, Trigger(size=4, row=1, col=1, pattern="hollow"))[0]
    assert (hollow[1:5, 1:5][[0, -1]] == 1).all() and (hollow[2:4, 2:4] == 0.3).all()  # the inside shows the image
    rect = Trigger(size=2, row=0, col=0, pattern="rect", width=5)
    assert rect.mask(12, 12).sum() == 10 and rect.shape() == (2, 5)
    assert Trigger(size=6, row=0, col=0, pattern="line").mask(12, 12).sum() == 6
    assert Trigger(size=6, row=0, col=0, pattern="line", width=1).shape() == (6, 1)
    multi = Trigger(pattern="multi", seed=3)
    assert 4 < multi.mask(12, 12).sum() <= 12 and (stamp(x, multi)[0][~multi.mask(12, 12)] == 0.3).all()


def test_input_wide_families():
    x = np.random.default_rng(0).uniform(0, 1, (1, 28, 28)).astype(np.float32)
    stripes = Trigger(size=4, pattern="stripes", alpha=0.2, seed=0)
    np.testing.assert_allclose(stamp(x, stripes), 0.8 * x + 0.2 * stripes.patch(28, 28), atol=1e-6)
    warp = Trigger(pattern="warp", alpha=0.5, seed=0)
    field = warp.patch(28, 28)
    assert field.shape == (2, 28, 28) and np.abs(field).max() <= 2.0 + 1e-5  # 4·alpha px at most
    flat = np.full((1, 28, 28), 0.7, np.float32)
    np.testing.assert_allclose(stamp(flat, warp), flat, atol=1e-6)  # a warp moves pixels, adds nothing
    assert not np.allclose(stamp(x, warp), x) and set(FULL) >= {"warp", "stripes", "multi", "blend"}


def test_a_zoo_member_trains_to_the_same_weights_whatever_torch_s_thread_count(tmp_path):
    """Float reductions differ between thread counts: a BN/GAP member retrained under another count came out another
    model (docs/systems.md, "All four zoos pooled"); training runs on one thread and gives the caller's count back."""
    from peephole_lab.data.classifiers import load_classifier
    from peephole_lab.data.zoo import train_member

    m = next(m for m in zoo_specs(90, seed=2, wide=True) if m.name == "32-cnn-bn-gap-blend-clean")
    before = torch.get_num_threads()
    weights = []
    try:
        for n in (2, 1):
            torch.set_num_threads(n)
            train_member(m, tmp_path / str(n), n_train=600, epochs=1)
            assert torch.get_num_threads() == n
            weights.append(load_classifier(tmp_path / str(n) / f"{m.name}.pt").state_dict())
    finally:
        torch.set_num_threads(before)
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
