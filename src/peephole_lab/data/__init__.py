"""Small data sets and models for the gradient-based systems: MNIST, small classifiers, backdoor triggers,
the trojan zoo (:mod:`peephole_lab.data.zoo`), synthetic canvases."""

from peephole_lab.data.canvases import SHAPES, Canvases, make_canvases
from peephole_lab.data.classifiers import SmallCNN, load_classifier, save_classifier, train_classifier
from peephole_lab.data.mnist import load_mnist
from peephole_lab.data.trojan import Trigger, poison, stamp

__all__ = [
    "SHAPES",
    "Canvases",
    "SmallCNN",
    "Trigger",
    "load_classifier",
    "load_mnist",
    "make_canvases",
    "poison",
    "save_classifier",
    "stamp",
    "train_classifier",
]
