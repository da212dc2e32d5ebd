"""The one-call facade and the Explanation result: options, bad input, saving and pictures."""

import numpy as np
import pytest
from conftest import RegionModel, textured_image

import peephole
from peephole.errors import InputError, ModelError

REGION = (slice(10, 30), slice(20, 50))
IMG = textured_image(64, 80)


def explain(model=None, **kw):
    kw = {"partition": "window", "radius": 10, "stride": 8, **kw}
    return peephole.explain(model or RegionModel(REGION), IMG, **kw)


def test_explanation_fields():
    e = explain(top_k=2)
    assert e.targets == [1, 0]  # the textured region makes class 1 the prediction
    assert e.prediction == 1 and e.name(1) == "textured region"
    assert e.maps.shape == (2, 64, 80) and e.scores.shape == (e.params["n_parts"], 2)
    assert e.top_classes(1)[0][0] == 1
    assert {"partition", "perturb", "query", "aggregate", "total"} <= set(e.timings)
    assert e.method == "pami" and e.first_run_maps is not None and e.second_run_maps is None


def test_save_overlay_and_figure(tmp_path):
    e = explain(top_k=2)
    paths = e.save(tmp_path, "img")
    assert sorted(p.name for p in paths) == sorted(
        ["img_top1_1_textured-region.png", "img_top1_1_textured-region.npy", "img_top2_0_other.png", "img_top2_0_other.npy"]
    )
    np.testing.assert_array_equal(np.load(tmp_path / "img_top2_0_other.npy"), e.maps[1])
    ov = e.overlay()
    assert ov.shape == (64, 80, 3) and ov.dtype == np.uint8
    assert not np.array_equal(e.overlay(0), e.overlay(1))
    fig = e.figure()
    assert len(fig.axes) == 3


def test_bad_targets_and_options():
    with pytest.raises(InputError, match="target class 2 is out of range: the model has 2 classes"):
        explain(targets=[1, 2])
    with pytest.raises(InputError, match="target class -1"):
        explain(targets=-1)
    with pytest.raises(InputError, match="unknown partition strategy 'grid'"):
        explain(partition="grid")
    with pytest.raises(InputError, match="unknown masker 'noise'"):
        explain(masker="noise")
    with pytest.raises(InputError, match="unknown method 'magic'"):
        peephole.explain(RegionModel(REGION), IMG, method="magic")
    with pytest.raises(InputError, match="batch_size must be >= 1"):
        explain(batch_size=0)
    with pytest.raises(InputError, match="smaller than the window"):
        explain(radius=40)
    with pytest.raises(InputError, match="label maps of shape"):
        explain(partition=np.zeros((10, 10), int))


def test_misbehaving_models_are_named():
    calls = {"n": 0}

    def fails_later(batch):
        calls["n"] += 1
        if calls["n"] > 2:
            raise ValueError("input tensor too large")
        return np.tile([0.3, 0.7], (len(batch), 1))

    with pytest.raises(ModelError, match=r"raised ValueError on parts \d+\.\.\d+: input tensor too large"):
        explain(fails_later, output="probs")
    with pytest.raises(ModelError, match="NaN or inf"):
        explain(lambda b: np.full((len(b), 2), np.nan), output="probs")
    with pytest.raises(ModelError, match="returned shape"):
        explain(lambda b: np.zeros((len(b) + 1, 2)), output="probs")


def test_batch_size_auto_and_explicit_give_the_same_map():
    a = explain(targets=1)
    b = explain(targets=1, batch_size=5)
    assert a.params["batch_size"] == RegionModel.preferred_batch_size and b.params["batch_size"] == 5
    np.testing.assert_allclose(a.maps, b.maps, atol=1e-6)


def test_map_for_any_class_after_the_fact():
    e = explain(targets=1)
    other = explain(targets=0)
    np.testing.assert_allclose(e.map_for(0), other.maps[0], atol=1e-6)
    with pytest.raises(IndexError):
        e.map_for(5)
