"""PAMI on 1-D arrays: a time series whose class depends on a known interval, tabular feature groups."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from peephole import explain, load
from peephole.errors import InputError
from peephole.modalities.sequence import ConstantBaseline, FeatureBaseline, IndexPartition, feature_groups, window_starts, windows

T, LO, HI = 200, 120, 140  # the class depends only on the signal inside [LO, HI)


def interval_model(batch: np.ndarray) -> np.ndarray:
    """p(event) = sigmoid(energy inside [LO, HI) - 2): a burst there means class 1, anything elsewhere is ignored."""
    x = np.asarray(batch, dtype=np.float64)
    energy = (x[:, LO:HI] ** 2).mean(axis=1) if x.ndim == 2 else (x[:, LO:HI] ** 2).mean(axis=(1, 2))
    p = 1 / (1 + np.exp(-(8 * energy - 2)))
    return np.stack([1 - p, p], axis=1)


def signal(channels: int | None = None) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(T)
    x = 0.3 * np.sin(t / 5) + 0.05 * rng.standard_normal(T)
    x[LO:HI] += np.sin(t[LO:HI] * 1.3)  # the burst the model looks for
    x[30:50] += 2.0 * np.sin(t[30:50] * 1.3)  # a larger burst the model ignores
    return x if channels is None else np.repeat(x[:, None], channels, axis=1)


def test_window_partition_covers_every_position() -> None:
    p = windows(T, 16, 5)
    assert np.all(p.coverage >= 1)
    assert window_starts(10, 4, 3) == [0, 3, 6]
    assert window_starts(11, 4, 3) == [0, 3, 6, 7]
    assert windows(3, 8).n_parts == 1  # longer than the input: clipped to one part
    with pytest.raises(InputError, match="stride 9 > window size 8"):
        windows(T, 8, 9)


@pytest.mark.parametrize("channels", [None, 3])
def test_time_series_interval_is_found(channels: int | None) -> None:
    x = signal(channels)
    e = explain(
        interval_model, x, modality="sequence", window=10, stride=2, masker=0.0, output="probs", class_names=["calm", "event"]
    )
    assert e.name(e.prediction) == "event" and e.maps.shape == (1, T)
    m = e.maps[0]
    inside = m[LO:HI].mean()
    assert inside > 3 * np.delete(m, np.arange(LO - 10, HI + 10)).mean()
    assert LO - 5 <= int(np.argmax(m)) < HI + 5
    # the big ignored burst gets no more than the quiet rest of the signal
    assert m[30:50].mean() < 1.05 * m[60:100].mean()
    assert e.n_queries == e.partition.n_parts + 1 and isinstance(e.input, np.ndarray)


def test_mean_baseline_and_single_steps() -> None:
    e = explain(interval_model, signal(), modality="sequence", partition="single", masker="mean", output="probs", batch_size=64)
    assert e.n_queries == T + 1
    top10 = np.argsort(-e.maps[0])[:10]
    assert np.all((top10 >= LO) & (top10 < HI))


def credit_model(batch: np.ndarray) -> np.ndarray:
    """Tabular: the score uses income (feature 2) and debt (3, 4) only; the rest is ignored."""
    x = np.asarray(batch, dtype=np.float64)
    z = 1.5 * x[:, 2] - 1.0 * (x[:, 3] + x[:, 4])
    p = 1 / (1 + np.exp(-z))
    return np.stack([1 - p, p], axis=1)


def test_tabular_feature_groups_by_name() -> None:
    row = np.array([35.0, 1.0, 3.0, -1.0, -0.5, 7.0])
    means = np.array([40.0, 0.0, 0.0, 0.0, 0.0, 5.0])
    groups = {"age": [0], "sex": [1], "income": [2], "debt": [3, 4], "tenure": [5]}
    e = explain(credit_model, row, modality="sequence", partition=groups, masker=FeatureBaseline(means), output="probs")
    assert e.partition.names == list(groups)
    assert e.n_queries == len(groups) + 1
    m = e.maps[0]
    p_mean = credit_model(means[None])[0, e.targets[0]]
    # a part keeping only ignored features gives exactly the output on the baseline
    assert m[0] == pytest.approx(p_mean) and m[5] == pytest.approx(p_mean)
    assert m[3] == pytest.approx(m[4])
    assert m[2] > m[3] > m[0]


def test_maskers_and_bad_input() -> None:
    x = np.arange(6.0)
    keep = np.array([[1, 1, 0, 0, 0, 0]], dtype=bool)
    assert np.allclose(ConstantBaseline(-1).bind(x)(keep)[0], [0, 1, -1, -1, -1, -1])
    assert np.allclose(ConstantBaseline("median").bind(x)(keep)[0], [0, 1, 2.5, 2.5, 2.5, 2.5])
    assert np.allclose(FeatureBaseline(np.ones(6)).bind(x)(keep)[0], [0, 1, 1, 1, 1, 1])
    with pytest.raises(InputError, match="6 positions"):
        FeatureBaseline([1.0, 2.0]).bind(x)
    with pytest.raises(InputError, match="unknown baseline"):
        ConstantBaseline("mode")
    with pytest.raises(InputError, match="NaN"):
        explain(credit_model, [1.0, np.nan, 2.0, 3.0, 4.0], modality="sequence", output="probs")
    with pytest.raises(InputError, match="shape"):
        explain(credit_model, np.zeros((2, 2, 2)), modality="sequence", output="probs")
    for masker, message in [
        ({}, "must be real numbers, got {}"),  # float() raised TypeError on a dict
        (["a"] * 6, "must be real numbers"),
        (float("nan"), "the baseline must be a finite number, got nan"),
        (np.full(6, np.inf), "per-position baseline values must be finite"),
    ]:
        with pytest.raises(InputError, match=message):
            explain(credit_model, np.zeros(6), "occlusion", modality="sequence", output="probs", masker=masker)
    args = (credit_model, np.arange(6.0), "occlusion")
    zero_d = explain(*args, modality="sequence", output="probs", masker=np.array(2.0), partition="windows", window=2)
    number = explain(*args, modality="sequence", output="probs", masker=2.0, partition="windows", window=2)
    assert np.array_equal(zero_d.maps, number.maps) and np.ptp(number.maps) > 0  # a 0-d array is one baseline value
    for odd in (np.ones(6) + 1j, np.ones(6, bool), np.arange(6).astype("M8[D]")):  # complex lost its imaginary part
        with pytest.raises(InputError, match=re.escape(f"expected real numbers, got dtype {odd.dtype}")):
            explain(credit_model, odd, modality="sequence", output="probs")
    with pytest.raises(InputError, match="outside 0..5"):
        feature_groups(6, [[0, 6]])
    with pytest.raises(InputError, match="does not match the input"):
        explain(credit_model, np.zeros(6), modality="sequence", partition=IndexPartition(5, [[0]]), output="probs")


def test_sequence_explanation_saves_figures(tmp_path) -> None:
    e = explain(interval_model, signal(), modality="sequence", window=10, stride=5, output="probs", class_names=["calm", "event"])
    paths = e.write(tmp_path, "sig")
    assert [p.name for p in paths] == ["sig_top1_1_event.png", "sig.npz"]
    assert paths[0].stat().st_size > 1000 and np.allclose(load(paths[1]).maps[0], e.maps[0])
    row = np.array([35.0, 1.0, 3.0, -1.0, -0.5, 7.0])
    t = explain(
        credit_model,
        row,
        modality="sequence",
        partition={"age": [0], "sex": [1], "income": [2], "debt": [3, 4], "tenure": [5]},
        output="probs",
    )
    ax = t.figure().axes[1]
    assert [x.get_text() for x in ax.get_xticklabels()] == ["age", "sex", "income", "debt", "tenure"]
    with pytest.raises(AttributeError, match=r"a sequence explanation has no 'overlay'; its views: .*figure"):
        e.overlay()


@pytest.mark.parametrize(("length", "window", "stride"), [(6, 1, 1), (9, 2, 2), (20, 5, 2), (32, 8, 2), (500, 8, 2)])
def test_the_default_windows_fit_a_short_input(length, window, stride):
    """A six-feature row under the default windows of 8 was one part: a constant map, for every row of a table."""

    def weighted(b):
        return (np.asarray(b, np.float64) * np.arange(length)).sum(1, keepdims=True)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no one-part warning
        e = explain(weighted, np.ones(length), modality="sequence", output="scores")
    assert (e.params["window"], e.params["stride"]) == (window, stride)
    assert np.ptp(e.maps[0]) > 0 and np.all(np.diff(e.maps[0][:: max(window, 1)]) >= 0)
