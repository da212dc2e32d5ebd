"""Class names (peephole.core.classes): the class a name gives, as datasets and users write names."""

from __future__ import annotations

import pytest

from peephole.core.classes import class_named, classes_named
from peephole.errors import InputError

HF_IMAGENET = ["tench, Tinca tinca", "goldfish, Carassius auratus", "great white shark, white shark, man-eater"]
NAMES = ["golden retriever", "T-shirt", "Positive", "crane", "crane"]


@pytest.mark.parametrize(
    ("name", "names", "hits"),
    [
        ("golden retriever", NAMES, [0]),  # exactly
        ("positive", NAMES, [2]),  # in another case
        ("golden_retriever", NAMES, [0]),  # as a folder writes it: an ImageFolder's labels had no class
        ("Golden-Retriever", NAMES, [0]),
        ("t_shirt", NAMES, [1]),
        ("goldfish", HF_IMAGENET, [1]),  # one of a Hugging Face ImageNet name's synonyms
        ("white_shark", HF_IMAGENET, [2]),
        ("crane", NAMES, [3, 4]),  # shared: both, and class_named asks for the index
        ("retriever", NAMES, []),  # a part of a name is no name
        ("", NAMES, []),
    ],
)
def test_a_name_gives_its_classes_as_datasets_write_them(name, names, hits):
    assert classes_named(name, names) == hits


def test_an_exact_name_wins_over_a_loose_one():
    assert classes_named("golden_retriever", ["golden retriever", "golden_retriever"]) == [1]
    with pytest.raises(InputError, match="names 2 of the model's classes"):
        class_named("crane", NAMES)
