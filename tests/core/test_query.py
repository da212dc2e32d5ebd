"""Query: every way a black box can misbehave gets one clear ModelError."""

import numpy as np
import pytest

from peephole.core import Query
from peephole.errors import ModelError

BATCH = np.zeros((3, 4, 4, 3), np.float32)


def test_counts_queries_and_applies_softmax_to_logits():
    q = Query(lambda b: np.tile([0.0, np.log(3.0)], (len(b), 1)), output="logits")
    out = q(BATCH)
    np.testing.assert_allclose(out, np.tile([0.25, 0.75], (3, 1)))
    q(BATCH[:2])
    assert q.n_queries == 5


def test_model_that_raises():
    def broken(b):
        raise RuntimeError("CUDA out of memory")

    with pytest.raises(ModelError, match="raised RuntimeError.*CUDA out of memory"):
        Query(broken)(BATCH)


def test_model_returning_nan():
    with pytest.raises(ModelError, match="NaN or inf for 1 of 3"):
        Query(lambda b: np.array([[0.5, 0.5], [np.nan, 0.5], [0.2, 0.8]]))(BATCH)


@pytest.mark.parametrize("out", [np.zeros((2, 5)), np.zeros((3, 2, 2)), np.zeros(7)])
def test_model_returning_wrong_shape(out):
    with pytest.raises(ModelError, match="returned shape"):
        Query(lambda b: out, output="scores")(BATCH)


def test_model_changing_number_of_classes():
    sizes = iter([4, 5])
    q = Query(lambda b: np.full((len(b), next(sizes)), 0.1))
    q(BATCH)
    with pytest.raises(ModelError, match="5 classes .* but 4 before"):
        q(BATCH)


def test_probabilities_out_of_range_are_not_guessed():
    with pytest.raises(ModelError, match="declared to return probabilities.*output='logits'"):
        Query(lambda b: np.full((len(b), 2), 3.0), output="probs")(BATCH)


def test_non_numeric_output():
    with pytest.raises(ModelError, match="not an array of scores"):
        Query(lambda b: [{"a": 1}] * len(b), output="scores")(BATCH)


def test_unknown_output_kind():
    with pytest.raises(ValueError, match="output must be one of"):
        Query(lambda b: b, output="probabilities")


def brightness_model(b):
    m = b.mean(axis=(1, 2, 3))
    return np.stack([m, 1 - m], axis=1)


def test_a_model_that_normalises_its_input_in_place_changes_neither_the_input_nor_the_map():
    """The first query used to pass a view of the image: an in-place model rewrote it and every perturbation."""
    import peephole

    img = np.random.default_rng(0).random((32, 32, 3)).astype(np.float32)
    original = img.copy()

    def in_place(b):
        out = brightness_model(b)
        b *= 0.0  # e.g. `x -= mean; x /= std` on the array it was given
        return out

    kw = {"partition": "window", "radius": 6, "stride": 4, "output": "probs", "masker": "black"}
    e = peephole.explain(in_place, img, **kw)
    np.testing.assert_array_equal(img, original)
    np.testing.assert_array_equal(e.input, original)
    clean = peephole.explain(brightness_model, original, **kw)
    np.testing.assert_allclose(e.maps, clean.maps)
    np.testing.assert_allclose(e.probabilities, clean.probabilities)


def test_a_model_that_reuses_its_output_buffer_cannot_change_returned_scores():
    buf = np.zeros((1, 2))

    def reuse(b):
        global_out = np.resize(buf, (len(b), 2))
        global_out[:] = brightness_model(b)
        buf.resize(global_out.shape, refcheck=False)
        buf[:] = global_out
        return buf

    q = Query(reuse, "probs")
    first = q(np.ones((1, 4, 4, 3), np.float32))
    q(np.zeros((1, 4, 4, 3), np.float32))
    np.testing.assert_array_equal(first, [[1.0, 0.0]])


def test_a_model_that_returns_no_classes_is_a_model_error():
    """Found by the fuzz suite: a (n, 0) output crashed the range check with numpy's ValueError."""
    with pytest.raises(ModelError, match="no classes"):
        Query(lambda b: np.zeros((len(b), 0)), "probs")(BATCH)
