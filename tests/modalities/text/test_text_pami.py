"""PAMI on text with synthetic keyword models (known answer), partitions, maskers, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from peephole import explain
from peephole.errors import InputError, ModelError
from peephole.modalities import get_modality
from peephole.modalities.sequence.partitions import IndexPartition
from peephole.modalities.text import DropMasker, TokenMasker, phrase_labels, phrases, words
from peephole.modalities.text.partitions import WordWindowOptions, make_text_partition

SENTENCE = "the old clock on the wall said it was late but the coffee was excellent today"


def keyword_model(keyword: str = "excellent", weight: float = 0.8):
    """p(positive) = 0.1 + weight · [keyword present] + a tiny length effect: the keyword is what matters."""

    def fn(batch: list[str]) -> np.ndarray:
        p = np.array([0.1 + weight * (keyword in t.split()) + 0.001 * len(t.split()) for t in batch])
        p = np.clip(p, 0, 1)
        return np.stack([1 - p, p], axis=1)

    return fn


def test_keyword_ranks_first_for_words() -> None:
    e = explain(keyword_model(), SENTENCE, modality="text", output="probs", class_names=["neg", "pos"])
    ws = SENTENCE.split()
    assert e.input == ws
    assert e.targets == [1] and e.class_names == ["neg", "pos"]
    assert e.maps.shape == (1, len(ws))
    assert ws[int(np.argmax(e.maps[0]))] == "excellent"
    # Eq. 1 with one word per part: each word's score is the model output on that word alone.
    assert e.maps[0][ws.index("excellent")] == pytest.approx(0.901, abs=1e-5)
    assert e.maps[0][ws.index("clock")] == pytest.approx(0.101, abs=1e-5)
    assert e.n_queries == len(ws) + 1


@pytest.mark.parametrize(("window", "stride"), [(2, 1), (3, 1), (4, 2), (5, 3)])
def test_keyword_ranks_first_for_windows(window: int, stride: int) -> None:
    e = explain(keyword_model(), SENTENCE, modality="text", partition="windows", window=window, stride=stride, output="probs")
    ws = SENTENCE.split()
    assert ws[int(np.argmax(e.maps[0]))] == "excellent"
    assert e.params["n_parts"] == e.n_queries - 1


def test_negative_class_map_is_lowest_at_keyword() -> None:
    e = explain(keyword_model(), SENTENCE, modality="text", output="probs", targets=[0, 1])
    ws = SENTENCE.split()
    assert ws[int(np.argmin(e.maps[0]))] == "excellent"
    assert np.allclose(e.maps[0] + e.maps[1], 1.0, atol=1e-6)
    assert np.allclose(e.map_for(1), e.maps[1])


def test_keyword_found_with_token_masker_and_model_that_sees_the_mask() -> None:
    seen: list[str] = []

    def fn(batch: list[str]) -> np.ndarray:
        seen.extend(batch)
        return keyword_model()(batch)

    e = explain(fn, SENTENCE, modality="text", masker="[MASK]", output="probs")
    n = len(SENTENCE.split())
    assert all(len(t.split()) == n for t in seen)  # every perturbed text keeps the length
    assert any(t.startswith("[MASK] old [MASK]") for t in seen)
    assert SENTENCE.split()[int(np.argmax(e.maps[0]))] == "excellent"


def test_maskers_build_expected_texts() -> None:
    ws = ["a", "b", "c", "d"]
    keep = np.array([[1, 0, 0, 1], [0, 1, 1, 0]], dtype=bool)
    assert DropMasker().bind(ws)(keep) == ["a d", "b c"]
    assert TokenMasker("[UNK]").bind(ws)(keep) == ["a [UNK] [UNK] d", "[UNK] b c [UNK]"]
    assert TokenMasker("<pad>", collapse=True).bind(ws)(keep) == ["a <pad> d", "<pad> b c <pad>"]
    with pytest.raises(InputError, match="one non-empty word"):
        TokenMasker("two words")
    with pytest.raises(InputError, match="do not match"):
        DropMasker().bind(ws)(np.ones((1, 3), dtype=bool))
    for odd in (np.array([1, 2]), 3, 2.5):  # an array raised NumPy's "truth value ... is ambiguous"
        with pytest.raises(InputError, match="unknown text masker"):
            explain(keyword_model("a"), "a b", modality="text", masker=odd, output="probs")


def test_phrases_split_at_punctuation_and_clause_words() -> None:
    ws = words("The room was small, the bed was hard but the view was lovely.")
    assert phrase_labels(ws) == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2]
    p = phrases(ws)
    assert p.names == ["The room was small,", "the bed was hard", "but the view was lovely."]
    e = explain(keyword_model("lovely."), ws, modality="text", partition="phrases", output="probs")
    assert e.n_queries == 3 + 1
    top = int(np.argmax(e.maps[0]))
    assert phrase_labels(ws)[top] == 2
    assert np.allclose(e.maps[0][8:], e.maps[0][8])  # one part: one value for all its words


def test_user_groups_and_uncovered_words() -> None:
    ws = SENTENCE.split()
    k = ws.index("excellent")
    e = explain(keyword_model(), ws, modality="text", partition=[[0, 1, 2], [k - 1, k]], output="probs")
    assert e.n_queries == 3
    assert e.maps[0][k] > e.maps[0][0]
    assert e.maps[0][5] == 0.0  # kept by no part


def test_partition_objects_are_checked() -> None:
    with pytest.raises(InputError, match="does not match the text"):
        make_text_partition(["a", "b"], IndexPartition(3, [[0]]))
    text = get_modality("text")
    with pytest.raises(InputError, match="unknown partition strategy 'sentences' for text inputs"):
        text.partition(["a", "b"], "sentences")
    with pytest.raises(InputError, match="stride 4 > window size 2"):
        text.partition(["a", "b", "c"], "windows", options=WordWindowOptions(window=2, stride=4))


def test_long_text_streams_in_batches() -> None:
    ws = [f"w{i}" for i in range(300)]
    ws[217] = "excellent"
    sizes: list[int] = []

    def fn(batch: list[str]) -> np.ndarray:
        sizes.append(len(batch))
        return keyword_model()(batch)

    e = explain(fn, " ".join(ws), modality="text", output="probs", batch_size=32)
    assert int(np.argmax(e.maps[0])) == 217
    assert max(sizes) == 32 and e.n_queries == 301


def test_explain_facade_and_names() -> None:
    e = explain(keyword_model(), SENTENCE, modality="text", output="probs", class_names=["neg", "pos"], targets="neg")
    assert e.targets == [0] and e.method == "pami" and e.modality == "text"
    with pytest.raises(InputError, match="unknown class 'happy'"):
        explain(keyword_model(), SENTENCE, modality="text", output="probs", class_names=["neg", "pos"], targets="happy")


def test_single_word_is_documented_behaviour() -> None:
    with pytest.warns(UserWarning, match="one-word text"):
        e = explain(keyword_model(), "excellent", modality="text", output="probs")
    assert e.maps.shape == (1, 1)
    assert e.maps[0, 0] == pytest.approx(e.probabilities[1])


@pytest.mark.parametrize("text", ["", "   \n\t ", b"", []])
def test_empty_text_is_an_input_error(text: object) -> None:
    with pytest.raises(InputError, match="empty"):
        explain(keyword_model(), text, modality="text", output="probs")


def test_bytes_must_be_utf8() -> None:
    e = explain(keyword_model(), "café excellent".encode(), modality="text", output="probs")
    assert e.input == ["café", "excellent"]
    with pytest.raises(InputError, match="not valid UTF-8"):
        explain(keyword_model(), b"caf\xe9 excellent", modality="text", output="probs")


def test_bad_word_lists_are_rejected() -> None:
    (bad,) = explain(keyword_model(), [["good", "two words"]], modality="text", output="probs")  # a batch of one word list
    assert isinstance(bad, InputError) and "without whitespace" in str(bad)
    with pytest.raises(InputError, match="expected a text"):
        explain(keyword_model(), 42, modality="text", output="probs")


def test_model_with_wrong_number_of_classes() -> None:
    with pytest.raises(ModelError, match="returned 2 classes but names 3"):
        explain(keyword_model(), SENTENCE, modality="text", output="probs", class_names=["a", "b", "c"])

    def flaky(batch: list[str]) -> np.ndarray:
        return np.full((len(batch), 2 if len(batch) == 1 else 3), 0.3)

    with pytest.raises(ModelError, match="returned 3 classes"):
        explain(flaky, SENTENCE, modality="text", output="probs")

    with pytest.raises(ModelError, match="expected"):
        explain(lambda b: np.zeros((len(b) + 1, 2)), SENTENCE, modality="text", output="probs")


def test_callable_must_declare_output() -> None:
    with pytest.raises(InputError, match="declare what it returns"):
        explain(keyword_model(), SENTENCE, modality="text")
