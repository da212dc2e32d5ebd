"""One contract over the whole registry: every method × every modality it declares (Captum's test_config idea).

Each case is a small model with an input of that modality; the contract: an Explanation whose maps have
the input's feature shape and are finite, carrying targets / class names / queries / timings / params;
the same seed gives the same maps; an unknown option is one InputError naming it and the valid ones;
save -> load round-trips every field; ``map_for`` of a non-target class equals explaining that class
directly (methods that keep per-query outputs) or says clearly that it cannot (the others).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from tiny_inputs import IMAGE

import peephole
from peephole.registry import METHODS
from peephole.result import FORMAT_VERSION

torch = pytest.importorskip("torch")

WORDS = ["a", "good", "film", "with", "a", "bad", "ending", "but", "good", "actors"]
SIGNAL = np.sin(np.arange(40) / 4.0).astype(np.float32)


def image_fn(batch: np.ndarray) -> np.ndarray:
    """3 classes scored by the mean brightness of three different regions (probabilities)."""
    b = np.asarray(batch, np.float64)
    s = np.stack([b[:, 4:12, 4:12].mean((1, 2, 3)), b[:, 16:28, 8:20].mean((1, 2, 3)), b[:, 20:30, 20:30].mean((1, 2, 3))], 1)
    return s / s.sum(1, keepdims=True)


def text_fn(texts: list[str]) -> np.ndarray:
    good = np.array([t.split().count("good") for t in texts], float)
    bad = np.array([t.split().count("bad") for t in texts], float)
    return np.stack([good - bad, bad - good + 0.5 * (good > 0) * (bad > 0)], 1)


def sequence_fn(batch: np.ndarray) -> np.ndarray:
    b = np.asarray(batch, np.float64)
    return np.stack([b[:, 5:15].sum(1), b[:, 25:35].sum(1) - 0.3 * b[:, 5:15].sum(1) * b[:, 25:35].sum(1)], 1)


def tiny_cnn():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 6, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Conv2d(6, 6, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(6, 3),
    ).eval()


#: Fast settings per method (the defaults are exercised by the methods' own tests).
FAST = {
    "pami": {"image": {"partition": "window", "radius": 6, "stride": 4}},
    "occlusion": {"image": {"radius": 6, "stride": 4}},
    "rise": {"image": {"n_masks": 40}},
    "hsic": {"image": {"n_designs": 40}, "text": {"n_designs": 40}},
    "sobol": {"image": {"n_designs": 4, "cells": 4}},
    "lime": {"image": {"n_samples": 40}, "text": {"n_samples": 40}, "sequence": {"n_samples": 40}},
    "kernel-shap": {"image": {"n_samples": 40}, "text": {"n_samples": 40}, "sequence": {"n_samples": 40}},
    "pami-path": {m: {"n_samples": 20, "max_queries": 60} for m in ("image", "text", "sequence")},
    "smoothgrad": {"image": {"n_samples": 3}},
    "integrated-gradients": {"image": {"n_steps": 4}},
    "input-agnostic": {"image": {"targets": [0, 1], "n_iter": 3, "fidelity_samples": 8, "refine_levels": [0.5], "batch_size": 4}},
    "fill-in-the-blanks": {"image": {"patch_size": 4, "n_masks": 2}},
}


def case(name: str, modality: str) -> tuple[object, object, dict, tuple[int, ...]]:
    """(model, input, explain keyword arguments, feature shape)."""
    spec = METHODS[name]
    opts = dict(FAST.get(name, {}).get(modality, {}))
    if spec.family != "perturbation":
        if name == "explainer":
            from peephole_lab.systems.explainer import ExplainerNet

            torch.manual_seed(0)
            opts["explainer"] = ExplainerNet(3, 3, 4, 1)
        return tiny_cnn(), IMAGE, {"output": "logits", "class_names": ["a", "b", "c"], **opts}, IMAGE.shape[:2]
    if modality == "image":
        return image_fn, IMAGE, {"output": "probs", "class_names": ["a", "b", "c"], **opts}, IMAGE.shape[:2]
    if modality == "text":
        kw = {"modality": "text", "output": "logits", "class_names": ["positive", "negative"], **opts}
        return text_fn, " ".join(WORDS), kw, (len(WORDS),)
    kw = {"modality": "sequence", "output": "scores", "class_names": ["early", "late"], "window": 4, "stride": 2, **opts}
    return sequence_fn, SIGNAL, kw, SIGNAL.shape


CASES = [(n, m) for n, s in METHODS.items() for m in s.modalities]
KEEPS_OUTPUTS = {"pami", "occlusion", "rise", "lime", "kernel-shap", "hsic", "sobol"}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize(("name", "modality"), CASES, ids=[f"{n}-{m}" for n, m in CASES])
def test_contract(name: str, modality: str, tmp_path) -> None:
    model, x, kw, shape = case(name, modality)
    e = peephole.explain(model, x, name, seed=3, **kw)
    assert isinstance(e, peephole.Explanation)
    assert e.method == name and e.modality == modality
    assert e.maps.shape == (len(e.targets), *shape) and e.maps.dtype == np.float32
    assert np.isfinite(e.maps).all()
    assert e.targets and all(0 <= t < len(e.probabilities) for t in e.targets)
    assert e.class_names == kw["class_names"]
    assert e.n_queries >= 1 and e.timings["total"] > 0
    json.dumps(e.params)  # params are data

    again = peephole.explain(model, x, name, seed=3, **kw)
    np.testing.assert_array_equal(again.maps, e.maps)

    with pytest.raises(peephole.InputError, match="unknown option 'no_such_option'.*valid options"):
        peephole.explain(model, x, name, no_such_option=1, **kw)

    loaded = peephole.load(e.save(tmp_path / "e.npz"))
    for field in ("method", "modality", "targets", "class_names", "n_queries", "params", "aggregator", "timings"):
        assert getattr(loaded, field) == getattr(e, field), field
    for field in ("maps", "probabilities", "scores"):
        np.testing.assert_array_equal(getattr(loaded, field), getattr(e, field))
    assert sorted(loaded.extras) == sorted(e.extras)
    for k, v in e.extras.items():
        np.testing.assert_array_equal(loaded.extras[k], v)
    if isinstance(e.input, np.ndarray):
        np.testing.assert_array_equal(loaded.input, e.input)
    else:
        assert loaded.input == e.input

    other = next(k for k in range(len(e.probabilities)) if k not in e.targets)
    if name in KEEPS_OUTPUTS:
        direct = peephole.explain(model, x, name, seed=3, **{**kw, "targets": [other]})
        np.testing.assert_allclose(e.map_for(other), direct.maps[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(loaded.map_for(other), direct.maps[0], rtol=1e-5, atol=1e-6)
    else:
        with pytest.raises(peephole.InputError, match="cannot rebuild another class's map"):
            loaded.map_for(other)


def test_every_family_and_modality_is_covered() -> None:
    assert {s.family for s in METHODS.values()} == {"perturbation", "gradient", "system"}
    assert {m for _, m in CASES} == {"image", "text", "sequence"}


def test_newer_format_is_refused(tmp_path) -> None:
    e = peephole.explain(image_fn, IMAGE, "pami", output="probs", partition="window", radius=6, stride=4)
    path = e.save(tmp_path / "e.npz")
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["__meta__"]))
    meta["version"] = FORMAT_VERSION + 1
    arrays["__meta__"] = np.array(json.dumps(meta))
    with open(tmp_path / "newer.npz", "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(peephole.InputError, match=f"format version {FORMAT_VERSION + 1}.*upgrade"):
        peephole.load(tmp_path / "newer.npz")


def test_load_refuses_foreign_files_and_foreign_classes(tmp_path) -> None:
    np.savez(tmp_path / "plain.npz", a=np.zeros(3))
    with pytest.raises(peephole.InputError, match="not a saved Peephole explanation"):
        peephole.load(tmp_path / "plain.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(peephole.InputError, match="cannot read"):
        peephole.load(tmp_path / "junk.npz")
    e = peephole.explain(image_fn, IMAGE, "pami", output="probs", partition="window", radius=6, stride=4)
    path = e.save(tmp_path / "e.npz")
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["__meta__"]))
    meta["partition"]["class"] = "os:system"
    arrays["__meta__"] = np.array(json.dumps(meta))
    with open(tmp_path / "evil.npz", "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(peephole.InputError, match="only Peephole classes"):
        peephole.load(tmp_path / "evil.npz")
