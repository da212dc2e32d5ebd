"""The detection task: D-RISE similarity, reference boxes, one query set for every box, results saved with boxes."""

from __future__ import annotations

import numpy as np
import pytest
from isolation import isolated

import peephole
from peephole.errors import InputError, ModelError
from peephole.tasks import Detection, detection, get_task
from peephole.tasks.detection import check_detections, iou, similarity

#: Two bright squares on a dark 48×48 image: the detector finds each while it stays bright.
IMAGE = np.full((48, 48, 3), 0.1, np.float32)
IMAGE[4:16, 4:16] = 0.9
IMAGE[28:44, 26:42] = 0.8
BOXES = np.array([[4, 4, 16, 16], [26, 28, 42, 44]], np.float64)
#: Square 8×8 windows: 36 parts.
GRID = {"partition": "window", "radius": 4, "stride": 8, "window": "square"}


def squares(batch: np.ndarray) -> list[dict[str, np.ndarray]]:
    """Per image: each square's box when its mean brightness is above 0.3, scored by that brightness."""
    out = []
    for x in np.asarray(batch, np.float64):
        bright = np.array([x[4:16, 4:16].mean(), x[28:44, 26:42].mean()])
        keep = bright > 0.3
        out.append({"boxes": BOXES[keep], "scores": bright[keep], "labels": np.array([0, 1])[keep]})
    return out


def inside_minus_outside(m: np.ndarray, box: np.ndarray) -> float:
    x0, y0, x1, y1 = box.astype(int)
    inside = np.zeros(m.shape, bool)
    inside[y0:y1, x0:x1] = True
    return float(m[inside].mean() - m[~inside].mean())


def test_iou_of_known_boxes() -> None:
    a = np.array([[0, 0, 10, 10]], float)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], float)
    assert np.allclose(iou(a, b), [[1.0, 50 / 150, 0.0]])


def test_similarity_is_iou_times_class_times_objectness() -> None:
    """D-RISE Eq. 2: cosine of class vectors when given, else same label; objectness (else score) multiplies."""
    ref = check_detections({"boxes": [[0, 0, 10, 10]], "scores": [0.9], "labels": [2]}, "t")
    moved = {"boxes": [[5, 0, 15, 10], [0, 0, 10, 10]], "scores": [0.5, 0.8], "labels": [2, 3]}
    assert np.allclose(similarity(ref, check_detections(moved, "t")), [50 / 150 * 0.5])  # the other label scores 0
    p_ref = check_detections({"boxes": [[0, 0, 10, 10]], "scores": [1.0], "probs": [[0.0, 1.0]]}, "t")
    p_out = check_detections({"boxes": [[0, 0, 10, 10]], "scores": [1.0], "probs": [[1.0, 1.0]], "objectness": [0.5]}, "t")
    assert np.allclose(similarity(p_ref, p_out), [np.sqrt(0.5) * 0.5])
    assert similarity(ref, check_detections({"boxes": np.zeros((0, 4)), "scores": []}, "t")).tolist() == [0.0]


def random_detections(rng: np.random.Generator, n: int, k: int | None) -> detection.Detections:
    """``n`` random boxes in a 100×100 image, with ``k`` class probabilities each (else labels of 3 classes)."""
    xy = rng.random((n, 2)) * 80
    raw = {"boxes": np.hstack([xy, xy + 5 + rng.random((n, 2)) * 20]), "scores": rng.random(n)}
    raw.update({"probs": rng.random((n, k))} if k else {"labels": rng.integers(0, 3, n)})
    return check_detections(raw, "t")


@pytest.mark.parametrize("k", [None, 4])
def test_similarity_in_chunks_equals_every_pair_at_once(monkeypatch, k) -> None:
    """Scored a few output boxes at a time (PAIRS), each reference box keeps its best match over all of them."""
    rng = np.random.default_rng(0)
    ref, out = random_detections(rng, 9, k), random_detections(rng, 40, k)
    cls = detection._class_match(ref, out)
    expected = (iou(ref.boxes, out.boxes) * cls * out.confidence()[None, :]).max(axis=1)
    monkeypatch.setattr(detection, "PAIRS", 20)  # two output boxes per chunk
    assert np.allclose(similarity(ref, out), expected) and expected.max() > 0


def thousands_of_boxes() -> tuple:
    """3,000 reference boxes scored on 3,000 detections, alone and through a whole explanation."""
    rng = np.random.default_rng(1)
    ref, out = random_detections(rng, 3000, None), random_detections(rng, 3000, None)
    s = similarity(ref, out)

    def crowded(batch: np.ndarray) -> list[dict[str, np.ndarray]]:
        return [{"boxes": out.boxes, "scores": out.scores * x.mean(), "labels": out.labels} for x in batch]

    e = peephole.explain(crowded, IMAGE, "rise", task="detection", targets=[0], n_masks=8, batch_size=4)
    return s.shape, e.maps.shape, e.scores.shape


def test_thousands_of_detections_stay_within_memory() -> None:
    """A detector returning thousands of boxes (a raw YOLO head, no threshold): every pair of 3,000 × 3,000 at once
    took over 300 MB of temporaries per output; in chunks the whole explanation fits in 150 MB."""
    peephole.explain(squares, IMAGE, "rise", task="detection", n_masks=2)  # lazy imports before the cap
    result = isolated(thousands_of_boxes, memory=150 << 20, timeout=120)
    assert result == ("ok", ((3000,), (1, 48, 48), (8, 3000)))


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"boxes": [[0, 0, 1, 1]]}, "keys"),
        ({"boxes": None, "scores": None, 3: [1.0]}, r"keys \['3'\] \(None counts as absent\)"),
        ({"boxes": [[0, 0, 1]], "scores": [1.0]}, "shape"),
        ({"boxes": [[0, 0, 1, 1]], "scores": [1.0, 2.0]}, "1 boxes but 2 scores"),
        ({"boxes": [[5, 0, 1, 1]], "scores": [1.0]}, "x1 < x0"),
        ({"boxes": [[0, 0, 1, 1]], "scores": [np.nan]}, "NaN"),
        ({"boxes": [[0, 0, 1, 1]], "scores": [1.0], "labels": [1.5]}, "not whole class numbers"),
        ({"boxes": [[0, 0, 1, 1]], "scores": [0.5 + 1j]}, "'scores' on t is not numeric: complex numbers"),
        ([1, 2], "expected a dict"),
    ],
)
def test_bad_detector_output_is_one_model_error(raw: object, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        check_detections(raw, "t")


def test_every_box_gets_its_own_map_from_one_query_set() -> None:
    e = peephole.explain(squares, IMAGE, "pami", task="detection", **GRID)
    assert e.task == "detection" and e.targets == [0, 1]
    assert np.allclose(e.extras["boxes"], BOXES) and e.extras["labels"].tolist() == [0, 1]
    assert np.allclose(e.probabilities, [IMAGE[4:16, 4:16].mean(), IMAGE[28:44, 26:42].mean()])  # self-similarity = score
    for m, box in zip(e.maps, BOXES):
        assert inside_minus_outside(m, box) > 0.05
    assert inside_minus_outside(e.maps[0], BOXES[1]) < inside_minus_outside(e.maps[1], BOXES[1])


@pytest.mark.parametrize(
    "method, options",
    [
        ("pami", GRID),
        ("rise", {"n_masks": 40}),
        ("occlusion", GRID),
        ("lime", {"n_samples": 40}),
        ("kernel-shap", {"n_samples": 40}),
    ],
)
def test_queries_do_not_depend_on_the_number_of_boxes(method: str, options: dict) -> None:
    """One query set serves every box: explaining one box or both costs the same number of queries."""
    one = peephole.explain(squares, IMAGE, method, task="detection", targets=[1], **options)
    both = peephole.explain(squares, IMAGE, method, task="detection", **options)
    assert both.targets == [0, 1] and one.targets == [1]
    assert one.n_queries == both.n_queries
    assert np.allclose(one.maps[0], both.maps[1])


def test_pami_path_explains_each_box() -> None:
    e = peephole.explain(squares, IMAGE, "pami-path", task="detection", **GRID)
    assert e.maps.shape == (2, 48, 48)
    for m, box in zip(e.maps, BOXES):
        assert inside_minus_outside(m, box) > 0


def test_given_boxes_and_threshold() -> None:
    given = peephole.explain(squares, IMAGE, "occlusion", task=Detection(boxes=[[4, 4, 16, 16]]), **GRID)
    assert np.allclose(given.extras["boxes"], BOXES[:1]) and given.extras["labels"].tolist() == [-1]
    high = peephole.explain(squares, IMAGE, "occlusion", task=Detection(threshold=0.85), **GRID)
    assert np.allclose(high.extras["boxes"], BOXES[:1])
    with pytest.raises(InputError, match="no boxes scoring at least 0.95"):
        peephole.explain(squares, IMAGE, "occlusion", task=Detection(threshold=0.95))
    with pytest.raises(InputError, match="boxes must be"):
        Detection(boxes=[[4, 4, 2, 16]])
    with pytest.raises(InputError, match="target box 5"):
        peephole.explain(squares, IMAGE, "occlusion", task="detection", targets=5)


def test_a_detectors_reference_threshold_applies_unless_the_task_sets_one() -> None:
    """An adapter may declare the score its reference boxes need (a transformers detector's 0.5); perturbed outputs
    keep every detection to match against, and a task's own threshold overrides it."""
    from peephole.models.detection import Detector

    det = Detector(squares, reference_threshold=0.85)
    e = peephole.explain(det, IMAGE, "occlusion", **GRID)
    assert np.allclose(e.extras["boxes"], BOXES[:1])  # the 0.8 square is below 0.85
    assert len(peephole.explain(det, IMAGE, "occlusion", task=Detection(threshold=0.5), **GRID).extras["boxes"]) == 2
    assert len(peephole.explain(squares, IMAGE, "occlusion", task="detection", **GRID).extras["boxes"]) == 2


def test_a_detector_that_returns_the_wrong_number_of_images_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="1 items for 2 images|expected a list"):
        get_task("detection").validate([{"boxes": [], "scores": []}], 2, "t")


def test_result_keeps_boxes_through_save_and_load(tmp_path) -> None:
    e = peephole.explain(squares, IMAGE, "pami", task="detection", **GRID)
    back = peephole.load(e.save(tmp_path / "det.npz"))
    assert back.task == "detection" and back.class_names == e.class_names
    assert np.array_equal(back.extras["boxes"], e.extras["boxes"]) and np.array_equal(back.maps, e.maps)
    assert np.allclose(back.map_for(1), e.maps[1], atol=1e-6)


def test_deletion_curve_scores_the_box_similarity() -> None:
    """Deleting a box's own pixels first drops its similarity faster than deleting the other box's."""
    from peephole.metrics.curves import perturbation_curve

    own = np.zeros((48, 48))
    own[4:16, 4:16] = 1
    other = np.zeros((48, 48))
    other[28:44, 26:42] = 1
    kw = {"step": 48 * 12, "task": "detection"}
    first = perturbation_curve(squares, IMAGE, own, 0, "deletion", **kw)
    late = perturbation_curve(squares, IMAGE, other, 0, "deletion", **kw)
    assert np.isclose(first.probabilities[0], IMAGE[4:16, 4:16].mean()) and first.auc < late.auc
    assert first.n_queries == len(first.fractions) + 1  # the unperturbed image gives the reference boxes


def test_repr_tells_given_boxes_apart() -> None:
    """A run records its task by repr: other boxes (or labels) of the same count must give another repr."""
    a = repr(Detection(boxes=[[0, 0, 4, 4]]))
    assert a == repr(Detection(boxes=[[0, 0, 4, 4]]))
    assert a != repr(Detection(boxes=[[0, 0, 5, 4]]))
    assert repr(Detection(boxes=[[0, 0, 4, 4]], labels=[1])) != repr(Detection(boxes=[[0, 0, 4, 4]], labels=[2]))
    assert repr(Detection()) == "Detection(threshold=None)"
