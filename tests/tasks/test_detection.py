"""The detection task: D-RISE similarity, reference boxes, one query set for every box, results saved with boxes."""

from __future__ import annotations

import numpy as np
import pytest
from isolation import isolated

import peephole
from peephole.errors import InputError, ModelError
from peephole.tasks import Detection, detection, get_task
from peephole.tasks.detection import check_detections, check_masks, iou, similarity

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
        ({"boxes": [[0, 0, 1, 1]], "scores": [1.0], "masks": np.ones((2, 4, 4))}, r"masks of shape \(2, 4, 4\) for 1 boxes"),
        ({"boxes": [[0, 0, 1, 1]], "scores": [1.0], "masks": np.ones((1, 2, 4, 4))}, "expected 1×H×W"),
        ({"boxes": [[0, 0, 1, 1]], "scores": [1.0], "masks": np.full((1, 4, 4), "x")}, "'masks' on t are not numbers"),
        ({"boxes": [[0, 0, 1, 1]], "scores": [1.0], "masks": np.full((1, 4, 4), np.nan)}, "'masks' on t hold NaN"),
        ({"boxes": [[0, 0, 1, 1]] * 2, "scores": [1.0] * 2, "masks": [np.ones((4, 4)), np.ones((3, 4))]}, "no N×H×W array"),
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


def test_a_class_name_picks_its_boxes_and_a_name_two_classes_share_picks_both() -> None:
    """A box target by class name took the first class of that name only (ImageNet and COCO-style label lists repeat
    names): a shared name now picks the boxes of every class called so."""
    from peephole.models.detection import Detector

    for names, want in ((["dark", "square"], [1]), (["square", "square"], [0, 1])):
        e = peephole.explain(Detector(squares, class_names=names), IMAGE, "pami", targets="square", **GRID)
        assert e.targets == want
    with pytest.raises(InputError, match="unknown class 'circle'"):
        peephole.explain(Detector(squares, class_names=["a", "b"]), IMAGE, "pami", targets="circle", **GRID)


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


# --- instance segmentation: masks instead of boxes ----------------------------------------------------------------------
#: Two instances on a dark 48×48 image: an L in the red channel, and a square in the green channel lying inside the
#: L's box but off its mask (boxes alone cannot tell the L's pixels from the square's).
L_MASK = np.zeros((48, 48), bool)
L_MASK[4:40, 4:12] = L_MASK[32:40, 4:40] = True
SQUARE = np.zeros((48, 48), bool)
SQUARE[10:22, 20:32] = True
INSTANCES = np.full((48, 48, 3), 0.1, np.float32)
INSTANCES[L_MASK, 0] = INSTANCES[SQUARE, 1] = 0.9
INSTANCE_BOXES = np.array([[4, 4, 40, 40], [20, 10, 32, 22]], np.float64)


def instances(with_masks: bool, torchvision: bool = False):
    """A detector whose boxes never move: each instance's mask is where its channel is still bright (torchvision's
    N×1×H×W probabilities, or N×H×W booleans)."""

    def detect(batch: np.ndarray) -> list[dict[str, np.ndarray]]:
        out = []
        for x in np.asarray(batch):
            d = {"boxes": INSTANCE_BOXES, "scores": np.ones(2), "labels": np.array([0, 1])}
            if with_masks:
                masks = np.stack([x[..., 0] > 0.5, x[..., 1] > 0.5])
                d["masks"] = masks[:, None].astype(np.float32) * 0.8 if torchvision else masks
            out.append(d)
        return out

    return detect


@pytest.mark.parametrize("torchvision", [False, True])
def test_an_instance_is_explained_by_its_mask_not_its_box(torchvision) -> None:
    """With masks the IoU is the masks': the L's map lies on the L, the square's on the square, though the square is
    inside the L's box. The same detector without masks scores every query 1 (its boxes never move): flat maps."""
    grid = {**GRID, "radius": 2, "stride": 4, "masker": "black"}
    e = peephole.explain(instances(True, torchvision), INSTANCES, "occlusion", task="detection", **grid)
    assert e.extras["masks"].shape == (2, 48, 48) and e.extras["masks"].dtype == bool
    assert np.array_equal(e.extras["masks"][0], L_MASK) and np.array_equal(e.extras["masks"][1], SQUARE)
    m_l, m_sq = e.maps
    assert m_l[L_MASK].mean() > 0.02 > abs(m_l[SQUARE].mean()) and m_sq[SQUARE].mean() > 0.02 > abs(m_sq[L_MASK].mean())
    boxes_only = peephole.explain(instances(False), INSTANCES, "occlusion", task="detection", **grid)
    assert "masks" not in boxes_only.extras and np.ptp(boxes_only.maps) == 0


def test_instance_masks_are_kept_saved_and_outlined(tmp_path) -> None:
    """The reference masks round-trip through save/load and are what the figure outlines (``region_of``)."""
    from peephole.modalities.image.view import region_of

    e = peephole.explain(instances(True), INSTANCES, "rise", task="detection", n_masks=8)
    back = peephole.load(e.save(tmp_path / "inst.npz"))
    assert np.array_equal(back.extras["masks"], e.extras["masks"])
    assert np.array_equal(region_of(back, 1), SQUARE) and region_of(back, 1).dtype == bool
    assert back.view.regions() is not None and len(back.view.regions()) == 2
    fig = back.view.figure()
    outlined = [ax.get_title().split()[0] for ax in fig.axes if ax.collections and ax.get_title()]  # a contour each
    assert len(outlined) == 2
    plain = peephole.explain(instances(False), INSTANCES, "rise", task="detection", n_masks=8).view.figure()
    assert not [ax for ax in plain.axes if ax.collections and ax.get_title()]  # boxes only: no outline


def test_large_masks_are_read_on_a_grid() -> None:
    """A 1000×1500 mask is sampled on the 128-a-side grid (its left half stays its left half), a tensor's as an
    array's."""
    torch = pytest.importorskip("torch")
    from peephole.models.detection import on_grid

    masks = np.zeros((3, 1, 1000, 1500), np.float32)
    masks[:, :, :, :750] = 0.9
    grid = check_masks(masks, 3, "t")
    assert grid.shape == (3, 128, 128) and grid[:, :, :64].all() and not grid[:, :, 64:].any()
    np.testing.assert_array_equal(on_grid(torch.from_numpy(masks)), on_grid(masks))


#: A Mask R-CNN's output at scale: 40 full-size float masks (40 × 1,000 × 1,000 × 4 bytes = 160 MB), made once
BIG_MASKS: list[np.ndarray] = []


def big_masks_explained() -> tuple:
    """RISE on a 1000×1000 image over a detector returning the same 160 MB of masks for every image of its batches."""
    image = np.full((1000, 1000, 3), 0.5, np.float32)

    def detect(batch: np.ndarray) -> list[dict]:
        return [{"boxes": np.tile([[100.0, 100, 600, 600]], (40, 1)), "scores": np.ones(40), "masks": BIG_MASKS[0]}
                for _ in batch]  # fmt: skip

    e = peephole.explain(detect, image, "rise", task="detection", targets=[0], n_masks=4, batch_size=4, allow_large=True)
    return e.extras["masks"].shape, e.maps.shape


def test_full_size_masks_are_sampled_before_they_are_copied() -> None:
    """The detector's masks are sampled on their grid as they come out of it: a batch of 4 images' copies of them
    took 640 MB (and the query layer's copy as much again); the explanation fits in 250 MB beyond the masks."""
    peephole.explain(instances(True), INSTANCES, "rise", task="detection", n_masks=2)  # lazy imports before the cap
    BIG_MASKS.append(np.zeros((40, 1, 1000, 1000), np.float32))
    BIG_MASKS[0][:, :, 100:600, 100:600] = 0.9
    try:
        result = isolated(big_masks_explained, memory=250 << 20, timeout=300)
    finally:
        BIG_MASKS.clear()
    assert result == ("ok", ((40, 128, 128), (1, 1000, 1000)))


def test_masks_that_vanish_from_a_later_output_are_one_model_error() -> None:
    """Masks on the image but none (or of another size) on a perturbed output with detections: the detector changed."""
    ref = check_detections({"boxes": [[0, 0, 4, 4]], "scores": [1.0], "masks": np.ones((1, 8, 8))}, "t")
    with pytest.raises(ModelError, match="masks of 8×8 samples before, now none"):
        similarity(ref, check_detections({"boxes": [[0, 0, 4, 4]], "scores": [1.0]}, "t"))
    with pytest.raises(ModelError, match="now masks of 4×4 samples"):
        similarity(ref, check_detections({"boxes": [[0, 0, 4, 4]], "scores": [1.0], "masks": np.ones((1, 4, 4))}, "t"))
