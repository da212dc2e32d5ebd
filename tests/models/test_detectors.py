"""Detector adapters: callables, torchvision-style modules, YOLO results (duck-typed), Haar cascades, DBNet."""

from __future__ import annotations

import importlib.util
from types import SimpleNamespace

import numpy as np
import pytest

import peephole
from peephole.errors import InputError
from peephole.models.detection import Detector, as_detector, as_dict
from peephole.models.registry import load_model
from peephole.tasks.detection import iou

torch = pytest.importorskip("torch")

IMAGE = np.full((40, 40, 3), 0.1, np.float32)
IMAGE[8:20, 10:22] = 0.9
BOX = [10.0, 8.0, 22.0, 20.0]


class TinyDetector(torch.nn.Module):
    """torchvision's detection convention: a list of 3×H×W tensors in, a list of dicts of tensors out."""

    def __init__(self) -> None:
        super().__init__()
        self.gain = torch.nn.Parameter(torch.ones(1))
        self.seen: list[tuple[int, ...]] = []

    def forward(self, images: list) -> list[dict]:
        out = []
        for x in images:
            self.seen.append(tuple(x.shape))
            s = x[:, 8:20, 10:22].mean() * self.gain
            out.append({"boxes": torch.tensor([BOX]), "scores": s.reshape(1), "labels": torch.tensor([3])})
        return out


def test_a_torchvision_style_module_is_explained_and_never_moved_or_switched() -> None:
    net = TinyDetector().eval()
    calls = []
    for name in ("to", "cpu", "cuda", "train", "eval"):
        original = getattr(net, name)
        setattr(net, name, lambda *a, _n=name, _o=original, **k: calls.append(_n) or _o(*a, **k))
    e = peephole.explain(net, IMAGE, "occlusion", task="detection", partition="window", radius=4, stride=8, window="square")
    assert calls == [] and not net.training
    assert net.seen[0] == (3, 40, 40)  # channels first, one tensor per image
    assert e.task == "detection" and np.allclose(e.extras["boxes"], [BOX]) and e.extras["labels"].tolist() == [3]
    inside = e.maps[0][8:20, 10:22].mean()
    assert inside > e.maps[0].mean()


def test_a_module_in_training_mode_is_refused_without_changing_it() -> None:
    net = TinyDetector()
    with pytest.raises(InputError, match=r"training mode; call \.eval\(\)"):
        peephole.explain(net, IMAGE, "occlusion", task="detection")
    assert net.training


def test_a_detector_declares_its_task_so_no_task_argument_is_needed() -> None:
    det = as_detector(lambda b: [{"boxes": [BOX], "scores": [float(x[8:20, 10:22].mean())]} for x in b], ["blob"])
    e = peephole.explain(det, IMAGE, "pami", partition="window", radius=4, stride=8, window="square")
    assert e.task == "detection" and e.class_names == ["box 0"]  # no labels: boxes are named by index


def test_threshold_drops_low_scores() -> None:
    det = Detector(lambda b: [{"boxes": [BOX, [0, 0, 5, 5]], "scores": [0.9, 0.2], "labels": [1, 1]} for _ in b], threshold=0.5)
    out = det(IMAGE[None])
    assert np.allclose(out[0]["boxes"], [BOX]) and out[0]["labels"].tolist() == [1]


class FakeBoxes:
    def __init__(self) -> None:
        self.xyxy = torch.tensor([BOX])
        self.conf = torch.tensor([0.8])
        self.cls = torch.tensor([2.0])


class FakeYolo:
    """Duck-typed like ultralytics' YOLO: predict(list of uint8 BGR images) -> Results with .boxes."""

    names = {0: "person", 1: "bicycle", 2: "car"}

    def __init__(self) -> None:
        self.given: list[np.ndarray] = []

    def predict(self, images: list, verbose: bool = False) -> list:
        self.given += images
        return [SimpleNamespace(boxes=FakeBoxes()) for _ in images]


FakeYolo.__module__ = "ultralytics.engine.model"


def test_yolo_results_are_read_by_duck_typing() -> None:
    yolo = FakeYolo()
    det = as_detector(yolo)
    assert det.class_names == ["person", "bicycle", "car"]
    out = det(IMAGE[None])
    assert yolo.given[0].dtype == np.uint8 and yolo.given[0][10, 12, 0] == round(0.9 * 255)  # BGR of a grey pixel
    assert np.allclose(out[0]["boxes"], [BOX]) and out[0]["labels"].tolist() == [2] and np.allclose(out[0]["scores"], [0.8])
    assert as_dict("neither") == "neither"
    e = peephole.explain(det, IMAGE, "occlusion", partition="window", radius=8, stride=16, window="square")
    assert e.class_names == ["car 0"]


def test_yolo_segmentation_outlines_are_filled_as_instance_masks() -> None:
    """A YOLO-seg ``Results`` holds each instance's outline in the image's pixels (``masks.xy``): filled on the image's
    size, they become the detection's masks, and the instance's map lies inside its outline."""
    outline = np.array([[10, 8], [21, 8], [21, 19], [10, 19]], np.float32)  # the bright square's corners

    class FakeSegYolo(FakeYolo):
        def predict(self, images: list, verbose: bool = False) -> list:
            kept = [x[8:20, 10:22].mean() / 255 for x in images]
            return [SimpleNamespace(boxes=FakeBoxes(), masks=SimpleNamespace(xy=[outline[:: 1 if k > 0.5 else 2]]))
                    for k in kept]  # fmt: skip

    FakeSegYolo.__module__ = "ultralytics.engine.model"
    det = as_detector(FakeSegYolo())
    out = det(IMAGE[None])[0]
    assert out["masks"].shape == (1, 40, 40) and out["masks"][0, 8:20, 10:22].all() and out["masks"].sum() == 144
    e = peephole.explain(det, IMAGE, "rise", n_masks=8)
    assert e.extras["masks"].shape == (1, 40, 40) and e.extras["masks"].sum() == 144


@pytest.mark.skipif(importlib.util.find_spec("ultralytics") is None, reason="ultralytics is not installed (it is optional)")
def test_a_real_ultralytics_model_is_a_detector() -> None:  # pragma: no cover - needs ultralytics and its weights
    from ultralytics import YOLO

    try:
        model = YOLO("yolov8n.pt")
    except Exception as exc:
        pytest.skip(f"no YOLO weights offline: {exc}")
    assert as_detector(model).class_names


def test_haar_face_finds_the_astronauts_face() -> None:
    from skimage.data import astronaut

    x = astronaut().astype(np.float32) / 255
    out = load_model("haar-face")(x[None])[0]
    assert len(out["boxes"]) == 1 and out["scores"][0] > 1
    assert iou(out["boxes"], np.array([[177.0, 66, 272, 161]]))[0, 0] > 0.6  # the full-size cascade's box
    assert load_model("haar-cat").class_names == ["cat face"] and load_model("haar-body").task == "detection"
    with pytest.raises(InputError, match="fixed settings"):
        load_model("haar-face", output="probs")


def test_side_sets_the_working_size_of_a_built_in_detector() -> None:
    import cv2
    from skimage.data import astronaut

    canvas = np.full((640, 640, 3), 0.5, np.float32)
    canvas[:256, :256] = cv2.resize(astronaut(), (256, 256), interpolation=cv2.INTER_AREA) / 255  # a face of ~48 px
    small = load_model("haar-face")(canvas[None])[0]["boxes"]  # at 320 px the face is ~24 px: below the cascade's window
    full = load_model("haar-face", side=640)(canvas[None])[0]["boxes"]
    assert len(small) == 0 and len(full) == 1
    assert iou(full, np.array([[177.0, 66, 272, 161]]) / 2)[0, 0] > 0.5  # in the input's pixels
    with pytest.raises(InputError, match="working size"):
        load_model("efficientnet-lite0", side=640)
    with pytest.raises(InputError, match=">= 32"):
        load_model("haar-face", side=8)


@pytest.mark.skipif(importlib.util.find_spec("rapidocr_onnxruntime") is None, reason="the detection extra is not installed")
def test_dbnet_works_at_the_side_it_is_given() -> None:
    import cv2

    im = np.full((480, 640, 3), 255, np.uint8)
    cv2.putText(im, "PEEPHOLE", (30, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (0, 0, 0), 2)
    full = load_model("dbnet-text", side=640)(im[None] / 255.0)[0]["boxes"]
    tiny = load_model("dbnet-text", side=64)(im[None] / 255.0)[0]["boxes"]  # letters of ~3 px: the word is lost
    assert len(full) == 1 and iou(full, np.array([[30.0, 50, 250, 85]]))[0, 0] > 0.5
    assert len(tiny) == 0 or iou(tiny, full).max() < 0.5


@pytest.mark.skipif(importlib.util.find_spec("rapidocr_onnxruntime") is None, reason="the detection extra is not installed")
def test_dbnet_finds_rendered_text() -> None:
    import cv2

    im = np.full((240, 480, 3), 255, np.uint8)
    cv2.putText(im, "PEEPHOLE", (30, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (0, 0, 0), 3)
    cv2.putText(im, "boxes 2026", (200, 190), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2)
    out = load_model("dbnet-text")(im[None] / 255.0)[0]
    assert len(out["boxes"]) == 2 and (out["scores"] > 0.5).all()
    assert iou(out["boxes"], np.array([[30.0, 45, 270, 85], [200, 165, 365, 195]])).max(axis=0).min() > 0.6
    blank = load_model("dbnet-text")(np.ones((1, 240, 480, 3)))[0]
    assert len(blank["boxes"]) == 0
