"""Training the Explainer (Stalder et al., NeurIPS 2022) on synthetic canvases with known object masks."""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
import pytest
import torch
from systems_fixtures import canvas_data, single_thread  # noqa: F401

import peephole
from peephole.errors import InputError
from peephole_lab.data import make_canvases
from peephole_lab.systems.explainer import ExplainerNet, load_explainer, save_explainer, train_explainer, train_from_teacher
from peephole_lab.systems.explainer.evaluate import evaluate_masks, predict_masks
from peephole_lab.systems.explainer.teacher import map_correlation, pami_maps, present_maps

EPOCHS = 8

pytestmark = pytest.mark.usefixtures("single_thread")


@lru_cache(maxsize=1)
def trained() -> tuple:
    """An Explainer trained with the paper's loss and default weights (a short CPU run)."""
    tr, va, te, clf = canvas_data()
    torch.manual_seed(0)
    net = ExplainerNet(4, 3, width=8, depth=2)
    res = train_explainer(
        net, clf, (tr.images, tr.labels), (va.images, va.labels), epochs=EPOCHS, lr=5e-3, patience=5, progress=False, seed=0
    )
    return net, res, evaluate_masks(predict_masks(net, te.images), te.labels, te.masks)


def test_the_canvas_classifier_works():
    _, _, te, clf = canvas_data()
    with torch.no_grad():
        pred = torch.sigmoid(clf(torch.from_numpy(te.images))).numpy() > 0.5
    assert (pred == (te.labels > 0.5)).mean() > 0.8


def test_short_training_beats_constant_masks_on_iou():
    _, res, ev = trained()
    assert res.val_loss[res.best_epoch] < res.val_loss[0]
    soft = ev["soft_iou"]
    assert soft["explainer"] > max(soft["all-0"], soft["all-0.5"], soft["all-1"]), soft
    assert ev["hard_iou"]["explainer"] > ev["hard_iou"]["all-1"], ev["hard_iou"]


def test_class_masks_are_class_specific():
    _, _, ev = trained()
    # on the objects of an image, the masks of classes absent from it stay well below each present class's mask
    assert ev["absent_class_on_objects_mean"] < 0.75 * ev["own_object_mean"], ev
    assert ev["absent_mean"] < ev["present_mean"], ev


def test_one_forward_pass_gives_an_explanation(tmp_path):
    net, _, _ = trained()
    _, _, te, clf = canvas_data()
    e = peephole.explain(clf, te.images[0], method="explainer", explainer=net, class_names=list(te.class_names))
    assert e.method == "explainer" and e.n_queries == 1
    assert e.maps.shape == (len(e.targets), 24, 24) and e.maps.min() >= 0 and e.maps.max() <= 1
    assert e.targets[0] == int(np.argmax(e.probabilities)) and e.probabilities.shape == (4,)
    assert e.overlay().shape == (24, 24, 3)
    path = save_explainer(net, tmp_path / "ex.pt")
    e2 = peephole.explain(clf, te.images[0], method="explainer", explainer=str(path), targets=[0, 1, 2, 3])
    np.testing.assert_allclose(e2.maps, predict_masks(load_explainer(path), te.images[:1])[0], atol=1e-6)
    with pytest.raises(InputError, match="trained Explainer"):
        peephole.explain(clf, te.images[0], method="explainer")
    with pytest.raises(InputError, match="differentiable torch model"):
        peephole.explain(lambda x: np.zeros((len(x), 4)), te.images[0], method="explainer", explainer=net)


def test_checkpoints_and_early_stopping(tmp_path):
    tr, va, _, clf = canvas_data()
    net = ExplainerNet(4, 3, width=4, depth=1)
    res = train_explainer(
        net,
        clf,
        (tr.images[:64], tr.labels[:64]),
        (va.images[:32], va.labels[:32]),
        epochs=10,
        lr=0.0,
        patience=1,
        checkpoint_dir=tmp_path,
        progress=False,
    )
    # with lr = 0 the validation loss never improves after epoch 0: training stops after patience = 1 more epoch
    assert res.stopped_early and len(res.val_loss) == 2 and res.best_epoch == 0
    assert (tmp_path / "best.pt").exists() and (tmp_path / "last.pt").exists()
    ck = torch.load(tmp_path / "last.pt", weights_only=True)
    assert ck["epoch"] == 1 and len(ck["val_loss"]) == 2
    assert isinstance(load_explainer(tmp_path / "best.pt"), ExplainerNet)


def test_a_loss_schedule_drives_the_training_steps_and_validation_keeps_the_given_loss():
    tr, va, _, clf = canvas_data()
    calls: list[tuple[str, bool]] = []

    class Spy:
        multilabel = True

        def __init__(self, tag: str) -> None:
            self.tag = tag

        def __call__(self, seg, labels, classifier, x):
            calls.append((self.tag, torch.is_grad_enabled()))
            return seg.sigmoid().mean(), {}

    res = train_explainer(
        ExplainerNet(4, 3, width=4, depth=1),
        clf,
        (tr.images[:16], tr.labels[:16]),
        (va.images[:8], va.labels[:8]),
        loss=Spy("val"),
        loss_at=lambda epoch: Spy(f"epoch {epoch}"),
        epochs=3,
        batch_size=8,
        patience=5,
        progress=False,
    )
    assert len(res.val_loss) == 3
    # two training steps per epoch with that epoch's loss, then one validation batch with the given loss
    expected = [(t, True) for e in range(3) for t in (f"epoch {e}", f"epoch {e}")]
    assert [c for c in calls if c[1]] == expected
    assert [c for c in calls if not c[1]] == [("val", False)] * 3


def test_distilling_teacher_maps():
    tr, va, te, _ = canvas_data()

    # a teacher that knows the true masks of the present classes (NaN elsewhere): the Explainer learns them
    def teacher(c, n):
        t = c.masks[:n].astype(np.float32)
        t[c.labels[:n] < 0.5] = np.nan
        return t

    torch.manual_seed(0)
    net = ExplainerNet(4, 3, width=8, depth=2)
    train_from_teacher(
        net, (tr.images[:600], teacher(tr, 600)), (va.images[:100], teacher(va, 100)), epochs=4, lr=5e-3, progress=False
    )
    r = map_correlation(predict_masks(net, te.images[:100]), teacher(te, 100))
    assert r > 0.5, r


def test_pami_teacher_maps_have_the_right_layout():
    _, _, te, clf = canvas_data()
    maps = pami_maps(clf, te.images[:2], [[0], []], radius=4, stride=4)
    assert maps.shape == (2, 4, 24, 24)
    assert not np.isnan(maps[0, 0]).any() and np.isnan(maps[0, 1:]).all() and np.isnan(maps[1]).all()
    assert maps[0, 0].min() == 0 and maps[0, 0].max() == 1


def test_map_correlation_counts_a_constant_prediction_as_no_agreement():
    rng = np.random.default_rng(0)
    teacher = np.full((2, 3, 5, 5), np.nan)
    teacher[0, 0] = rng.uniform(size=(5, 5))
    teacher[1, 2] = rng.uniform(size=(5, 5))
    teacher[1, 1] = 0.5  # a constant teacher map: nothing to agree with, left out
    pred = rng.uniform(size=(2, 3, 5, 5)).astype(np.float32)
    pred[0, 0] = 2 * teacher[0, 0] + 1  # r = 1
    pred[1, 2] = 1.0  # constant (a saturated σ): r = 0, not dropped
    assert map_correlation(pred, teacher) == pytest.approx(0.5)
    assert np.isnan(map_correlation(pred, np.full_like(teacher, np.nan)))


class _Linear(torch.nn.Module):
    """Class k's logit = <w_k, image>: class 0's never depends on the other classes' weights."""

    def __init__(self, w: np.ndarray) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.from_numpy(w.astype(np.float32)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("nchw,kchw->nk", x, self.w)


def test_teacher_maps_of_a_multilabel_classifier_explain_each_class_alone():
    c = make_canvases(2, 16, seed=0)
    c.labels[:] = 0
    c.labels[:, :2] = 1  # classes 0 and 1 present on both canvases
    w = np.random.default_rng(0).normal(0, 0.05, (4, 3, 16, 16))
    other = w.copy()
    other[1] *= 10  # only class 1's weights differ
    a, b = present_maps(_Linear(w), c, 2), present_maps(_Linear(other), c, 2)
    # σ outputs: class 0's maps are the same whatever class 1 does (a softmax across classes would couple them)
    np.testing.assert_allclose(a[:, 0], b[:, 0], atol=1e-6)
    assert np.abs(a[:, 1] - b[:, 1]).max() > 0.05 and np.isnan(a[:, 2:]).all()


def test_the_absent_figure_skips_images_without_objects_and_warns_of_nothing():
    masks = np.full((2, 2, 4, 4), 0.25, np.float32)
    labels = np.array([[1, 0], [0, 0]], np.float32)
    true = np.zeros((2, 2, 4, 4), bool)
    true[0, 0, :2] = True  # image 0: class 0 present on its top half; image 1: no object at all
    masks[0, 1, :2] = 0.75  # class 1 (absent) on image 0's object
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # was "Mean of empty slice" from image 1
        ev = evaluate_masks(masks, labels, true)
    assert ev["absent_class_on_objects_mean"] == pytest.approx(0.75)
    assert np.isnan(evaluate_masks(masks[1:], labels[1:], true[1:])["absent_class_on_objects_mean"])


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"n_train": -5}, "n_train must be a whole number >= 1"),  # numpy's ValueError traceback before
        ({"n_teacher": -1, "teacher": "pami"}, "n_teacher must be a whole number >= 1"),  # sliced: all but the last
        ({"lr": -1.0}, "lr must be a finite number > 0"),  # torch's ValueError after the classifier was trained
        ({"lambda_n": float("nan")}, "lambda_n must be a finite number >= 0"),  # trained on a NaN loss, exit 0
    ],
)
def test_the_canvas_experiment_checks_its_counts_and_weights_before_any_training(tmp_path, option, message):
    from peephole_lab.systems.explainer.experiment import canvas_experiment

    with pytest.raises(InputError, match=message):
        canvas_experiment(tmp_path / "out", **option)
    assert not (tmp_path / "out").exists()
