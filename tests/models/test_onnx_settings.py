"""ONNX files: output kind, input layout and normalisation declared or read from the file; never softmax twice."""

from __future__ import annotations

import numpy as np
import pytest
from onnx_fixtures import expected_scores, signature_onnx, tiny_onnx

import peephole
from peephole.core.query import softmax
from peephole.errors import InputError

IMG = np.random.default_rng(0).random((8, 8, 3)).astype(np.float32)


def test_a_file_that_outputs_probabilities_is_not_softmaxed_twice(tmp_path):
    model = peephole.load_model(str(tiny_onnx(tmp_path / "p.onnx", softmax=True)))
    assert model.output == "probs" and model.settings["output"] == "probs"
    e = peephole.explain(model, IMG, partition="window", radius=2, stride=2)
    np.testing.assert_allclose(e.probabilities, softmax(expected_scores(IMG[None]))[0], atol=1e-5)


def test_logits_by_default_and_a_declared_output_wins(tmp_path):
    path = str(tiny_onnx(tmp_path / "l.onnx"))
    assert peephole.load_model(path).output == "logits"
    assert peephole.load_model(path, output="scores").output == "scores"
    soft = str(tiny_onnx(tmp_path / "s.onnx", softmax=True))
    assert peephole.load_model(soft, output="scores").output == "scores"


def test_nhwc_input_is_detected_and_layout_normalisation_can_be_declared(tmp_path):
    nhwc = peephole.load_model(str(tiny_onnx(tmp_path / "h.onnx", layout="nhwc")))
    assert nhwc.settings == {"output": "logits", "layout": "nhwc", "normalise": "imagenet"}
    np.testing.assert_allclose(nhwc(IMG[None]), expected_scores(IMG[None]), atol=1e-5)
    raw = peephole.load_model(str(tmp_path / "h.onnx"), normalise="none")
    np.testing.assert_allclose(raw(IMG[None]), expected_scores(IMG[None], (0, 0, 0), (1, 1, 1)), atol=1e-5)
    with pytest.raises(InputError, match="layout must be one of"):
        peephole.load_model(str(tmp_path / "h.onnx"), layout="chwn")


def test_settings_recorded_in_the_file_metadata_are_used(tmp_path):
    meta = {"peephole.layout": "nhwc", "peephole.normalise": "none", "peephole.output": "scores"}
    model = peephole.load_model(str(tiny_onnx(tmp_path / "m.onnx", layout="nhwc", metadata=meta)))
    assert model.settings == {"output": "scores", "layout": "nhwc", "normalise": "none"}
    np.testing.assert_allclose(model(IMG[None]), expected_scores(IMG[None], (0, 0, 0), (1, 1, 1)), atol=1e-5)


def test_the_builtin_model_refuses_file_settings_and_urls_are_not_fetched():
    with pytest.raises(InputError, match="fixed settings"):
        peephole.load_model("efficientnet-lite0", output="probs")
    with pytest.raises(InputError, match="URLs are not fetched"):
        peephole.load_model("https://example.com/model")


@pytest.mark.parametrize("fixed", [1, 4])
def test_a_file_with_a_fixed_batch_size_runs_on_batches_of_that_size(tmp_path, fixed):
    """An export without a dynamic batch axis (often 1) failed on the default batches of 16 ("Got invalid dimensions
    for input ... Got: 16 Expected: 1"): its batch size is the preferred one, and other batches are split and padded."""
    model = peephole.load_model(str(tiny_onnx(tmp_path / "f.onnx", batch=fixed)))
    assert model.fixed_batch == fixed and model.preferred_batch_size == fixed
    batch = np.random.default_rng(1).random((7, 8, 8, 3)).astype(np.float32)  # 7 = 4 + 3: the last part padded
    np.testing.assert_allclose(model(batch), expected_scores(batch), atol=1e-5)
    dynamic = peephole.load_model(str(tiny_onnx(tmp_path / "d.onnx")))
    options = {"method": "rise", "n_masks": 21, "seed": 3}
    want = peephole.explain(dynamic, IMG, **options)
    for batch_size in (None, 16, 3):
        e = peephole.explain(model, IMG, batch_size=batch_size, **options)
        np.testing.assert_allclose(e.maps, want.maps, rtol=1e-5, atol=1e-7)
        assert e.n_queries == want.n_queries == 22


@pytest.mark.parametrize("input_type", ["FLOAT16", "DOUBLE"])
def test_a_half_or_double_precision_input_gets_the_batch_in_its_type(tmp_path, input_type):
    """A float16 export failed on its first batch ("Unexpected input data type. Actual: (tensor(float))")."""
    model = peephole.load_model(str(tiny_onnx(tmp_path / "h.onnx", input_type=input_type)))
    tol = 2e-2 if input_type == "FLOAT16" else 1e-5
    np.testing.assert_allclose(model(IMG[None]), expected_scores(IMG[None]), atol=tol)
    assert peephole.explain(model, IMG, method="rise", n_masks=4).maps.shape == (1, 8, 8)


def test_an_input_that_takes_uint8_gets_the_images_0_to_255_values(tmp_path):
    """A uint8 export (TF and quantised models take the image's bytes) was one InputError: it gets round(255·x),
    unnormalised; a declared normalisation is refused, as is an input of another integer type."""
    model = peephole.load_model(str(tiny_onnx(tmp_path / "u.onnx", input_type="UINT8")))
    assert model.settings["normalise"] == "none"
    np.testing.assert_allclose(model(IMG[None]), expected_scores(np.rint(IMG[None] * 255), (0, 0, 0), (1, 1, 1)), rtol=1e-5)
    assert peephole.explain(model, IMG, method="rise", n_masks=4).maps.shape == (1, 8, 8)
    with pytest.raises(InputError, match="takes uint8, the image's 0–255 values; normalise must be 'none'"):
        peephole.load_model(str(tmp_path / "u.onnx"), normalise="imagenet")
    with pytest.raises(InputError, match=r"input 'x' takes tensor\(int64\); Peephole feeds float or uint8 images"):
        peephole.load_model(str(tiny_onnx(tmp_path / "i.onnx", input_type="INT64")))


@pytest.mark.parametrize(
    ("graph", "message"),
    [
        ({"inputs": 0}, "the graph takes 0 inputs"),
        ({"inputs": 2}, r"takes 2 inputs \('x0', 'x1'\); Peephole feeds one image batch"),
        ({"shape": ("N", 28, 28)}, "its input is N×28×28, 3 axes; Peephole feeds image batches"),
        ({"shape": ("N", 4, 8, 8)}, "N×4×8×8, 4 channels in the nchw layout"),
        ({"shape": (1, 3, 0, 0)}, "its input is 1×3×0×0: the model's input size is 0×0; Peephole resizes to 1 to 16,777,216"),
        ({"shape": (1, 3, 100_000, 100_000)}, "input size is 100000×100000"),
        ({"outputs": ("sequence", "label")}, r"no output is a float tensor \(it has 'sequence' seq\(tensor\(float\)\), 'label'"),
    ],
)
def test_a_graph_peephole_cannot_feed_or_read_is_one_input_error_when_loaded(tmp_path, graph, message):
    """Each was a traceback (IndexError for no input or a sequence output) or failed on every image (onnxruntime's
    "Required inputs ... are missing", "Invalid rank", OpenCV asked for 120 GB to resize to 100,000×100,000)."""
    with pytest.raises(InputError, match=message):
        peephole.load_model(signature_onnx(tmp_path / "g.onnx", **graph))


def test_the_scores_are_the_first_float_output(tmp_path):
    """An export whose first output is its int64 label (scikit-learn's, TF's) had the label read as one logit: a
    binary classifier's made-up probabilities. The probabilities after it are read, and their Softmax is seen."""
    model = peephole.load_model(signature_onnx(tmp_path / "l.onnx", outputs=("label", "sequence", "probs")))
    assert model.output_name == "probs" and model.output == "probs"
    with pytest.warns(UserWarning, match="read from its first float output 'probs'; it also has 'probs2'"):
        peephole.load_model(signature_onnx(tmp_path / "two.onnx", outputs=("label", "probs", "probs2")))
    normalised = (IMG - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    want = softmax(normalised.mean(axis=(0, 1))[None])
    np.testing.assert_allclose(model(IMG[None]), want, rtol=1e-5)
    assert peephole.explain(model, IMG, method="rise", n_masks=4).probabilities.shape == (3,)


def grey_onnx(path, nhwc: bool = False):
    """A one-channel classifier (N×1×28×28, or N×28×28×1): 10 logits = flattened pixels @ W."""
    import onnx
    from onnx import TensorProto, helper

    w = np.random.default_rng(1).normal(size=(784, 10)).astype(np.float32)
    shape = ["N", 28, 28, 1] if nhwc else ["N", 1, 28, 28]
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["x"], ["f"]), helper.make_node("MatMul", ["f", "W"], ["y"])], "grey",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])],
        [helper.make_tensor("W", TensorProto.FLOAT, [784, 10], w.ravel())],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path, w


@pytest.mark.parametrize("nhwc", [False, True])
def test_a_one_channel_file_gets_the_images_luma(tmp_path, nhwc):
    """An MNIST-style file (1×28×28, or 28×28×1) raised onnxruntime's "Got: 3 Expected: 1" on every image: it gets
    the image's luma (BT.601, as PIL's convert("L")) at its size, unnormalised unless declared; a torch module of one
    channel the same with ImagePreprocess(grey=True)."""
    import cv2
    from PIL import Image

    path, w = grey_onnx(tmp_path / "g.onnx", nhwc)
    model = peephole.load_model(str(path))
    assert model.settings == {"output": "logits", "layout": "nhwc" if nhwc else "nchw", "normalise": "none"}
    image = np.random.default_rng(2).random((40, 40, 3)).astype(np.float32)
    small = cv2.resize(image, (28, 28), interpolation=cv2.INTER_LINEAR)
    luma = np.asarray(Image.fromarray((small * 255).round().astype(np.uint8)).convert("L"), np.float32) / 255
    np.testing.assert_allclose(model(image[None])[0], luma.ravel() @ w, atol=0.05 * np.abs(luma.ravel() @ w).max())
    exact = small @ np.array([0.299, 0.587, 0.114], np.float32)
    np.testing.assert_allclose(model(image[None])[0], exact.ravel() @ w, rtol=1e-4, atol=1e-3)
    imagenet = peephole.load_model(str(path), normalise="imagenet")  # the means of ImageNet's mean and std
    np.testing.assert_allclose(imagenet(image[None])[0], ((exact - 0.449) / 0.226).ravel() @ w, rtol=1e-3, atol=1e-2)
    e = peephole.explain(model, image, "occlusion", radius=8, stride=8, window="square")
    assert e.maps.shape == (1, 40, 40) and np.isfinite(e.maps).all()


def test_a_one_channel_torch_module_takes_the_luma_with_a_grey_preprocess():
    torch = pytest.importorskip("torch")
    from peephole.models.preprocess import ImagePreprocess
    from peephole.models.torch import TorchModel

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10)).eval()
    model = TorchModel(net, "logits", ImagePreprocess(size=(28, 28), grey=True))
    image = np.random.default_rng(2).random((40, 40, 3)).astype(np.float32)
    import cv2

    exact = cv2.resize(image, (28, 28), interpolation=cv2.INTER_LINEAR) @ np.array([0.299, 0.587, 0.114], np.float32)
    with torch.no_grad():
        want = net(torch.from_numpy(exact[None, None])).numpy()
    np.testing.assert_allclose(model(image[None]), want, rtol=1e-4, atol=1e-5)


def ultralytics_meta(task: str = "classify", **extra: str) -> dict[str, str]:
    """The metadata an Ultralytics export writes (each value ``str()`` of a Python value, as its exporter does)."""
    meta = {"author": "Ultralytics", "task": task, "stride": "1", "batch": "1", "imgsz": "[8, 8]"}
    return {**meta, "names": "{0: 'tench', 1: 'goldfish', 2: 'great white shark', 3: 'tiger shark'}", **extra}


def test_an_ultralytics_classifier_is_read_unnormalised_with_its_class_names(tmp_path):
    """A YOLO classifier's export takes [0, 1] RGB (its classify_transforms: mean 0, std 1): it was normalised with
    ImageNet's mean and std (other scores, silently) and its classes had no names."""
    model = peephole.load_model(str(tiny_onnx(tmp_path / "c.onnx", softmax=True, metadata=ultralytics_meta())))
    assert model.settings == {"output": "probs", "layout": "nchw", "normalise": "none"}
    assert model.class_names == ["tench", "goldfish", "great white shark", "tiger shark"]
    want = softmax(expected_scores(IMG[None], (0, 0, 0), (1, 1, 1)))
    np.testing.assert_allclose(model(IMG[None]), want, atol=1e-5)
    e = peephole.explain(model, IMG, targets="goldfish", partition="window", radius=2, stride=2)
    assert e.targets == [1] and e.class_names[1] == "goldfish"
    declared = peephole.load_model(str(tmp_path / "c.onnx"), normalise="imagenet")  # what is declared still wins
    np.testing.assert_allclose(declared(IMG[None]), softmax(expected_scores(IMG[None])), atol=1e-5)


def test_an_ultralytics_classifier_of_any_input_size_is_fed_its_imgsz(tmp_path):
    path = signature_onnx(tmp_path / "d.onnx", shape=("N", 3, "H", "W"), metadata=ultralytics_meta(imgsz="[32, 48]"))
    assert peephole.load_model(path).preprocess.size == (32, 48)
    square = signature_onnx(tmp_path / "s.onnx", shape=("N", 3, "H", "W"), metadata=ultralytics_meta(imgsz="64"))
    assert peephole.load_model(square).preprocess.size == (64, 64)


@pytest.mark.parametrize("task", ["detect", "segment", "pose", "obb"])
def test_an_ultralytics_detector_is_one_error_saying_how_to_explain_it(tmp_path, task):
    path = tiny_onnx(tmp_path / "y.onnx", metadata=ultralytics_meta(task))
    with pytest.raises(InputError, match=rf"an Ultralytics YOLO '{task}' model.*peephole.explain\(YOLO\("):
        peephole.load_model(str(path))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("names", "__import__('os').system('touch PWNED')"),  # read as a literal, never run
        ("names", "{1: 'a', 2: 'b'}"),
        ("names", "{0: 3}"),
        ("names", "[" * 500 + "]" * 500),
        ("imgsz", "[8, 8, 8]"),
        ("imgsz", "'big'"),
        ("names", "'" + "a" * 1_000_001 + "'"),
    ],
)
def test_ultralytics_metadata_that_says_no_names_or_size_is_one_error(tmp_path, monkeypatch, key, value):
    monkeypatch.chdir(tmp_path)
    path = tiny_onnx(tmp_path / "b.onnx", softmax=True, metadata=ultralytics_meta(**{key: value}))
    with pytest.raises(InputError, match=f"metadata '{key}'"):
        peephole.load_model(str(path))
    assert not (tmp_path / "PWNED").exists()


def hf_folder(folder, processor: dict, config: dict | None = None, **onnx_kw) -> str:
    """An ONNX file saved as Optimum exports one: ``model.onnx`` beside ``preprocessor_config.json`` and ``config.json``."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "preprocessor_config.json").write_text(json.dumps(processor))
    if config is not None:
        (folder / "config.json").write_text(json.dumps(config))
    return str(tiny_onnx(folder / "model.onnx", **onnx_kw))


VIT_PROCESSOR = {
    "image_processor_type": "ViTImageProcessor",
    "do_resize": True,
    "size": {"height": 8, "width": 8},
    "do_rescale": True,
    "rescale_factor": 1 / 255,
    "do_normalize": True,
    "image_mean": [0.5, 0.5, 0.5],
    "image_std": [0.5, 0.5, 0.5],
}
VIT_CONFIG = {"architectures": ["ViTForImageClassification"], "id2label": {str(i): n for i, n in enumerate("wxyz")}}


def test_an_onnx_file_in_a_hugging_face_folder_takes_its_processor_and_class_names(tmp_path):
    """Optimum's export of a ViT: its inputs are normalised with mean and std 0.5, not ImageNet's (other scores,
    silently), and its config names its classes."""
    path = hf_folder(tmp_path / "vit", VIT_PROCESSOR, VIT_CONFIG)
    model = peephole.load_model(path)
    assert model.settings == {"output": "logits", "layout": "nchw", "normalise": "processor"}
    assert model.class_names == ["w", "x", "y", "z"] and model.preprocess.size == (8, 8)
    np.testing.assert_allclose(model(IMG[None]), expected_scores(IMG[None], (0.5,) * 3, (0.5,) * 3), atol=1e-5)
    declared = peephole.load_model(path, normalise="imagenet")  # what is declared still wins
    np.testing.assert_allclose(declared(IMG[None]), expected_scores(IMG[None]), atol=1e-5)
    with pytest.raises(InputError, match="normalise='processor' reads the preprocessor_config.json beside the file"):
        peephole.load_model(str(tiny_onnx(tmp_path / "alone.onnx")), normalise="processor")


def test_a_multi_label_onnx_export_takes_a_sigmoid_per_class(tmp_path):
    config = {**VIT_CONFIG, "problem_type": "multi_label_classification"}
    model = peephole.load_model(hf_folder(tmp_path / "ml", VIT_PROCESSOR, config))
    z = expected_scores(IMG[None], (0.5,) * 3, (0.5,) * 3)
    assert model.output == "probs"
    np.testing.assert_allclose(model(IMG[None]), 1 / (1 + np.exp(-z)), atol=1e-5)
    assert not peephole.load_model(str(tmp_path / "ml" / "model.onnx"), output="scores").sigmoid  # declared: as it is


@pytest.mark.parametrize(
    ("processor", "config", "match"),
    [
        ("{not json", None, "preprocessor_config.json: not a readable JSON file"),
        ([1, 2], None, "holds a JSON list"),
        ({**VIT_PROCESSOR, "image_mean": [0.5, 0.5]}, None, "mean"),
        ({k: v for k, v in VIT_PROCESSOR.items() if k != "image_std"}, None, "cannot read"),
        ({**VIT_PROCESSOR, "rescale_factor": "abc"}, None, "cannot read"),
        (VIT_PROCESSOR, {"id2label": {"a": "cat"}}, "cannot read"),
        (VIT_PROCESSOR, {"problem_type": "ranking"}, "problem_type"),
    ],
)
def test_a_hugging_face_folder_whose_files_peephole_cannot_read_is_one_error(tmp_path, processor, config, match):
    import json

    (tmp_path / "preprocessor_config.json").write_text(processor if isinstance(processor, str) else json.dumps(processor))
    if config is not None:
        (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(InputError, match=match):
        peephole.load_model(str(tiny_onnx(tmp_path / "model.onnx")))


def test_a_hugging_face_folder_holding_only_its_onnx_export_says_to_give_the_file(tmp_path):
    """Given the folder, transformers found no weights ("no file named model.safetensors"): the error names the file."""
    config = {**VIT_CONFIG, "model_type": "vit", "image_size": 8, "patch_size": 4, "hidden_size": 8}
    path = hf_folder(tmp_path / "vit", VIT_PROCESSOR, {**config, "num_hidden_layers": 1, "num_attention_heads": 1})
    with pytest.raises(InputError, match=r"holds no PyTorch weights but an ONNX export \(model.onnx\): give that file"):
        peephole.load_model(str(tmp_path / "vit"))
    assert peephole.load_model(path).class_names == ["w", "x", "y", "z"]
