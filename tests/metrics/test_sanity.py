"""Energy pointing, the self-graded label, seed stability, random logit and MPRT on cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest

import peephole
from peephole.errors import InputError
from peephole.metrics import (
    energy_pointing,
    held_out_curves,
    held_out_fill,
    mprt,
    random_logit,
    rank_correlation,
    seed_stability,
    self_graded,
)

H = W = 16


def test_energy_pointing_is_the_share_of_positive_mass_in_the_region():
    region = np.zeros((H, W), bool)
    region[:4, :4] = True
    s = np.full((H, W), -1.0)
    s[:4, :4] = 3 / 16  # mass 3 inside
    s[8:12, 8:12] = 1 / 16  # mass 1 outside; the negative rest counts nothing
    assert energy_pointing(s, region) == pytest.approx(0.75)
    assert energy_pointing(np.ones((H, W)), region) == pytest.approx(16 / 256)
    assert np.isnan(energy_pointing(-np.ones((H, W)), region))
    with pytest.raises(InputError, match="does not match"):
        energy_pointing(np.ones((H, W + 1)), region)


def test_self_graded_needs_the_same_fill_and_the_same_regions():
    pami_path = {"masker": "blur", "partition": "slic", "n_segments": 50}
    assert self_graded(pami_path, {"fill": "blur", "regions": "pixels"})
    assert not self_graded(pami_path, {"fill": "grey", "regions": "pixels"})
    assert self_graded(pami_path, {"fill": "blur", "regions": "slic", "region_options": {"n_segments": 50}})
    assert not self_graded(pami_path, {"fill": "blur", "regions": "slic", "region_options": {"n_segments": 100}})
    assert not self_graded(pami_path, {"fill": "blur", "regions": "grid", "region_options": {"cells": 9}})
    assert not self_graded({"n_steps": 4}, {"fill": "blur", "regions": "pixels"})  # a gradient method has no fill
    assert (held_out_fill("blur"), held_out_fill("grey"), held_out_fill(None)) == ("grey", "blur", "blur")


def test_held_out_curves_score_a_saved_explanation_with_a_fill_it_did_not_search_with(tmp_path):
    def bright(batch):
        m = np.asarray(batch)[:, 4:8, 4:8, 0].mean((1, 2))
        return np.stack([m, 1 - m], 1)

    x = np.random.default_rng(0).random((H, W, 3)).astype(np.float32)
    e = peephole.load(peephole.explain(bright, x, "occlusion", radius=3, stride=4, output="probs").save(tmp_path / "e.npz"))
    assert e.params["masker"] == "blur"
    curves = held_out_curves(bright, e, output="probs", step=16)
    assert {c.params["fill"] for c in curves.values()} == {"grey"}
    assert not any(c.params["self_graded"] for c in curves.values())
    own = held_out_curves(bright, e, fill="blur", output="probs", step=16)
    assert all(c.params["self_graded"] for c in own.values())
    direct = peephole.metrics.insertion(bright, x, e.maps[0], e.targets[0], fill="grey", output="probs", step=16)
    np.testing.assert_array_equal(curves["insertion"].probabilities, direct.probabilities)


def test_rank_correlation_and_seed_stability():
    a = np.random.default_rng(0).random((H, W))
    assert rank_correlation(a, a**3) == pytest.approx(1.0)
    assert rank_correlation(a, -a) == pytest.approx(-1.0)
    assert seed_stability(lambda s: a, seeds=(0, 1, 2)) == pytest.approx([1.0, 1.0, 1.0])
    noisy = seed_stability(lambda s: np.random.default_rng(s).random((H, W)), seeds=(0, 1))
    assert abs(noisy[0]) < 0.2
    with pytest.raises(InputError, match="two seeds"):
        seed_stability(lambda s: a, seeds=(0,))


def test_random_logit_compares_the_target_with_a_seeded_other_class():
    maps = {k: np.random.default_rng(k).random((H, W)) for k in range(5)}
    other, rho = random_logit(maps.__getitem__, 2, 5, seed=0)
    assert other != 2 and random_logit(maps.__getitem__, 2, 5, seed=0) == (other, rho)
    assert rho == pytest.approx(rank_correlation(maps[2], maps[other]))
    assert random_logit(lambda k: maps[0], 2, 5)[1] == pytest.approx(1.0)  # a class-blind map fails the check


def test_mprt_randomises_a_copy_from_the_top_and_catches_a_model_blind_map():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4 * H * W, 2)
    ).eval()
    before = [p.detach().clone() for p in model.parameters()]
    x = np.random.default_rng(0).random((H, W, 3)).astype(np.float32)

    def occlusion(m):
        return peephole.explain(m, x, "occlusion", radius=2, stride=2, output="logits", targets=0).maps[0]

    out = mprt(model, occlusion, seed=0)
    assert [name for name, _ in out] == ["3", "0"]  # the Linear layer first, then the convolution
    assert out[-1][1] < 0.5  # the fully randomised model's map has little to do with the trained one's
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert [r for _, r in mprt(model, lambda m: x.mean(-1))] == pytest.approx([1.0, 1.0])  # blind to the model
    with pytest.raises(InputError, match="torch.nn.Module"):
        mprt(lambda b: b, occlusion)
    calls = []
    only = mprt(model, lambda m: calls.append(1) or occlusion(m), seed=0, layers=["0"])
    assert only == [out[-1]] and len(calls) == 2  # the cascade reaches the convolution; two maps, not three
    with pytest.raises(InputError, match="mprt layers must name layers with parameters of the model: 1"):
        mprt(model, occlusion, layers=["1"])  # the ReLU has none
