"""The method template's contract, over every perturbation method of the registry on every modality it declares.

An option is valid when the method's ``Options``, the chosen partition's or the chosen masker's takes it: any
other (a typo, or a window option with superpixels) is one InputError naming it and the valid ones, raised
before any query. Options at their defaults change nothing; ``params`` records every option once (the method's,
the partition's, the masker's, then n_parts / batch_size / seed) and round-trips through save and load. A new
method is one class: the test's keep-one method runs through the template from a registry-like row.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pytest
from tiny_inputs import FAST, IMAGE, INPUTS, image_fn

import peephole
from peephole.core.aggregate import Aggregator
from peephole.core.options import require, values
from peephole.errors import InputError
from peephole.methods.base import PerturbationMethod, Settings
from peephole.modalities import get_modality
from peephole.modalities.base import MaskerSpec
from peephole.modalities.image.maskers import ConstantMasker
from peephole.modalities.image.modality import ImageModality
from peephole.pipeline import Context, Request
from peephole.registry import ALL, METHODS, MethodSpec
from peephole.store import load

#: Small windows, for the image methods whose default partition is the window one.
SMALL_WINDOWS = {"radius": 6, "stride": 4}
TEMPLATED = [n for n, s in METHODS.items() if s.family == "perturbation" and isinstance(s.function, PerturbationMethod)]
CASES = [(n, m) for n in TEMPLATED for m in METHODS[n].modalities]
IDS = [f"{n}-{m}" for n, m in CASES]


def call(name: str, modality: str, **options: Any) -> peephole.Explanation:
    model, x, kw = INPUTS[modality]
    return peephole.explain(model, x, name, seed=1, **kw, **options)


def fast(name: str, modality: str) -> dict[str, Any]:
    chosen = get_modality(modality).defaults(name)["partition"]
    return {**FAST[name], **(SMALL_WINDOWS if modality == "image" and chosen == "window" else {})}


def test_every_perturbation_method_is_a_template() -> None:
    assert set(TEMPLATED) == {n for n, s in METHODS.items() if s.family == "perturbation"} == set(FAST)


@pytest.mark.parametrize(("name", "modality"), CASES, ids=IDS)
def test_unknown_options_are_one_error_naming_them_before_any_query(name: str, modality: str) -> None:
    calls = []

    def counting(batch: Any) -> np.ndarray:
        calls.append(len(batch))
        return INPUTS[modality][0](batch)

    _, x, kw = INPUTS[modality]
    with pytest.raises(InputError, match=r"unknown option 'no_such_option', 'typo' for method .*valid options: .*masker") as err:
        peephole.explain(counting, x, name, no_such_option=1, typo=2, **kw)
    assert str(err.value).count("unknown option") == 1
    assert not calls  # checked before the model is queried
    with pytest.raises(InputError, match="unknown option 'no_such_option'"):
        METHODS[name].check({"no_such_option": 1}, get_modality(modality))


@pytest.mark.parametrize("name", ["pami", "pami-path", "lime", "kernel-shap", "rise"])
def test_window_options_without_windows_are_an_error(name: str) -> None:
    """The default partition of these methods on images is not the windows (RISE takes none): radius= is not theirs."""
    with pytest.raises(InputError, match=r"unknown option 'radius' for method .*valid options") as err:
        call(name, "image", radius=10, **FAST[name])
    if name != "rise":
        assert "'radius' is an option of partition 'window'" in str(err.value)
    with pytest.raises(InputError, match="unknown option 'radius'"):
        METHODS[name].check({"radius": 10}, get_modality("image"))
    # and a superpixels option with windows
    with pytest.raises(InputError, match=r"unknown option 'segmentations'.*is an option of partition 'superpixels'"):
        call("occlusion", "image", segmentations=[], **SMALL_WINDOWS)


@pytest.mark.parametrize("name", ["pami", "pami-path", "lime", "kernel-shap", "occlusion"])
def test_window_options_with_windows_work(name: str) -> None:
    e = call(name, "image", partition="window", **SMALL_WINDOWS, **FAST[name])
    assert e.params["partition"] == "window" and e.params["radius"] == 6 and e.params["stride"] == 4
    with pytest.raises(InputError, match="unknown option 'radius'.*on text inputs"):
        call(name, "text", partition="windows", radius=2, **FAST[name])
    assert call(name, "text", partition="windows", window=2, **FAST[name]).params["window"] == 2


@pytest.mark.parametrize(("name", "modality"), CASES, ids=IDS)
def test_options_at_their_defaults_change_nothing_and_params_record_each_once(name: str, modality: str, tmp_path) -> None:
    method, mod = METHODS[name].function, get_modality(modality)
    given = fast(name, modality)
    e = call(name, modality, **given)
    s = method.settings(mod, given)
    expected = {f.name for f in fields(s.options)} | {f.name for f in fields(s.partition_options)}
    expected |= {f.name for f in fields(s.masker_options)} | {"masker", "n_parts", "batch_size", "seed"}
    expected |= {"partition"} if method.takes_partition else set()
    expected |= {"orders", "path_steps"} if name == "pami-path" else set()  # what the path found
    assert set(e.params) == expected
    assert e.params["masker"] == mod.defaults(name)["masker"]
    assert e.params["seed"] == 1 and e.params["n_parts"] >= 1
    for k, v in given.items():
        assert e.params[k] == v, k

    spelled_out = {**values(s.options), **values(s.partition_options), "masker": s.masker, **values(s.masker_options)}
    again = call(name, modality, **spelled_out, **({"partition": s.partition} if method.takes_partition else {}))
    np.testing.assert_array_equal(again.maps, e.maps)
    assert again.params == e.params

    loaded = load(e.save(tmp_path / "e.npz"))
    assert loaded.params == e.params
    np.testing.assert_array_equal(loaded.maps, e.maps)


def test_option_ranges_name_the_option_and_its_valid_range() -> None:
    for name, bad, message in [
        ("lime", {"n_samples": 1}, r"n_samples must be in \[2, 4194304\], got 1"),
        ("rise", {"n_masks": 2**40}, r"n_masks must be in \[1, 4194304\], got 1099511627776"),  # 2**40: a hang
        ("lime", {"kernel_width": 0}, r"kernel_width must be > 0, got 0"),
        ("kernel-shap", {"n_samples": "many"}, "n_samples must be an integer, got 'many'"),
        ("rise", {"p": 1.5}, r"p must be in \(0, 1\], got 1.5"),
        ("pami", {"coarse_share": 0}, r"coarse_share must be in \(0, 1\], got 0"),
        ("pami-path", {"candidates": 0}, "candidates must be >= 1, got 0"),
    ]:
        with pytest.raises(InputError, match=message):
            METHODS[name].check(bad, get_modality("image"))


def test_the_cli_sees_every_option_a_choice_of_partition_and_masker_allows() -> None:
    image = get_modality("image")
    pami = METHODS["pami"].options(image)
    assert {"partition", "masker", "second_run", "radius", "stride", "window", "segmentations", "n_segments"} <= set(pami)
    assert pami["window"] == "circle" and pami["radius"] is None and pami["partition"] is None  # radius: by image size
    rise = METHODS["rise"].options(image)
    assert "masker" in rise and "partition" not in rise and "radius" not in rise
    assert set(METHODS["lime"].options(get_modality("text"))) >= {"n_samples", "window", "stride"}


# --- a masker with options ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelOptions:
    level: float = 0.5

    def __post_init__(self) -> None:
        require("level", self.level, "in [0, 1]", lambda v: 0 <= v <= 1)


class LevelImages(ImageModality):
    """Images with one more masker: a grey of any ``level``."""

    maskers = {**ImageModality.maskers, "level": MaskerSpec("level", lambda o: ConstantMasker((o.level,) * 3), LevelOptions)}


def test_a_masker_option_is_valid_with_that_masker_only() -> None:
    images = LevelImages()
    kw = {"modality": images, "output": "probs", "partition": "window", **SMALL_WINDOWS}
    e = peephole.explain(image_fn, IMAGE, "pami", masker="level", level=0.25, **kw)
    grey = peephole.explain(image_fn, IMAGE, "pami", masker=ConstantMasker((0.25,) * 3), **kw)
    np.testing.assert_array_equal(e.maps, grey.maps)
    assert e.params["masker"] == "level" and e.params["level"] == 0.25 and grey.params["masker"] == "ConstantMasker"
    with pytest.raises(InputError, match=r"unknown option 'level'.*is an option of masker 'level'"):
        peephole.explain(image_fn, IMAGE, "pami", level=0.25, **kw)
    with pytest.raises(InputError, match=r"level must be in \[0, 1\], got 2"):
        peephole.explain(image_fn, IMAGE, "pami", masker="level", level=2, **kw)


# --- a new method is one class -----------------------------------------------------------------------------------


class Constant(Aggregator):
    """Every feature of every map: ``value`` (whatever the outputs)."""

    def __init__(self, partition: Any, reference: np.ndarray, value: float = 0.0) -> None:
        super().__init__(partition, reference, value=value)

    def add(self, start: int, masks: np.ndarray, scores: np.ndarray) -> None:
        return None

    def maps(self) -> np.ndarray:
        return np.full((self.n_targets, *self.shape), self.params["value"], np.float32)


@dataclass(frozen=True)
class KeepOneOptions:
    value: float = 0.5

    def __post_init__(self) -> None:
        require("value", self.value, ">= 0", lambda v: v >= 0)


class KeepOne(PerturbationMethod):
    """Keep one part at a time (the modality's partition and masker), paint a constant."""

    name = "keep-one"
    Options = KeepOneOptions

    def aggregator(self, ctx: Context, s: Settings) -> tuple[type[Aggregator], dict[str, Any]]:
        return Constant, {"value": s.options.value}


@pytest.mark.parametrize("modality", ALL)
def test_a_new_method_is_one_class_run_from_a_registry_row(modality: str) -> None:
    row = MethodSpec("keep-one", f"{KeepOne.__module__}:KeepOne", "perturbation", ALL, "keep one part, paint a constant")
    mod = get_modality(modality)
    model, x, kw = INPUTS[modality]
    options = {"value": 2.0, **({"partition": "window", **SMALL_WINDOWS} if modality == "image" else {})}
    row.check(options, mod)
    assert {"value", "partition", "masker"} <= set(row.options(mod))
    e = row.function(Request(model, x, mod, output=kw["output"], seed=4), **options)
    assert e.method == "keep-one" and (e.maps == 2.0).all()
    assert e.n_queries == e.params["n_parts"] + 1 and len(e.scores) == e.params["n_parts"]
    assert e.params["partition"] == ("window" if modality == "image" else mod.default_partition)
    assert e.params["value"] == 2.0 and e.params["masker"] == mod.default_masker and e.params["seed"] == 4
    with pytest.raises(InputError, match="unknown option 'radius' for method 'keep-one'"):
        row.check({"radius": 3}, mod)  # the default partition: superpixels, words or position windows
    with pytest.raises(InputError, match="value must be >= 0, got -1"):
        row.check({"value": -1}, mod)


def left_half(b: np.ndarray) -> np.ndarray:
    """p(class 0) = the brightness of the left half (a thin image's model)."""
    m = np.asarray(b, np.float64)[:, :, : b.shape[2] // 2].mean((1, 2, 3))
    return np.stack([m, 1 - m], 1)


def test_a_one_part_partition_warns_naming_the_fix():
    """A 3×1000 image gets one SLIC segment: a constant map, which used to come without a word."""
    thin = np.random.default_rng(0).random((3, 1000, 3)).astype(np.float32)
    with pytest.warns(UserWarning, match=r"'slic' partition has one part on this input of shape \(3, 1000\).*partition='window'"):
        e = peephole.explain(left_half, thin, "pami-path", partition="slic", output="probs", n_samples=12, max_queries=40)
    assert np.ptp(e.maps) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # several parts: no warning
        e = peephole.explain(
            left_half, thin, "pami-path", output="probs", partition="window", radius=1, stride=2, window="square"
        )
    assert np.ptp(e.maps) > 0


def test_the_one_part_warning_gives_each_input_kinds_own_advice():
    """A six-position sequence under 8-position windows was told to use an image's partition='window'."""

    def total(b):
        return np.asarray(b, np.float64).reshape(len(b), -1).sum(1, keepdims=True)

    with pytest.warns(UserWarning, match=r"one part on this input of shape \(6,\).*partition='single' .*'windows' with a"):
        peephole.explain(total, np.arange(6.0), "occlusion", modality="sequence", output="scores", window=8)
