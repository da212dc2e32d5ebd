"""Every option and argument of ``peephole.explain`` is type- and range-checked: a wrong value is one InputError
naming the option, the value and what is valid — never a TypeError from deep inside a method — and it is raised
before the model is queried. A seed is any integer in [0, 2**63): a large one works with every method (OpenCV,
which takes 32-bit seeds, gets one derived from it)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Literal, get_type_hints

import numpy as np
import pytest
from tiny_inputs import FAST, IMAGE, INPUTS, image_fn

import peephole
from peephole.core.options import fits, make, seed32
from peephole.errors import InputError
from peephole.methods.base import PerturbationMethod
from peephole.modalities import get_modality
from peephole.registry import METHODS

TEMPLATED = [n for n, s in METHODS.items() if s.family == "perturbation" and isinstance(s.function, PerturbationMethod)]
CASES = [(n, m) for n in TEMPLATED for m in METHODS[n].modalities]
IDS = [f"{n}-{m}" for n, m in CASES]


def fast(name: str, modality: str) -> dict[str, Any]:
    chosen = get_modality(modality).defaults(name)["partition"]
    return {**FAST[name], **({"radius": 6, "stride": 4} if modality == "image" and chosen == "window" else {})}


class Counting:
    """A model that counts its calls."""

    def __init__(self, fn: Any) -> None:
        self.fn, self.calls = fn, 0

    def __call__(self, batch: Any) -> np.ndarray:
        self.calls += 1
        return self.fn(batch)


# --- the hostile review's examples -------------------------------------------------------------------------
EXAMPLES = [
    ("occlusion", {"seed": None}, "seed must be an integer with 0 <= seed < 2\\*\\*63, got None"),
    ("occlusion", {"seed": -1}, "seed must be .*, got -1"),
    ("occlusion", {"seed": 2**63}, "seed must be .*, got 9223372036854775808"),
    ("occlusion", {"seed": True}, "seed must be .*, got True"),
    ("occlusion", {"seed": 1.0}, "seed must be .*, got 1.0"),
    ("occlusion", {"radius": 6, "stride": 6.5}, "stride must be an integer or None, got 6.5"),
    ("occlusion", {"radius": 6, "stride": "6"}, "stride must be an integer or None, got '6'"),
    ("occlusion", {"radius": 6, "stride": True}, "stride must be an integer or None, got True"),
    ("occlusion", {"radius": 6, "stride": 0}, "stride must be >= 1, got 0"),
    ("occlusion", {"radius": 6, "window": "hexagon"}, "window must be 'circle' or 'square', got 'hexagon'"),
    ("occlusion", {"top_k": 1.5}, "top_k must be >= 1 \\(an integer\\), got 1.5"),
    ("occlusion", {"top_k": 0}, "top_k must be >= 1 \\(an integer\\), got 0"),
    ("occlusion", {"batch_size": 2.0}, "batch_size must be in \\[1, 4194304\\] \\(an integer, or None\\), got 2.0"),
    ("occlusion", {"batch_size": 2**40}, "batch_size must be in \\[1, 4194304\\] \\(an integer, or None\\), got 1099511627776"),
    ("occlusion", {"progress": "yes"}, "progress must be True or False, got 'yes'"),
    ("occlusion", {"output": "probabilities"}, "output must be None or one of 'probs', 'logits', 'scores', got 'probabilities'"),
    ("occlusion", {"targets": [None]}, "targets must be a class index or name.*got None"),
    ("occlusion", {"targets": [0, None]}, "targets must be a class index or name.*got None"),
    ("occlusion", {"targets": 1.5}, "targets must be a class index or name.*got 1.5"),
    ("occlusion", {"targets": True}, "targets must be a class index or name.*got True"),
    ("occlusion", {"targets": []}, "targets is empty"),
    ("occlusion", {"targets": np.array(1)}, "targets must be a class index or name.*got an array of shape \\(\\)"),
    ("occlusion", {"targets": {0: 1}}, "targets must be a class index or name.*got \\{0: 1\\}"),
    (
        "pami",
        {"partition": "superpixels", "segmentations": ["slic"]},
        "segmentations must be a list of Segmentation, got \\['slic'\\]",
    ),
    ("pami", {"partition": "superpixels", "segmentations": "slic"}, "segmentations must be a list of Segmentation, got 'slic'"),
    ("pami", {"partition": "slic", "n_segments": 0}, "n_segments must be >= 1, got 0"),
    ("pami", {"partition": "slic", "compactness": -1.0}, "compactness must be a finite number > 0, got -1.0"),
    ("pami-path", {"segments": ()}, "segments must be one or more counts, each >= 1, got \\(\\)"),
    ("pami-path", {"segments": (40, 0)}, "segments must be one or more counts, each >= 1, got \\(40, 0\\)"),
    ("pami-path", {"segments": 40}, "segments must be a list of an integer, got 40"),
    ("lime", {"kernel_width": 0}, "kernel_width must be > 0, got 0"),
    ("lime", {"kernel_width": -1}, "kernel_width must be > 0, got -1"),
    ("lime", {"kernel_width": "wide"}, "kernel_width must be a number, got 'wide'"),
    ("lime", {"alpha": -1}, "alpha must be a finite number >= 0, got -1"),
    ("lime", {"alpha": float("inf")}, "alpha must be a finite number >= 0, got inf"),  # Ridge refused it after the queries
    ("lime", {"alpha": float("nan")}, "alpha must be a finite number >= 0, got nan"),
    ("lime", {"density": 1}, "density must be True or False, got 1"),
    ("lime", {"n_samples": 30.0}, "n_samples must be an integer, got 30.0"),
    ("pami", {"max_queries": 50.5}, "max_queries must be an integer or None, got 50.5"),
    ("occlusion", {"class_names": "ab"}, "class_names must be None or a list of strings .*got 'ab'"),
    ("occlusion", {"class_names": [1, 2]}, "class_names must be None or a list of strings .*got \\[1, 2\\]"),
]


@pytest.mark.parametrize(("method", "kw", "message"), EXAMPLES, ids=[f"{m}-{sorted(k.items())}" for m, k, _ in EXAMPLES])
def test_each_bad_value_is_one_input_error_naming_it_before_any_query(method: str, kw: dict[str, Any], message: str) -> None:
    model = Counting(image_fn)
    with pytest.raises(InputError, match=message):
        peephole.explain(model, IMAGE, method, **{"output": "probs", **kw})
    assert model.calls == 0


def test_numpy_integers_are_integers() -> None:
    e = peephole.explain(image_fn, IMAGE, "occlusion", output="probs", radius=np.int64(6), stride=np.int32(4), seed=np.uint64(3))
    assert e.params["stride"] == 4 and e.params["seed"] == 3
    e = peephole.explain(
        image_fn, IMAGE, "occlusion", output="probs", radius=6, stride=4, targets=np.array([1, 0]), top_k=np.int64(1)
    )
    assert e.targets == [1, 0]


def test_fits_and_make() -> None:
    assert fits(3, int) and fits(np.int8(3), int) and not fits(True, int) and not fits(3.0, int) and not fits("3", int)
    assert fits(3, float) and fits(np.float32(0.5), float) and not fits(False, float) and not fits("0.5", float)
    assert fits(np.bool_(True), bool) and not fits(1, bool)
    mode = Literal["both", "insertion"]
    assert fits("both", mode) and fits(np.str_("both"), mode) and not fits("b", mode)
    assert not fits(np.array(["both", "both"]), mode)  # an array's == is elementwise: it raised "truth value ... ambiguous"
    assert not fits(1, Literal[True]) and fits(True, Literal[True])
    assert (
        fits(None, int | None) and fits([1, 2], list[int]) and not fits("ab", list[str]) and not fits([1, "a"], tuple[int, ...])
    )
    from peephole.methods.lime import LimeOptions

    assert make(LimeOptions, n_samples=10).n_samples == 10
    with pytest.raises(InputError, match="alpha must be a number, got None"):
        make(LimeOptions, alpha=None)


def test_seed32_is_the_seed_below_2_31_and_a_fixed_derived_one_above() -> None:
    assert seed32(0) == 0 and seed32(2**31 - 1) == 2**31 - 1
    big = seed32(2**40)
    assert 0 <= big < 2**31 and big == seed32(2**40) and big != seed32(2**40 + 1)


# --- every option of every perturbation method, with a wrong type --------------------------------------------
def wrong(tp: Any) -> Any:
    """A value that does not fit ``tp``."""
    for candidate in ("x", 6.5, None, [object()]):
        if not fits(candidate, tp):
            return candidate
    raise AssertionError(f"no wrong value for {tp}")


def sweep() -> list[tuple[str, str, dict[str, Any], str]]:
    """(method, modality, the options choosing the group, the field) for every option of the method, of every
    partition it may take and of every masker on every modality the method runs on."""
    out = []
    for name, modality in CASES:
        method = METHODS[name].function
        mod = get_modality(modality)
        groups: list[tuple[dict[str, Any], type]] = [({}, method.Options)]
        if method.takes_partition:
            groups += [({"partition": p}, s.Options) for p, s in mod.partitions.items()]
        groups += [({"masker": m}, s.Options) for m, s in mod.maskers.items()]
        for chooser, options in groups:
            hints = get_type_hints(options)
            out += [(name, modality, {**chooser, f.name: wrong(hints[f.name])}, f.name) for f in fields(options)]
    return out


SWEEP = sweep()


@pytest.mark.parametrize(("method", "modality", "kw", "field"), SWEEP, ids=[f"{m}-{mo}-{f}-{sorted(k)}" for m, mo, k, f in SWEEP])
def test_every_option_with_a_wrong_type_is_an_input_error(method: str, modality: str, kw: dict[str, Any], field: str) -> None:
    fn, x, base = INPUTS[modality]
    model = Counting(fn)
    with pytest.raises(InputError, match=f"^{field} must be .*, got {kw[field]!r}".replace("[", "\\[").replace("(", "\\(")):
        peephole.explain(model, x, method, **base, **kw)
    assert model.calls == 0


def test_the_sweep_covers_every_method_and_modality() -> None:
    assert {(m, mo) for m, mo, _, _ in SWEEP} == set(CASES)
    assert len(SWEEP) >= 20


# --- a large seed works everywhere ---------------------------------------------------------------------------
BIG = [(n, m, fast(n, m)) for n, m in CASES] + [
    ("pami", "image", {"partition": "slic", "n_segments": 8}),
    ("lime", "image", {"n_samples": 30}),  # lime's default image partition: SLIC (OpenCV's seed)
]


@pytest.mark.parametrize(("method", "modality", "kw"), BIG, ids=[f"{n}-{m}-{sorted(k)}" for n, m, k in BIG])
@pytest.mark.parametrize("seed", [2**40, 2**63 - 1])
def test_a_large_seed_works_with_every_method(method: str, modality: str, kw: dict[str, Any], seed: int) -> None:
    fn, x, base = INPUTS[modality]
    e = peephole.explain(fn, x, method, seed=seed, **base, **kw)
    assert e.params["seed"] == seed and np.isfinite(e.maps).all()
    again = peephole.explain(fn, x, method, seed=seed, **base, **kw)
    np.testing.assert_array_equal(e.maps, again.maps)


@pytest.mark.parametrize("command", ["explain", "run"])
def test_the_commands_refuse_a_bad_seed_before_any_work(tmp_path, capsys, command: str) -> None:
    from peephole.cli import main

    out = str(tmp_path / "out")
    args = [command, str(tmp_path), "--model", "runs_fixtures:make_toy", "--out", out, "--seed", "-1"]
    assert main(args) == 2
    assert "error: seed must be an integer with 0 <= seed < 2**63, got -1" in capsys.readouterr().err


def test_a_method_that_is_a_function_has_its_keyword_arguments_type_checked() -> None:
    from peephole.pipeline import check_function_options

    def smooth(req: Any, n_samples: int = 25, noise: float = 0.15, layer: str | None = None) -> None: ...

    check_function_options(smooth, {"n_samples": np.int16(3), "noise": 1, "layer": None})
    wrong = [({"n_samples": 2.5}, "n_samples must be an integer, got 2.5"), ({"layer": 3}, "layer must be a string or None")]
    for bad, message in wrong:
        with pytest.raises(InputError, match=message):
            check_function_options(smooth, bad)


@pytest.mark.parametrize("modality", ["image", "text", "sequence"])
@pytest.mark.parametrize("partition", [True, 1.5, 7, [[0], [1, [2]]], [["a"]], [[1.5]]], ids=repr)
def test_a_partition_that_is_no_partition_is_one_input_error(modality: str, partition: Any) -> None:
    """Found by tests/test_fuzz.py: ``partition=True`` used to raise TypeError ('bool' object is not iterable), a
    ragged list numpy's ValueError, and ``[[1.5]]`` was cut to position 1."""
    fn, x, kw = INPUTS[modality]
    with pytest.raises(InputError, match="partition|parts? |label maps"):
        peephole.explain(fn, x, "pami", partition=partition, **kw)


def test_a_ragged_list_as_an_image_is_one_input_error() -> None:
    with pytest.raises(InputError, match="the input image is not an array"):
        peephole.explain(image_fn, [[1, 2], [3]], "pami", output="probs", modality="image")
