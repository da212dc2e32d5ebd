"""Query: every way a black box can misbehave gets one clear ModelError (the checks are the classification
task's; the counting, the copies and the model's own errors are the task-agnostic Query's)."""

import numpy as np
import pytest

from peephole.core import Query
from peephole.errors import ModelError
from peephole.tasks import Classification

BATCH = np.zeros((3, 4, 4, 3), np.float32)


def query(model, output="probs"):
    """A Query of ``model`` with the classification task, as prepare() builds one (no reference yet)."""
    return Classification(output).query(model)


def test_counts_queries_and_applies_softmax_to_logits():
    q = query(lambda b: np.tile([0.0, np.log(3.0)], (len(b), 1)), output="logits")
    out = q(BATCH)
    np.testing.assert_allclose(out, np.tile([0.25, 0.75], (3, 1)))
    q(BATCH[:2])
    assert q.n_queries == 5


def test_model_that_raises():
    def broken(b):
        raise RuntimeError("CUDA out of memory")

    with pytest.raises(ModelError, match="raised RuntimeError.*CUDA out of memory"):
        query(broken)(BATCH)


def test_model_returning_nan():
    with pytest.raises(ModelError, match="NaN or inf for 1 of 3"):
        query(lambda b: np.array([[0.5, 0.5], [np.nan, 0.5], [0.2, 0.8]]))(BATCH)


@pytest.mark.parametrize("out", [np.zeros((2, 5)), np.zeros((3, 2, 2)), np.zeros(7)])
def test_model_returning_wrong_shape(out):
    with pytest.raises(ModelError, match="returned shape"):
        query(lambda b: out, output="scores")(BATCH)


def test_model_changing_number_of_classes():
    sizes = iter([4, 5])
    q = query(lambda b: np.full((len(b), next(sizes)), 0.1))
    q(BATCH)
    with pytest.raises(ModelError, match="5 classes .* but 4 before"):
        q(BATCH)


def test_probabilities_out_of_range_are_not_guessed():
    with pytest.raises(ModelError, match="declared to return probabilities.*output='logits'"):
        query(lambda b: np.full((len(b), 2), 3.0), output="probs")(BATCH)


def test_non_numeric_output():
    with pytest.raises(ModelError, match="not an array of scores"):
        query(lambda b: [{"a": 1}] * len(b), output="scores")(BATCH)


def test_unknown_output_kind():
    with pytest.raises(ValueError, match="output must be one of"):
        query(lambda b: b, output="probabilities")


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

    q = query(reuse, "probs")
    first = q(np.ones((1, 4, 4, 3), np.float32))
    q(np.zeros((1, 4, 4, 3), np.float32))
    np.testing.assert_array_equal(first, [[1.0, 0.0]])


def test_a_model_that_returns_no_classes_is_a_model_error():
    """Found by the fuzz suite: a (n, 0) output crashed the range check with numpy's ValueError."""
    with pytest.raises(ModelError, match="no classes"):
        query(lambda b: np.zeros((len(b), 0)), "probs")(BATCH)


def test_query_knows_no_task_it_hands_the_output_to_the_tasks_functions():
    seen = []

    def validate(raw, n, what):
        seen.append((type(raw).__name__, n, what))
        return raw

    q = Query(lambda b: {"boxes": np.ones((len(b), 4))}, validate)
    out = q(BATCH, what="parts 0..2")
    assert seen == [("dict", 3, "parts 0..2")] and out["boxes"].shape == (3, 4) and q.n_queries == 3
    q.score = lambda out, what: out["boxes"][:, :2]
    np.testing.assert_array_equal(q(BATCH[:1]), np.ones((1, 2)))
    assert q.n_queries == 4 and q.n_classes == 2


def test_query_wants_a_validator_not_an_output_kind():
    with pytest.raises(TypeError, match="validate must be a task's validator"):
        Query(lambda b: b, "probs")


def test_tensors_come_back_detached_on_the_cpu_as_copies():
    torch = pytest.importorskip("torch")
    buf = torch.zeros(3, 2, requires_grad=True)
    q = Query(lambda b: buf * 1 + 0.5, lambda raw, n, what: raw)
    out = q(BATCH)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_array_equal(out, np.full((3, 2), 0.5))
    half = Query(lambda b: torch.full((len(b), 2), 0.25, dtype=torch.bfloat16), lambda raw, n, what: raw)(BATCH)
    assert half.dtype == np.float32 and (half == 0.25).all()


def test_an_output_that_cannot_leave_its_device_is_a_model_error():
    torch = pytest.importorskip("torch")
    with pytest.raises(ModelError, match="output on batch cannot be read"):
        Query(lambda b: torch.zeros(len(b), 2, device="meta"), lambda raw, n, what: raw)(BATCH)


@pytest.mark.parametrize("dtype", ["complex64", "datetime64[s]", "timedelta64[ms]", "V8"])
def test_the_task_free_check_refuses_values_numpy_would_convert_silently(dtype):
    """Without a task (``Query(model)``), complex numbers, dates, durations and records are no numbers either."""
    with pytest.raises(ModelError, match="not an array of numbers on batch: .* are not real numbers"):
        Query(lambda b: np.zeros((len(b), 2), dtype))(BATCH)
    assert Query(lambda b: np.zeros((len(b), 2), ">f4"))(BATCH).dtype == np.float64  # big-endian floats are numbers
