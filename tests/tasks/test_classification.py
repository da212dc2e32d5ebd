"""The task seam: classification behaves exactly as before, an unknown task is one InputError, and a task given as
an object (a toy regression) runs through keep-one PAMI end to end, saved and loaded with its name."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import peephole
from peephole.core import Query
from peephole.errors import InputError, ModelError
from peephole.tasks import TASKS, Classification, Task, declared_task, get_task

BATCH = np.zeros((3, 4, 4, 3), np.float32)
IMG = np.random.default_rng(0).random((24, 24, 3)).astype(np.float32)
PAMI = {"method": "pami", "partition": "window", "radius": 6, "stride": 6, "masker": "black"}


def brightness(b: np.ndarray) -> np.ndarray:
    """One real output per input: the mean brightness of its top-left quarter (a regression, not a classifier)."""
    b = np.asarray(b)
    return b[:, : b.shape[1] // 2, : b.shape[2] // 2].mean(axis=(1, 2, 3))


class Regression(Task):
    """A toy task: the model returns one number per input; the only target is that number."""

    name = "regression"

    def reference(self, out: np.ndarray) -> np.ndarray:
        return out.reshape(1)

    def targets(self, reference, targets, top_k, class_names):
        if targets not in (None, 0, [0]):
            raise InputError(f"a regression has one output (target 0), got {targets!r}")
        return [0]

    def scorer(self, reference, targets):
        return lambda out, what="batch": out.reshape(len(out), 1)


# --- classification through the seam: the same scores and errors as the old Query ---------------------------------


def reference_query(fn, output):
    """The scores the Query returned before the seam: its validation and softmax, inline."""
    out = np.asarray(fn(BATCH), np.float64)
    if output == "logits":
        z = np.exp(out - out.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)
    return out


@pytest.mark.parametrize("output", ["probs", "logits", "scores"])
def test_classification_scores_are_the_old_querys(output):
    fn = lambda b: np.tile([0.1, 0.3, 0.6], (len(b), 1))  # noqa: E731
    task = Classification(output)
    q = Query(fn, task.validate)
    ref = task.reference(q(BATCH[:1]))
    q.score = task.scorer(ref, [2])
    np.testing.assert_allclose(q(BATCH), reference_query(fn, output))
    np.testing.assert_allclose(ref, reference_query(fn, output)[0])
    assert q.n_queries == 4 and q.n_classes == 3


@pytest.mark.parametrize(
    ("fn", "output", "message"),
    [
        (lambda b: np.array([[0.5, 0.5], [np.nan, 0.5], [0.2, 0.8]]), "probs", "NaN or inf for 1 of 3 inputs on batch"),
        (lambda b: np.zeros((2, 5)), "scores", r"returned shape \(2, 5\) for 3 inputs on batch; expected \(3, n_classes\)"),
        (lambda b: np.zeros((len(b), 0)), "probs", "returned no classes"),
        (lambda b: np.full((len(b), 2), 3.0), "probs", "declared to return probabilities but returned values in"),
        (lambda b: [{"a": 1}] * len(b), "scores", "the model returned list, not an array of scores"),
        # NumPy converts these to float64 silently (the imaginary part dropped, dates as day counts)
        (lambda b: np.full((len(b), 2), 0.5 + 1j), "scores", r"complex numbers \(complex128\) are not real numbers"),
        (lambda b: np.full((len(b), 2), np.datetime64("2020-01-01")), "scores", r"dates \(datetime64\[D\]\)"),
        (lambda b: np.full((len(b), 2), np.timedelta64(1, "s")), "scores", r"durations \(timedelta64\[s\]\)"),
    ],
)
def test_classification_errors_are_the_old_querys(fn, output, message):
    with pytest.raises(ModelError, match=message):
        Classification(output).query(fn)(BATCH)


def test_a_model_whose_number_of_classes_changes_from_the_reference():
    task = Classification("scores")
    q = Query(lambda b: np.zeros((len(b), 4)), task.validate, task.scorer(np.zeros(3), [0]))
    with pytest.raises(ModelError, match="4 classes on batch but 3 before"):
        q(BATCH)


def test_classification_binds_to_what_the_model_declares_and_checks_the_output_kind():
    class M:
        output = "logits"

    assert Classification().bind(M()).output == "logits"
    with pytest.raises(ValueError, match="output must be one of"):
        Classification("probabilities")


def test_class_names_that_do_not_match_the_classes_are_a_model_error():
    with pytest.raises(ModelError, match="returned 2 classes but names 3"):
        Classification().targets(np.array([0.4, 0.6]), None, 1, ["a", "b", "c"])


def test_explain_records_classification_by_default_and_by_name():
    kw = {**PAMI, "output": "probs"}
    model = lambda b: np.stack([brightness(b), 1 - brightness(b)], 1)  # noqa: E731
    e = peephole.explain(model, IMG, **kw)
    named = peephole.explain(model, IMG, task="classification", **kw)
    assert e.task == named.task == "classification"
    np.testing.assert_array_equal(e.maps, named.maps)
    np.testing.assert_array_equal(e.scores, named.scores)


# --- naming a task --------------------------------------------------------------------------------------------------


def test_an_unknown_task_is_one_input_error_naming_the_valid_ones_before_the_model_runs():
    calls = []

    def model(b):
        calls.append(len(b))
        return np.full((len(b), 2), 0.5)

    with pytest.raises(
        InputError, match=r"unknown task 'detect'; valid tasks: \['classification', 'detection', 'segmentation'\]"
    ):
        peephole.explain(model, IMG, output="probs", task="detect", **{k: v for k, v in PAMI.items() if k != "method"})
    assert calls == []
    with pytest.raises(InputError, match="unknown task"):
        get_task(3)
    assert set(TASKS) == {"classification", "detection", "segmentation"}
    assert get_task(None).name == "classification" and isinstance(get_task(Regression), Regression)


def test_what_a_model_declares():
    class Declares:
        task = "classification"

    class Hugging:  # a transformers pipeline: its task is Hugging Face's vocabulary, not Peephole's
        task = "sentiment-analysis"

    Hugging.__module__ = "transformers.pipelines.text_classification"

    class Odd:
        task = "depth"

    class Custom:
        task = Regression()

    assert declared_task(Declares()) == "classification"
    assert declared_task(Hugging()) is None
    assert declared_task(object()) is None
    assert isinstance(declared_task(Custom()), Regression)
    with pytest.raises(
        InputError, match=r"declares task 'depth'; valid tasks: \['classification', 'detection', 'segmentation'\]"
    ):
        declared_task(Odd())


# --- a custom task through the whole pipeline -----------------------------------------------------------------------


def test_a_regression_task_object_runs_through_keep_one_pami_end_to_end(tmp_path):
    e = peephole.explain(brightness, IMG, output="scores", task=Regression(), **PAMI)
    assert e.task == "regression" and e.targets == [0]
    np.testing.assert_allclose(e.probabilities, [brightness(IMG[None])[0]], rtol=1e-6)
    assert e.scores.shape == (e.partition.n_parts, 1) and e.n_queries == 1 + e.partition.n_parts
    # the same numbers through classification (a one-class 'scores' model) give the same map: the seam is the only change
    same = peephole.explain(lambda b: brightness(b)[:, None], IMG, output="scores", **PAMI)
    np.testing.assert_allclose(e.maps, same.maps, rtol=1e-6)
    assert e.maps[0][:12, :12].mean() > e.maps[0][12:, 12:].mean()  # the model reads the top-left quarter
    np.testing.assert_allclose(e.map_for(0), e.maps[0], rtol=1e-6)
    back = peephole.load(e.save(tmp_path / "r.npz"))
    assert back.task == "regression"
    np.testing.assert_array_equal(back.maps, e.maps)


def test_a_task_the_model_declares_is_used():
    class Model:
        task = Regression()
        output = "scores"
        class_names = None
        preferred_batch_size = None

        def __call__(self, b):
            return brightness(b)

    assert peephole.explain(Model(), IMG, **PAMI).task == "regression"
    with pytest.raises(InputError, match="one output"):
        peephole.explain(Model(), IMG, targets=1, **PAMI)


def test_gradient_methods_explain_classifiers_only():
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    calls = []
    net.register_forward_hook(lambda *a: calls.append(1))
    with pytest.raises(InputError, match="method 'saliency' explains classification only, not the task 'regression'"):
        peephole.explain(net, IMG, method="saliency", output="logits", task=Regression())
    assert calls == []  # refused from the registry row, before the model ran


def test_every_perturbation_method_takes_any_task_and_the_others_classification_only():
    from peephole.registry import METHODS

    for name, spec in METHODS.items():
        assert (spec.tasks is None) == (spec.family == "perturbation"), name
        assert spec.tasks is None or spec.tasks == ("classification",), name


def test_a_file_saved_before_tasks_loads_as_classification(tmp_path):
    import json

    e = peephole.explain(lambda b: np.stack([brightness(b), 1 - brightness(b)], 1), IMG, output="probs", **PAMI)
    path = e.save(tmp_path / "old.npz")
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays.pop("__meta__")))
    del meta["task"]
    with open(path, "wb") as f:
        np.savez_compressed(f, __meta__=np.array(json.dumps(meta)), **arrays)
    assert peephole.load(path).task == "classification"


# --- numbers that used to go silently wrong ----------------------------------------------------------------------
WINDOWS = {"partition": "window", "radius": 6, "stride": 4}


def left_minus_right(b) -> np.ndarray:
    """One logit per input: the left half's brightness minus the right half's (a binary model, one output)."""
    b = np.asarray(b, np.float64)
    return 8 * (b[:, :, :12].mean(axis=(1, 2, 3)) - b[:, :, 12:].mean(axis=(1, 2, 3)))[:, None]


@pytest.mark.parametrize("output", ["logits", "probs"])
@pytest.mark.parametrize("shape", ["column", "1-d"])
def test_a_one_output_model_is_a_binary_classifier_with_a_map_that_varies(output, shape):
    """One logit z (or p = σ(z)) is explained as two classes [1 - σ(z), σ(z)]; it used to be a constant map."""

    def model(b):
        z = left_minus_right(b)
        out = z if output == "logits" else 1 / (1 + np.exp(-z))
        return out if shape == "column" else out[:, 0]

    e = peephole.explain(model, IMG, output=output, top_k=2, method="pami", masker="black", **WINDOWS)
    p = 1 / (1 + np.exp(-left_minus_right(IMG[None])[0, 0]))
    np.testing.assert_allclose(e.probabilities, [1 - p, p], rtol=1e-5)
    assert sorted(e.targets) == [0, 1] and e.scores.shape[1] == 2
    for m in e.maps:
        assert m.std() > 1e-3  # not constant: hiding the left half changes the logit
    i = e.targets.index(1)  # class 1 (σ(z)) rises when the left half is kept: its map is larger there
    assert e.maps[i][:, :10].mean() > e.maps[i][:, 14:].mean()


def test_one_class_name_for_a_one_output_model_names_both_classes():
    with pytest.raises(ModelError, match=r"name both"):
        peephole.explain(left_minus_right, IMG, output="logits", class_names=["cat"], **WINDOWS)


def test_one_scores_column_stays_one_class():
    e = peephole.explain(left_minus_right, IMG, output="scores", **WINDOWS)
    assert e.probabilities.shape == (1,) and e.targets == [0]


def test_scores_beyond_float32_are_one_model_error():
    """Scores above 3.4e38 used to become inf in float32 and NaN maps with only RuntimeWarnings."""
    huge = lambda b: 1e39 * np.stack([np.asarray(b, np.float64).mean(axis=(1, 2, 3))] * 2, 1)  # noqa: E731
    with pytest.raises(ModelError, match=r"scores up to 5\.\d+e\+38 .* beyond float32"):
        peephole.explain(huge, IMG, output="scores", **WINDOWS)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_maps_that_overflow_float32_are_one_model_error():
    """Scores inside float32 whose sums overflow it (RISE adds up every mask's score) are a ModelError, not inf maps."""
    big = lambda b: 3e38 * np.stack([np.asarray(b, np.float64).mean(axis=(1, 2, 3))] * 2, 1)  # noqa: E731
    with pytest.raises(ModelError, match="maps are not finite in float32"):
        peephole.explain(big, IMG, method="rise", n_masks=40, output="scores")


def test_logits_that_look_like_probabilities_are_warned_about():
    """A softmax of probabilities is nearly uniform (0.52 -> 0.51 here): a model declared 'logits' whose output is a
    probability vector got flattened maps without a word."""
    image = np.random.default_rng(0).random((16, 16, 3)).astype(np.float32)

    def probabilities(b):
        m = np.asarray(b).mean((1, 2, 3))
        return np.stack([m, 1 - m], 1)

    with pytest.warns(UserWarning, match="declared to return logits, but .* probability vector .* declare output='probs'"):
        peephole.explain(probabilities, image, "rise", output="logits", n_masks=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # real logits, and probabilities declared as such: no warning
        peephole.explain(lambda b: 3 * probabilities(b), image, "rise", output="logits", n_masks=4)
        peephole.explain(probabilities, image, "rise", output="probs", n_masks=4)
