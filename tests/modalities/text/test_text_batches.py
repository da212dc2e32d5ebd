"""Several texts in one call behave as several images do: one Explanation per text, in order, the maps each text
gets alone, their queries packed into shared model calls, and a text's failure its own."""

from __future__ import annotations

import numpy as np
import pytest

import peephole
from peephole.errors import InputError, ModelError

TEXTS = ["a good film", "bad bad plot and good actors", "nothing here"]
KW = {"modality": "text", "output": "logits", "class_names": ["negative", "positive"]}


class Counted:
    """'good' adds to positive, 'bad' to negative; records each call's batch size; raises on a text with 'boom'."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(len(texts))
        if any("boom" in t.split() for t in texts):
            raise ValueError("boom")
        return np.array([[t.split().count("bad") * 1.5 + 0.1, t.split().count("good") * 1.5] for t in texts])


@pytest.mark.parametrize("method", ["pami", "lime"])
def test_a_list_of_texts_gives_one_explanation_per_text_from_packed_calls(method):
    packed = Counted()
    got = peephole.explain(packed, TEXTS, method, seed=2, **KW)
    alone = Counted()
    want = [peephole.explain(alone, t, method, seed=2, **KW) for t in TEXTS]
    assert [e.input for e in got] == [t.split() for t in TEXTS]
    for g, w in zip(got, want):
        assert g.targets == w.targets and g.n_queries == w.n_queries
        np.testing.assert_allclose(g.maps, w.maps, rtol=1e-6)
    assert sum(packed.calls) == sum(alone.calls) and len(packed.calls) < len(alone.calls)  # the same queries, fewer calls
    assert peephole.explain(Counted(), tuple(TEXTS), method, seed=2, **KW)[1].maps.tolist() == got[1].maps.tolist()


def test_one_texts_failure_is_its_own_and_the_others_go_through():
    got = peephole.explain(Counted(), ["a good film", "", "boom film", 42, "bad plot"], **KW)
    assert isinstance(got[1], InputError) and "empty" in str(got[1])
    assert isinstance(got[2], ModelError) and "boom" in str(got[2])
    assert isinstance(got[3], InputError) and "expected a text" in str(got[3])
    for i, text in ((0, "a good film"), (4, "bad plot")):
        np.testing.assert_array_equal(got[i].maps, peephole.explain(Counted(), text, **KW).maps)


def test_a_list_of_single_words_is_one_text_and_word_lists_make_a_batch():
    one = peephole.explain(Counted(), "bad good good", **KW)
    again = peephole.explain(Counted(), one.input, **KW)  # the word list an Explanation holds: one text again
    assert not isinstance(again, list) and again.input == one.input
    np.testing.assert_array_equal(again.maps, one.maps)
    both = peephole.explain(Counted(), [["good"], ["bad", "bad"]], **KW)  # one-word texts as a batch: word lists
    assert [e.input for e in both] == [["good"], ["bad", "bad"]] and [e.prediction for e in both] == [1, 0]
