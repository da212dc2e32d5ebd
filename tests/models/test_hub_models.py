"""transformers image classifiers and pipelines, and timm models: explained with no ``output=``, class names from the
model, the processor's preprocessing; small random-initialised models built from configs (nothing downloaded)."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import peephole  # noqa: E402
from peephole.models.base import as_model  # noqa: E402
from peephole.models.hf_image import HFImageClassifier  # noqa: E402
from peephole.models.timm import TimmModel  # noqa: E402

IMG = np.random.default_rng(0).random((32, 32, 3)).astype(np.float32)
FAST = {"method": "pami", "partition": "window", "radius": 8, "stride": 8}
LABELS = {0: "cat", 1: "dog", 2: "fox"}


@pytest.fixture(scope="module")
def vit():
    torch.manual_seed(0)
    cfg = transformers.ViTConfig(
        image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        num_labels=3, id2label=LABELS, label2id={v: k for k, v in LABELS.items()},
    )  # fmt: skip
    return transformers.ViTForImageClassification(cfg)  # train mode (dropout), as built


def logits(model, pixels):
    with torch.no_grad():
        was = model.training
        out = model.eval()(pixel_values=torch.from_numpy(pixels.transpose(0, 3, 1, 2).copy())).logits.numpy()
        model.train(was)
    return out


def test_a_vit_model_needs_no_output_and_names_its_classes_from_id2label(vit):
    was = [m.training for m in vit.modules()]
    e = peephole.explain(vit, IMG, **FAST)  # before: "'ImageClassifierOutput' object has no attribute 'float'"
    assert e.class_names == ["cat", "dog", "fox"] and e.maps.shape == (1, 32, 32)
    mean, std = np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32)
    want = torch.softmax(torch.from_numpy(logits(vit, ((IMG - mean) / std)[None])), 1)[0].numpy()
    np.testing.assert_allclose(e.probabilities, want, rtol=1e-4, atol=1e-5)  # no processor: ImageNet mean / std
    assert [m.training for m in vit.modules()] == was  # left in train mode, as it was
    assert peephole.explain(vit, IMG, output="logits", **FAST).maps.tolist() == e.maps.tolist()


def test_an_image_classification_pipeline_is_an_image_model_with_its_processors_preprocessing(vit):
    proc = transformers.ViTImageProcessor(size={"height": 32, "width": 32}, image_mean=[0.5] * 3, image_std=[0.25] * 3)
    pipe = transformers.pipeline("image-classification", model=vit, image_processor=proc)
    big = np.random.default_rng(1).random((48, 40, 3)).astype(np.float32)
    e = peephole.explain(pipe, big, **FAST)  # before: "the pipeline has no model or tokenizer" (taken for text)
    assert e.modality == "image" and e.class_names == ["cat", "dog", "fox"] and e.maps.shape == (1, 48, 40)
    model = as_model(pipe)
    assert isinstance(model, HFImageClassifier) and model.preprocess.size == (32, 32)
    import cv2

    resized = cv2.resize(big, (32, 32), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(model(big[None]), logits(vit, ((resized - 0.5) / 0.25)[None]), rtol=1e-4, atol=1e-5)


def test_convnext_with_a_shortest_edge_processor_and_a_batch_of_images():
    torch.manual_seed(0)
    cfg = transformers.ConvNextConfig(hidden_sizes=[8, 16], depths=[1, 1], num_stages=2, image_size=32, num_labels=4)
    net = transformers.ConvNextForImageClassification(cfg)
    proc = transformers.ConvNextImageProcessor(size={"shortest_edge": 24})
    model = HFImageClassifier(net, proc)
    assert model.preprocess.size == (24, 24) and model.class_names == ["LABEL_0", "LABEL_1", "LABEL_2", "LABEL_3"]
    got = peephole.explain(model, [IMG, IMG[::-1].copy()], **FAST)
    assert [g.maps.shape for g in got] == [(1, 32, 32)] * 2 and got[0].class_names == model.class_names


class TimmLike(torch.nn.Module):
    """A torch module carrying what ``timm.create_model`` sets: ``pretrained_cfg`` and ``num_classes`` (timm itself
    needs torchvision, which is not installed here)."""

    def __init__(self, n: int, labels=None) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.num_classes = n
        self.pretrained_cfg = {"input_size": (3, 24, 24), "mean": (0.5, 0.5, 0.5), "std": (0.2, 0.2, 0.2)}
        if labels:
            self.pretrained_cfg["label_names"] = labels
        self.conv = torch.nn.Conv2d(3, n, 3)

    def forward(self, x):
        return self.conv(x).mean((2, 3))


def test_a_timm_model_is_resized_normalised_and_named_from_its_pretrained_cfg():
    e = peephole.explain(TimmLike(3, ["a", "b", "c"]), IMG, **FAST)
    assert e.class_names == ["a", "b", "c"]
    model = as_model(TimmLike(1000))
    assert isinstance(model, TimmModel) and model.class_names[281] == "tabby" and model.preprocess.size == (24, 24)
    import cv2

    x = (cv2.resize(IMG, (24, 24), interpolation=cv2.INTER_LINEAR) - 0.5) / 0.2
    with torch.no_grad():
        want = model.module(torch.from_numpy(x.transpose(2, 0, 1).copy())[None]).numpy()
    np.testing.assert_allclose(model(IMG[None]), want, rtol=1e-4, atol=1e-5)


def test_a_real_timm_model_when_timm_is_installed():
    """timm itself (it needs a torchvision built for the installed torch; docs/devices.md says how, and that run's
    result): a ResNet named with ImageNet's classes, and a ViT built at 32 px whose ``pretrained_cfg`` still says 224."""
    timm = pytest.importorskip("timm", reason="timm needs a torchvision matching torch (docs/devices.md); not in CI")
    resnet = timm.create_model("resnet18", pretrained=False)
    e = peephole.explain(resnet, IMG, **FAST)
    assert isinstance(as_model(resnet), TimmModel) and len(e.class_names) == 1000 and e.class_names[281] == "tabby"
    vit = timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=32, patch_size=8, num_classes=3)
    assert vit.pretrained_cfg["input_size"][-1] == 224 and as_model(vit).preprocess.size == (32, 32)
    e = peephole.explain(vit, IMG, **FAST)
    assert e.maps.shape == (1, 32, 32) and np.isfinite(e.maps).all()


def small_vit(**config):
    torch.manual_seed(0)
    cfg = transformers.ViTConfig(
        image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
        **config,
    )  # fmt: skip
    return transformers.ViTForImageClassification(cfg).eval()


def test_a_multi_label_model_gives_each_label_its_sigmoid_and_a_regression_head_its_values():
    """config.problem_type, as transformers' pipelines read it: a multi-label classifier's labels are independent
    yes/no probabilities (a softmax over them made them compete); a regression head's outputs are values."""
    mean, std = np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32)
    pixels = ((IMG - mean) / std)[None]
    multi = small_vit(num_labels=3, id2label=LABELS, label2id={v: k for k, v in LABELS.items()},
                      problem_type="multi_label_classification")  # fmt: skip
    e = peephole.explain(multi, IMG, **FAST)
    want = torch.sigmoid(torch.from_numpy(logits(multi, pixels)))[0].numpy()
    assert as_model(multi).output == "probs" and e.class_names == ["cat", "dog", "fox"]
    np.testing.assert_allclose(e.probabilities, want, rtol=1e-4, atol=1e-5)
    assert abs(e.probabilities.sum() - 1) > 0.05  # independent labels: their probabilities need not sum to 1
    regression = small_vit(num_labels=1, problem_type="regression")
    r = peephole.explain(regression, IMG, **FAST)
    assert as_model(regression).output == "scores" and r.probabilities.shape == (1,)
    np.testing.assert_allclose(r.probabilities, logits(regression, pixels)[0], rtol=1e-4, atol=1e-5)


def test_an_unknown_problem_type_is_one_input_error():
    odd = small_vit(num_labels=2)
    odd.config.problem_type = "ranking"
    with pytest.raises(peephole.InputError, match="problem_type is 'ranking'"):
        peephole.explain(odd, IMG, **FAST)


@pytest.fixture(scope="module")
def yolos():
    """A random YOLOS detector (5 detection tokens, 3 classes) and its processor at 32×32."""
    torch.manual_seed(0)
    cfg = transformers.YolosConfig(
        image_size=[32, 32], patch_size=8, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=64, num_detection_tokens=5, num_labels=3, id2label=LABELS,
        label2id={v: k for k, v in LABELS.items()},
    )  # fmt: skip
    processor = transformers.YolosImageProcessor(size={"height": 32, "width": 32})
    return transformers.YolosForObjectDetection(cfg), processor  # train mode, as built


def test_a_transformers_detector_with_its_processor_explains_every_box_from_one_query_set(yolos):
    """Each query of the model is a detection, read by the processor's own post-processing (at threshold 0), with
    boxes in the explained image's pixels; every box gets a map from the same queries; the module is left as it was."""
    from peephole.models.hf_detection import hf_detector

    model, processor = yolos
    image = np.random.default_rng(1).random((48, 40, 3)).astype(np.float32)
    det = hf_detector(model, processor, threshold=0.0)
    found = det(image[None])[0]
    with torch.no_grad():
        pixels = (cv2_resize(image, 32, 32) - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
        out = model.eval()(pixel_values=torch.from_numpy(pixels.transpose(2, 0, 1)[None].astype(np.float32)))
        model.train()
    want = processor.post_process_object_detection(out, threshold=0.0, target_sizes=[(48, 40)])[0]
    np.testing.assert_allclose(found["boxes"], want["boxes"].numpy(), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(found["scores"], want["scores"].numpy(), rtol=1e-4, atol=1e-5)
    e = peephole.explain(det, image, method="rise", n_masks=8)
    assert e.task == "detection" and e.maps.shape == (5, 48, 40) and e.n_queries == 9
    assert e.class_names[0].split()[0] in LABELS.values() and e.extras["boxes"].shape == (5, 4)
    assert model.training  # eval mode inside each call only


def test_a_bfloat16_transformers_detector_gets_its_own_type(yolos):
    """A detector converted to bfloat16 failed on every image ("Input type (float) and bias type (c10::BFloat16)
    should be the same"): its pixels come in its own type, and it finds the boxes its float32 self finds."""
    import copy

    from peephole.models.hf_detection import hf_detector

    model, processor = yolos
    image = np.random.default_rng(1).random((48, 40, 3)).astype(np.float32)
    want = hf_detector(model, processor, threshold=0.0)(image[None])[0]
    half = copy.deepcopy(model).to(torch.bfloat16)
    found = hf_detector(half, processor, threshold=0.0)(image[None])[0]
    np.testing.assert_allclose(found["boxes"], want["boxes"], atol=0.05 * 48)
    e = peephole.explain(hf_detector(half, processor, threshold=0.0), image, method="rise", n_masks=8)
    assert e.maps.shape == (5, 48, 40) and np.isfinite(e.maps).all()


def test_a_detection_pipeline_is_an_image_detector_keeping_boxes_above_its_threshold(yolos):
    """An object-detection pipeline is taken for an image model (it was taken for text) and keeps the reference
    boxes scoring at least 0.5, as the pipeline does; task= overrides the threshold. Without its processor, a
    detection model is one InputError saying what to pass."""
    model, processor = yolos
    pipe = transformers.pipeline("object-detection", model=model, image_processor=processor)
    with pytest.raises(peephole.NothingToExplain, match="at least 0.5"):  # a random model: every score is about 0.25
        peephole.explain(pipe, IMG, method="rise", n_masks=4)
    e = peephole.explain(pipe, IMG, method="rise", n_masks=4, task=peephole.tasks.Detection(threshold=0.0))
    assert e.modality == "image" and e.maps.shape == (5, 32, 32)
    with pytest.raises(peephole.InputError, match="needs its image processor"):
        peephole.explain(model, IMG, method="rise", n_masks=4)


def segformer():
    """A random SegFormer (3 classes, logits at a quarter of its 32×32 input) and its processor."""
    torch.manual_seed(0)
    cfg = transformers.SegformerConfig(
        num_encoder_blocks=1, depths=[1], sr_ratios=[1], hidden_sizes=[8], patch_sizes=[3], strides=[4],
        num_attention_heads=[1], mlp_ratios=[2], decoder_hidden_size=8, num_labels=3, id2label=LABELS,
        label2id={v: k for k, v in LABELS.items()},
    )  # fmt: skip
    processor = transformers.SegformerImageProcessor(size={"height": 32, "width": 32})
    return transformers.SegformerForSemanticSegmentation(cfg), processor


def test_a_transformers_segmentation_model_is_explained_over_its_classes_regions(tmp_path):
    """A SegFormer (or its image-segmentation pipeline, or its saved folder) declares the segmentation task: its
    per-pixel logits are the model's own on the processor's input; each class is explained over its predicted region.
    It was "SegformerForSemanticSegmentation is not an image classifier"."""
    from peephole.models.hf_segmentation import HFSegmenter

    model, processor = segformer()
    image = np.random.default_rng(1).random((48, 40, 3)).astype(np.float32)
    seg = HFSegmenter(model, processor)
    with torch.no_grad():
        pixels = (cv2_resize(image, 32, 32) - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
        want = model.eval()(pixel_values=torch.from_numpy(pixels.transpose(2, 0, 1)[None].astype(np.float32))).logits
        model.train()
    np.testing.assert_allclose(seg(image[None]), want.numpy(), rtol=1e-4, atol=1e-5)
    assert seg.task == "segmentation" and seg.class_names == ["cat", "dog", "fox"] and want.shape[2:] == (8, 8)
    e = peephole.explain(seg, image, method="rise", n_masks=8, top_k=3)
    assert e.task == "segmentation" and e.maps.shape[1:] == (48, 40) and e.extras["regions"].shape == (8, 8)
    assert e.class_names == ["cat", "dog", "fox"] and model.training
    bare = peephole.explain(model, image, method="rise", n_masks=8)  # no task=; no processor: the image's own size
    assert bare.task == "segmentation" and bare.extras["regions"].shape == (12, 10)
    pipe = transformers.pipeline("image-segmentation", model=model, image_processor=processor)
    np.testing.assert_allclose(peephole.explain(pipe, image, method="rise", n_masks=8, top_k=3).maps, e.maps, rtol=1e-5)
    model.save_pretrained(tmp_path / "segformer")
    processor.save_pretrained(tmp_path / "segformer")
    loaded = peephole.load_model(str(tmp_path / "segformer"))
    assert isinstance(loaded, HFSegmenter)
    np.testing.assert_allclose(loaded(image[None]), want.numpy(), rtol=1e-4, atol=1e-5)


def test_a_transformers_vision_model_that_is_no_classifier_is_one_input_error():
    """A masked-image-modelling head returned reconstructed pixels and got "shape (1, 3, 32, 32) ... expected (1,
    n_classes)"; a vision pipeline of another task is one error naming the pipelines Peephole reads."""
    cfg = transformers.ViTConfig(image_size=32, patch_size=8, hidden_size=16, num_hidden_layers=1,
                                 num_attention_heads=2, intermediate_size=32)  # fmt: skip
    with pytest.raises(peephole.InputError, match="ViTForMaskedImageModeling is not an image classifier"):
        peephole.explain(transformers.ViTForMaskedImageModeling(cfg), IMG, **FAST)
    features = transformers.pipeline(
        "image-feature-extraction", model=transformers.ViTModel(cfg), image_processor=transformers.ViTImageProcessor()
    )  # it was "a plain callable must declare what it returns"
    with pytest.raises(peephole.InputError, match="'image-feature-extraction' pipeline of a ViTModel: Peephole reads"):
        peephole.explain(features, IMG, **FAST)


def cv2_resize(image: np.ndarray, h: int, w: int) -> np.ndarray:
    import cv2

    return cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)


def test_a_saved_vision_folder_loads_by_path_for_the_library_and_the_command_line(vit, yolos, tmp_path):
    """``peephole explain photo.png --model FOLDER`` took every folder for a text classifier ("cannot load a sequence
    classifier ... Couldn't instantiate the backend tokenizer")."""
    from PIL import Image

    from peephole.cli import main
    from peephole.models.hf_folder import vision_head
    from peephole.models.registry import modality_of_name

    classifier, detector = tmp_path / "vit", tmp_path / "yolos"
    vit.save_pretrained(classifier)
    transformers.ViTImageProcessor(size={"height": 32, "width": 32}, image_mean=[0.5] * 3, image_std=[0.25] * 3).save_pretrained(
        classifier
    )
    yolos[0].save_pretrained(detector)
    yolos[1].save_pretrained(detector)
    assert vision_head(classifier) == "ForImageClassification" and vision_head(detector) == "ForObjectDetection"
    assert modality_of_name(str(classifier)) == modality_of_name(str(detector)) == "image"
    model = peephole.load_model(str(classifier))
    assert isinstance(model, HFImageClassifier) and model.preprocess.mean == (0.5,) * 3
    assert model.class_names == ["cat", "dog", "fox"]
    in_memory = HFImageClassifier(vit, transformers.ViTImageProcessor(size={"height": 32, "width": 32}, image_mean=[0.5] * 3,
                                                                      image_std=[0.25] * 3))  # fmt: skip
    np.testing.assert_allclose(model(IMG[None]), in_memory(IMG[None]), rtol=1e-5, atol=1e-6)  # the same weights
    det = peephole.load_model(str(detector))
    assert det.task == "detection" and det.reference_threshold == 0.5
    photo = tmp_path / "photo.png"
    Image.fromarray((IMG * 255).astype(np.uint8)).save(photo)
    out = tmp_path / "out"
    assert main(["explain", str(photo), "--model", str(classifier), "--size", "0", "--out", str(out)]) == 0
    assert (out / "photo.npz").is_file() and peephole.load(out / "photo.npz").class_names == ["cat", "dog", "fox"]


@pytest.mark.parametrize(
    ("file", "edit", "message"),
    [
        ("config", {"id2label": ["cat", "dog", "fox"]}, "cannot load a vision model from .*AttributeError"),
        ("processor", {"rescale_factor": "abc"}, "settings Peephole cannot read: could not convert string to float"),
        ("processor", {"size": {"height": 100_000, "width": 100_000}}, "input size is 100000×100000; Peephole resizes"),
        ("processor", {"size": {"height": -5, "width": 32}}, "input size is -5×32"),
        ("processor", {"image_mean": [0.5, 0.5]}, r"normalisation mean is \[0.5, 0.5\]: one or three finite numbers"),
        ("processor", {"image_std": [0, 0, 0]}, "std is .*, none of them 0"),
    ],
)
def test_a_folder_whose_config_or_processor_peephole_cannot_read_is_one_input_error(vit, tmp_path, file, edit, message):
    """Each was a traceback (transformers' AttributeError for an id2label list, float()'s ValueError) or failed on
    every image: OpenCV asked for 120 GB to resize to 100,000×100,000, or asserted on a negative side; a mean of two
    values broke torch's broadcast; a std of 0 made every score NaN, blamed on the model."""
    folder = tmp_path / "vit"
    vit.save_pretrained(folder)
    transformers.ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    path = folder / ("config.json" if file == "config" else "preprocessor_config.json")
    path.write_text(json.dumps({**json.loads(path.read_text()), **edit}))
    with pytest.raises(peephole.InputError, match=message):
        peephole.load_model(str(folder))


def test_a_folder_whose_architectures_is_one_name_not_a_list_is_read_as_that_model(vit, tmp_path):
    """``"architectures": "ViTForImageClassification"`` (no list) sent the folder to the text loader ("cannot load a
    sequence classifier ... Couldn't instantiate the backend tokenizer")."""
    folder = tmp_path / "vit"
    vit.save_pretrained(folder)
    config = folder / "config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "architectures": "ViTForImageClassification"}))
    model = peephole.load_model(str(folder))
    assert isinstance(model, HFImageClassifier) and model.class_names == ["cat", "dog", "fox"]


def test_a_folder_holding_code_is_refused_without_asking_to_run_it(vit, tmp_path, monkeypatch):
    """A folder whose config maps its classes to its own Python file (``auto_map``) made transformers ask on the
    terminal "Do you wish to run the custom code? [y/N]": a user answering y ran the folder's code, and the command
    waited. It is one InputError; nothing is asked and the code never runs."""
    folder = tmp_path / "custom"
    vit.save_pretrained(folder)
    config = folder / "config.json"
    code = {"AutoConfig": "custom.Config", "AutoModelForImageClassification": "custom.Model"}
    config.write_text(json.dumps({**json.loads(config.read_text()), "auto_map": code, "model_type": "custom"}))
    ran = tmp_path / "ran"
    (folder / "custom.py").write_text(f"open({str(ran)!r}, 'w').close()\n")
    asked = []
    monkeypatch.setattr("builtins.input", lambda prompt="": asked.append(prompt) or "y")
    with pytest.raises(peephole.InputError, match="contains custom code"):
        peephole.load_model(str(folder))
    assert not asked and not ran.exists()


def test_gradient_methods_read_a_transformers_classifier_through_its_adapter(vit):
    """Saliency, Grad-CAM, Score-CAM and IG on a ViT raised "'ImageClassifierOutput' object has no attribute
    'detach'": the gradient methods now call the adapter (ImageNet mean/std without a processor, then .logits)."""
    pytest.importorskip("captum")
    e = peephole.explain(vit, IMG, "saliency", targets=1)
    assert e.class_names == ["cat", "dog", "fox"] and vit.training  # named from id2label; left in train mode
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    x = torch.from_numpy(IMG.transpose(2, 0, 1).copy())[None].requires_grad_(True)
    vit.eval()
    try:
        vit(pixel_values=(x - mean) / std).logits[0, 1].backward()
    finally:
        vit.train()
    np.testing.assert_allclose(e.maps[0], x.grad.abs().sum(1)[0].numpy(), rtol=1e-4, atol=1e-7)
    for method in ("gradcam", "integrated-gradients"):
        m = peephole.explain(vit, IMG, method, targets=1, **({"n_steps": 4} if method == "integrated-gradients" else {}))
        assert m.maps.shape == (1, 32, 32) and np.isfinite(m.maps).all()


@pytest.mark.parametrize(
    "make",
    [
        lambda: transformers.ViTImageProcessor(do_resize=False),
        lambda: transformers.ViTImageProcessor(do_resize=False, do_rescale=False, image_mean=[120.0] * 3, image_std=[60.0] * 3),
        lambda: transformers.ViTImageProcessor(
            do_resize=False, rescale_factor=1 / 127.5, image_mean=[1.0] * 3, image_std=[1.0] * 3
        ),
        lambda: transformers.ViTImageProcessor(do_resize=False, do_normalize=False),
        lambda: transformers.ViTImageProcessor(do_resize=False, do_normalize=False, do_rescale=False),
        lambda: transformers.EfficientNetImageProcessor(do_resize=False, do_center_crop=False, rescale_offset=True),
        lambda: transformers.EfficientNetImageProcessor(do_resize=False, do_center_crop=False, include_top=False),
        lambda: transformers.EfficientNetImageProcessor(do_resize=False, do_center_crop=False, do_normalize=False),
    ],
)
def test_the_adapters_input_is_the_processors_for_every_rescaling(make):
    """What the image processor makes of 0..255 pixels, whatever its rescaling (none, another factor, EfficientNet's
    offset) and normalisation (EfficientNet's second division by the std): a processor without ``do_rescale`` was
    given [0, 1] pixels, 255 times too small, and an EfficientNet's inputs were its processor's times its std."""
    from peephole.models.hf_image import preprocess_of

    processor = make()
    image = (np.random.default_rng(3).random((32, 32, 3)) * 255).round().astype(np.uint8)
    theirs = processor(images=image, return_tensors="np")["pixel_values"]
    ours = preprocess_of(None, processor)(image[None].astype(np.float32) / 255)
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(theirs).max())))


def same_segments(found: dict, want: dict) -> None:
    """A detector's segments are its processor's: one mask per segment of the map of segment ids, with its label."""
    ids = want["segmentation"].numpy()
    assert len(found["masks"]) == len(want["segments_info"]) > 0
    for mask, info in zip(found["masks"], want["segments_info"]):
        np.testing.assert_array_equal(mask, ids == info["id"])
    np.testing.assert_array_equal(found["labels"], [s["label_id"] for s in want["segments_info"]])


def mask2former():
    """A random Mask2Former (5 queries, 3 classes, a Swin backbone at 64×64; masks at a quarter of its input)."""
    torch.manual_seed(0)
    swin = transformers.SwinConfig(image_size=64, patch_size=4, embed_dim=8, depths=[1] * 4, num_heads=[1] * 4,
                                   window_size=2, out_features=["stage1", "stage2", "stage3", "stage4"])  # fmt: skip
    cfg = transformers.Mask2FormerConfig(
        backbone_config=swin, feature_size=32, mask_feature_size=32, hidden_dim=32, encoder_feedforward_dim=32,
        dim_feedforward=32, encoder_layers=1, decoder_layers=2, num_attention_heads=2, num_queries=5, num_labels=3,
        id2label=LABELS, label2id={v: k for k, v in LABELS.items()}, common_stride=4,
    )  # fmt: skip
    return transformers.Mask2FormerForUniversalSegmentation(cfg), transformers.Mask2FormerImageProcessor(
        size={"height": 64, "width": 64}
    )


def test_a_mask_classification_model_is_explained_by_its_semantic_scores(tmp_path):
    """A Mask2Former's per-query class and mask logits become the semantic scores its processor's
    post_process_semantic_segmentation computes (Σ_q softmax(class)[c] · sigmoid(mask), no-object class dropped), at
    the masks' size (within 0.01 of the processor's, which resamples the masks first). It was "not an image
    classifier"."""
    from peephole.models.hf_segmentation import HFSegmenter

    model, processor = mask2former()
    image = np.random.default_rng(2).random((64, 64, 3)).astype(np.float32)
    seg = HFSegmenter(model, processor)
    assert seg.output == "scores" and seg.task == "segmentation"
    pixels = torch.from_numpy(preprocess_pixels(seg, image))
    with torch.no_grad():
        out = model.eval()(pixel_values=pixels)
        model.train()
    classes = torch.softmax(out.class_queries_logits, -1)[0, :, :3].numpy()  # (queries, classes)
    masks = torch.sigmoid(out.masks_queries_logits)[0].numpy()  # (queries, 16, 16)
    want = np.tensordot(classes.T, masks, axes=1)  # (classes, 16, 16)
    np.testing.assert_allclose(seg(image[None])[0], want, rtol=1e-4, atol=1e-6)
    theirs = processor.post_process_semantic_segmentation(out, target_sizes=[(16, 16)], return_segmentation_scores=True)[0]
    np.testing.assert_allclose(want, theirs.segmentation_scores.numpy(), atol=0.01)  # it resamples to 384 px and back
    e = peephole.explain(model, image, method="rise", n_masks=8, top_k=3)
    assert e.task == "segmentation" and e.extras["regions"].shape == (16, 16) and e.maps.shape[1:] == (64, 64)
    model.save_pretrained(tmp_path / "m2f")
    processor.save_pretrained(tmp_path / "m2f")
    np.testing.assert_allclose(peephole.load_model(str(tmp_path / "m2f"))(image[None]), seg(image[None]), rtol=1e-5)


def test_a_mask_classification_model_is_explained_instance_by_instance():
    """hf_detector(Mask2Former, processor): each instance its processor's post_process_instance_segmentation finds (at
    threshold 0) is a detection with its binary mask at the image's size, label and score, its box the mask's bounds;
    the instances are explained by mask IoU, their masks kept. Without the processor: one InputError."""
    from peephole.models.hf_detection import hf_detector
    from peephole.models.hf_image import preprocess_of

    model, processor = mask2former()
    image = np.random.default_rng(2).random((48, 40, 3)).astype(np.float32)
    det = hf_detector(model, processor, threshold=0.0)
    assert det.class_names == ["cat", "dog", "fox"] and det.reference_threshold == 0.0
    found = det(image[None])[0]
    pixels = torch.from_numpy(preprocess_of(model.config, processor)(image[None]))
    with torch.no_grad():
        out = model.eval()(pixel_values=pixels)
        model.train()
    want = processor.post_process_instance_segmentation(out, threshold=0.0, target_sizes=[(48, 40)], return_binary_maps=True)[0]
    assert len(found["masks"]) == len(want["segments_info"]) > 0
    np.testing.assert_array_equal(found["masks"], want["segmentation"].numpy() > 0)
    np.testing.assert_allclose(found["scores"], [s["score"] for s in want["segments_info"]], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(found["labels"], [s["label_id"] for s in want["segments_info"]])
    for box, mask in zip(found["boxes"], found["masks"]):
        ys, xs = np.nonzero(mask)
        assert box.tolist() == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
    e = peephole.explain(det, image, method="rise", n_masks=6)
    assert e.task == "detection" and e.extras["masks"].shape == (len(found["masks"]), 48, 40) and model.training
    with pytest.raises(peephole.InputError, match="segment by segment with its image processor"):
        hf_detector(model)


def test_a_large_images_segments_are_read_on_the_mask_grid_not_at_its_size():
    """On an image larger than the mask grid (300×200), the processor resamples its queries' masks to the grid
    (128×128) instead of the image's size — 100 queries at 640×640 are 160 MB of floats per image, sampled down to the
    grid all the same — and the boxes are the masks' bounds scaled to the image."""
    from peephole.models.detection import MASK_GRID
    from peephole.models.hf_detection import hf_detector
    from peephole.models.hf_image import preprocess_of

    model, processor = mask2former()
    image = np.random.default_rng(2).random((300, 200, 3)).astype(np.float32)
    asked = []
    post = processor.post_process_instance_segmentation

    @functools.wraps(post)  # its signature: the adapter passes the options it takes
    def recording(out, **kw):
        asked.append(kw["target_sizes"])
        return post(out, **kw)

    processor.post_process_instance_segmentation = recording
    found = hf_detector(model, processor, threshold=0.0)(image[None])[0]
    assert asked == [[(MASK_GRID, MASK_GRID)]]
    pixels = torch.from_numpy(preprocess_of(model.config, processor)(image[None]))
    with torch.no_grad():
        out = model.eval()(pixel_values=pixels)
        model.train()
    want = post(out, threshold=0.0, target_sizes=[(128, 128)], return_binary_maps=True)[0]
    assert len(found["masks"]) == len(want["segments_info"]) > 0
    np.testing.assert_array_equal(found["masks"], want["segmentation"].numpy() > 0)
    for box, mask in zip(found["boxes"], found["masks"]):
        ys, xs = np.nonzero(mask)
        np.testing.assert_allclose(box, [xs.min() * 200 / 128, ys.min() * 300 / 128, (xs.max() + 1) * 200 / 128,
                                         (ys.max() + 1) * 300 / 128])  # fmt: skip


def test_a_mask_classification_models_panoptic_segments_are_explained_one_by_one():
    """``segments="panoptic"``: each segment (thing or stuff, none fused) of the processor's
    post_process_panoptic_segmentation is a detection with its mask (from the map of segment ids) and label; another
    kind of segments is one InputError."""
    from peephole.models.hf_detection import hf_detector
    from peephole.models.hf_image import preprocess_of

    model, processor = mask2former()
    model = widened(model, std=1.0)  # its classes' argmax otherwise the no-object class: no segment
    image = np.random.default_rng(2).random((48, 40, 3)).astype(np.float32)
    found = hf_detector(model, processor, threshold=0.0, segments="panoptic")(image[None])[0]
    pixels = torch.from_numpy(preprocess_of(model.config, processor)(image[None]))
    with torch.no_grad():
        out = model.eval()(pixel_values=pixels)
        model.train()
    want = processor.post_process_panoptic_segmentation(out, threshold=0.0, label_ids_to_fuse=set(), target_sizes=[(48, 40)])[0]
    same_segments(found, want)
    with pytest.raises(peephole.InputError, match="segments must be 'instance' or 'panoptic'"):
        hf_detector(model, processor, segments="semantic")


@pytest.mark.parametrize("family", ["Detr", "ConditionalDetr"])
def test_detr_with_its_mask_head_is_explained_segment_by_segment(tmp_path, family):
    """DetrForSegmentation and ConditionalDetrForSegmentation (boxes and a mask head on the same queries; Conditional
    DETR's classes are sigmoids, no no-object class): its processor's instance and panoptic segments, each by its mask,
    as for a mask classifier; a saved folder loads as that detector. It was a torch module whose outputs had to be
    declared (explain) or "not an image classifier" (its folder)."""
    from peephole.models.hf_detection import hf_detector
    from peephole.models.hf_image import preprocess_of

    torch.manual_seed(0)
    resnet = transformers.ResNetConfig(embedding_size=8, hidden_sizes=[8, 16, 32, 64], depths=[1] * 4,
                                       out_features=["stage1", "stage2", "stage3", "stage4"])  # fmt: skip
    cfg = getattr(transformers, f"{family}Config")(
        use_timm_backbone=False, backbone_config=resnet, use_pretrained_backbone=False, d_model=64, encoder_layers=1,
        decoder_layers=1, encoder_attention_heads=8, decoder_attention_heads=8, encoder_ffn_dim=32, decoder_ffn_dim=32,
        num_queries=5, num_labels=3, id2label=LABELS, label2id={v: k for k, v in LABELS.items()},
    )  # fmt: skip
    model = widened(getattr(transformers, f"{family}ForSegmentation")(cfg), std=1.0)  # so that it finds segments
    processor = getattr(transformers, f"{family}ImageProcessorPil")(size={"height": 64, "width": 64})
    image = np.random.default_rng(2).random((48, 40, 3)).astype(np.float32)
    pixels = torch.from_numpy(preprocess_of(model.config, processor)(image[None]))
    with torch.no_grad():
        out = model.eval()(pixel_values=pixels)
        model.train()
    for segments, post in (("instance", processor.post_process_instance_segmentation),
                           ("panoptic", processor.post_process_panoptic_segmentation)):  # fmt: skip
        found = hf_detector(model, processor, threshold=0.0, segments=segments)(image[None])[0]
        fuse = {"label_ids_to_fuse": set()} if segments == "panoptic" else {}
        want = post(out, threshold=0.0, target_sizes=[(48, 40)], **fuse)[0]
        same_segments(found, want)
    e = peephole.explain(hf_detector(model, processor, threshold=0.0), image, method="rise", n_masks=4)
    assert e.task == "detection" and e.extras["masks"].shape[1:] == (48, 40) and model.training
    with pytest.raises(peephole.InputError, match="segment by segment with its image processor"):
        peephole.explain(model, image, method="rise", n_masks=4, task="detection")  # the module without its processor
    model.save_pretrained(tmp_path / "detr")
    processor.save_pretrained(tmp_path / "detr")
    loaded = peephole.load_model(str(tmp_path / "detr"))
    assert loaded.task == "detection"
    np.testing.assert_array_equal(loaded(image[None])[0]["masks"], hf_detector(model, processor)(image[None])[0]["masks"])
    config = json.loads((tmp_path / "detr" / "config.json").read_text())
    (tmp_path / "detr" / "config.json").write_text(json.dumps(config | {"architectures": ["YolosForSegmentation"]}))
    with pytest.raises(peephole.InputError, match="holds a YolosForSegmentation: not one of the segmenting DETRs"):
        peephole.load_model(str(tmp_path / "detr"))  # a head of that name no auto class or Peephole reads


def test_a_saved_mask_classification_model_is_explained_by_instance_with_task_detection(tmp_path):
    """A Mask2Former folder loads as a semantic segmenter; task="detection" (``--task detection``) explains its
    instances instead (it was a ModelError about the output's shape); a semantic head asked for instances, one
    InputError."""
    from peephole.cli import main
    from peephole.models.hf_segmentation import HFSegmenter

    model, processor = mask2former()
    model.save_pretrained(tmp_path / "m2f")
    processor.save_pretrained(tmp_path / "m2f")
    image = np.random.default_rng(2).random((48, 40, 3)).astype(np.float32)
    loaded = peephole.load_model(str(tmp_path / "m2f"))
    e = peephole.explain(loaded, image, method="rise", n_masks=6, task=peephole.tasks.Detection(threshold=0.0))
    assert e.task == "detection" and e.extras["masks"].shape[1:] == (48, 40)
    assert e.class_names[0].split()[0] in LABELS.values()
    from PIL import Image

    Image.fromarray((image * 255).round().astype(np.uint8)).save(tmp_path / "photo.png")
    flags = ["--task", "detection", "--threshold", "0", "--method", "occlusion", "--size", "48", "--stride", "8"]
    assert (
        main(["explain", str(tmp_path / "photo.png"), "--model", str(tmp_path / "m2f"), *flags, "--out", str(tmp_path / "out")])
        == 0
    )
    assert (tmp_path / "out" / "photo.npz").exists()
    by_path = peephole.explain(
        str(tmp_path / "m2f"), image, method="rise", n_masks=6, task=peephole.tasks.Detection(threshold=0.0)
    )
    np.testing.assert_array_equal(by_path.extras["masks"], e.extras["masks"])  # the folder's path: the same instances
    with pytest.raises(peephole.InputError, match="segment by segment with its image processor"):
        peephole.explain(model, image, method="rise", n_masks=4, task="detection")  # the model without its processor
    seg, seg_processor = segformer()
    with pytest.raises(peephole.InputError, match="finds no instances: explain it with task='segmentation'"):
        peephole.explain(HFSegmenter(seg, seg_processor), image, method="rise", n_masks=4, task="detection")


def test_a_saved_mask_classification_models_panoptic_segments_are_explained_with_segments_panoptic(tmp_path, capsys):
    """``Detection(segments="panoptic")`` (``--segments panoptic``, which implies ``--task detection``) explains a
    Mask2Former folder's panoptic segments, the same as ``hf_detector(..., segments="panoptic")``; recorded in the task's
    repr only when set (runs recorded before it resume). Asked of a model that finds no segments, or with another
    task, or of another kind: one error. The command line had no way to ask for panoptic segments."""
    from peephole.cli import main
    from peephole.models.hf_detection import hf_detector

    model, processor = mask2former()
    model = widened(model, std=1.0)
    model.save_pretrained(tmp_path / "m2f")
    processor.save_pretrained(tmp_path / "m2f")
    image = np.random.default_rng(2).random((48, 40, 3)).astype(np.float32)
    want = hf_detector(model, processor, threshold=0.0, segments="panoptic")(image[None])[0]["masks"]
    instances = hf_detector(model, processor, threshold=0.0)(image[None])[0]["masks"]
    assert want.shape != instances.shape or (want != instances).any()  # the two kinds differ on this model
    task = peephole.tasks.Detection(threshold=0.0, segments="panoptic")
    e = peephole.explain(str(tmp_path / "m2f"), image, method="rise", n_masks=6, task=task)
    np.testing.assert_array_equal(e.extras["masks"], on_grid_of(want))
    assert repr(task) == "Detection(threshold=0.0, segments='panoptic')"
    assert repr(peephole.tasks.Detection(threshold=0.0)) == "Detection(threshold=0.0)"
    from PIL import Image

    Image.fromarray((image * 255).round().astype(np.uint8)).save(tmp_path / "photo.png")
    flags = ["--threshold", "0", "--method", "occlusion", "--size", "48", "--stride", "8", "--out", str(tmp_path / "out")]
    assert main(["explain", str(tmp_path / "photo.png"), "--model", str(tmp_path / "m2f"), "--segments", "panoptic", *flags]) == 0
    seen = peephole.load_image(str(tmp_path / "photo.png"), size=48)  # the command's --size 48
    panoptic = hf_detector(model, processor, threshold=0.0, segments="panoptic")(seen[None])[0]["masks"]
    saved = peephole.load(tmp_path / "out" / "photo.npz")
    assert saved.task == "detection"
    np.testing.assert_array_equal(saved.extras["masks"], on_grid_of(panoptic))
    assert main(["explain", str(tmp_path / "photo.png"), "--model", "haar-face", "--segments", "panoptic", *flags]) == 1
    assert "segments='panoptic' is for a segmenter that finds them" in capsys.readouterr().err  # the input's error
    assert main(["run", str(tmp_path), "--model", "haar-face", "--segments", "panoptic", "--out", str(tmp_path / "r")]) == 2
    assert "segments='panoptic' is for a segmenter that finds them" in capsys.readouterr().err  # before any item
    haar = peephole.load_model("haar-face")
    assert peephole.tasks.Detection(segments="instance").adapt(haar) is haar  # its detections are its instances
    assert main(["explain", str(tmp_path / "photo.png"), "--segments", "panoptic", "--task", "classification"]) == 2
    assert "--segments is the detection task's" in capsys.readouterr().err
    with pytest.raises(peephole.InputError, match="segments must be 'instance', 'panoptic' or None"):
        peephole.tasks.Detection(segments="semantic")


def on_grid_of(masks: np.ndarray) -> np.ndarray:
    """``masks`` as a detection result keeps them: on the mask grid, as booleans."""
    from peephole.models.detection import on_grid

    return on_grid(masks) > 0.5


def preprocess_pixels(model, image: np.ndarray) -> np.ndarray:
    """The adapter's own preprocessing of one image (its size, mean and std), channels first."""
    pre = model.preprocess
    x = (pre.resize(image[None]) - np.asarray(pre.mean, np.float32)) / np.asarray(pre.std, np.float32)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2)).astype(np.float32)


ONEFORMER_VOCAB = ["[PAD]", "[UNK]", "<s>", "the", "task", "is", "semantic", "instance", "panoptic", "</s>"]


def oneformer():
    """A random OneFormer (5 queries, 3 classes, a Swin backbone at 64×64, a one-layer task-text encoder) and its
    processor (image processor and a word-level tokenizer of the task texts)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(ONEFORMER_VOCAB)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 2), ("</s>", 9)])
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", bos_token="<s>", eos_token="</s>"
    )
    torch.manual_seed(0)
    swin = transformers.SwinConfig(image_size=64, patch_size=4, embed_dim=8, depths=[1] * 4, num_heads=[1] * 4,
                                   window_size=2, out_features=["stage1", "stage2", "stage3", "stage4"])  # fmt: skip
    cfg = transformers.OneFormerConfig(
        backbone_config=swin, num_queries=5, num_labels=3, id2label=LABELS, label2id={v: k for k, v in LABELS.items()},
        task_seq_len=8, text_encoder_width=16, text_encoder_context_length=8, text_encoder_num_layers=1,
        text_encoder_vocab_size=len(ONEFORMER_VOCAB), text_encoder_proj_layers=1, text_encoder_n_ctx=2, conv_dim=32,
        mask_dim=32, hidden_dim=32, encoder_feedforward_dim=32, encoder_layers=1, decoder_layers=2,
        num_attention_heads=2, dim_feedforward=32, query_dec_layers=1, common_stride=4,
    )  # fmt: skip
    images = transformers.OneFormerImageProcessorPil(size={"height": 64, "width": 64})
    processor = transformers.OneFormerProcessor(image_processor=images, tokenizer=tokenizer, max_seq_length=8, task_seq_length=8)
    return widened(transformers.OneFormerForUniversalSegmentation(cfg)), processor


def widened(model, std: float = 0.3):
    """``model`` with its weights drawn wider than its initialisation's (seeded), so that a random mask classifier's
    masks and classes pass its processor's thresholds and it finds segments."""
    torch.manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                p.normal_(std=std)
    return model


def test_oneformer_reads_its_task_text_for_classes_and_for_instances(tmp_path):
    """OneFormer reads "the task is semantic" (or "instance", "panoptic") beside the pixels: its semantic scores are
    those its processor's post_process_semantic_segmentation makes of the model's output with that text, its instances
    those of post_process_instance_segmentation with "instance" (a map of segment ids, read as one mask each), its
    panoptic segments post_process_panoptic_segmentation's with "panoptic". It was one InputError; without the
    processor that tokenises the text it still is."""
    from peephole.models.hf_detection import hf_detector
    from peephole.models.hf_image import preprocess_of
    from peephole.models.hf_segmentation import HFSegmenter

    model, processor = oneformer()
    model.save_pretrained(tmp_path / "oneformer")
    processor.save_pretrained(tmp_path / "oneformer")
    # named as in OneFormer's checkpoints: its instance post-processing fails on None (saved without it: loading one
    # reads the file, from the hub when it is not beside the folder)
    processor.image_processor.class_info_file = "coco_panoptic.json"
    image = np.random.default_rng(2).random((48, 40, 3)).astype(np.float32)
    pixels = torch.from_numpy(preprocess_of(model.config, processor.image_processor)(image[None]))

    def output(task: str):
        text = processor(images=np.zeros((8, 8, 3), np.uint8), task_inputs=[task], return_tensors="pt")["task_inputs"]
        with torch.no_grad():
            out = model.eval()(pixel_values=pixels, task_inputs=text)
        model.train()
        return out

    seg = HFSegmenter(model, processor)
    semantic = output("semantic")
    classes = torch.softmax(semantic.class_queries_logits, -1)[0, :, :3].numpy()  # (queries, classes)
    want = np.tensordot(classes.T, torch.sigmoid(semantic.masks_queries_logits)[0].numpy(), axes=1)
    np.testing.assert_allclose(seg(image[None])[0], want, rtol=1e-4, atol=1e-6)  # the model's output with that text
    theirs = processor.image_processor.post_process_semantic_segmentation(semantic, target_sizes=[(16, 16)])[0]
    np.testing.assert_array_equal(want.argmax(0), theirs.numpy())  # the processor's labels
    e = peephole.explain(seg, image, method="rise", n_masks=6)
    assert e.task == "segmentation" and e.maps.shape[1:] == (48, 40) and model.training
    det = hf_detector(model, processor, threshold=0.0)
    found = det(image[None])[0]
    want = processor.image_processor.post_process_instance_segmentation(output("instance"), threshold=0.0)[0]
    ids = want["segmentation"].numpy()  # at the masks' size, 16×16 (resizing to the image's needs torchvision there)
    assert len(found["masks"]) == len(want["segments_info"]) > 0
    for mask, box, info in zip(found["masks"], found["boxes"], want["segments_info"]):
        np.testing.assert_array_equal(mask, ids == info["id"])
        ys, xs = np.nonzero(mask)
        np.testing.assert_allclose(box, [xs.min() * 40 / 16, ys.min() * 3, (xs.max() + 1) * 40 / 16, (ys.max() + 1) * 3])
    np.testing.assert_array_equal(found["labels"], [s["label_id"] for s in want["segments_info"]])
    e = peephole.explain(det, image, method="rise", n_masks=6)
    assert e.task == "detection" and e.extras["masks"].shape[1:] == (16, 16) and len(e.view.regions()) == len(e.targets)
    panoptic = hf_detector(model, processor, threshold=0.0, segments="panoptic")(image[None])[0]  # "the task is panoptic"
    want = processor.image_processor.post_process_panoptic_segmentation(
        output("panoptic"), threshold=0.0, label_ids_to_fuse=set()
    )[0]
    same_segments(panoptic, want)
    with pytest.raises(peephole.InputError, match="reads a task text beside the image: pass its processor"):
        HFSegmenter(model, processor.image_processor)  # no tokenizer for the task text
    loaded = peephole.load_model(str(tmp_path / "oneformer"))
    np.testing.assert_allclose(loaded(image[None]), seg(image[None]), rtol=1e-5)


def test_a_folder_whose_processor_cannot_load_is_one_input_error(tmp_path, monkeypatch):
    """A processor that fails its own way while loading (OneFormer's fetches its class metadata from the hub: an httpx
    ConnectError offline, which is no OSError) is one InputError naming the folder and the cause; it escaped raw."""

    class HubDown(Exception):
        pass

    model, processor = oneformer()
    model.save_pretrained(tmp_path / "oneformer")
    processor.save_pretrained(tmp_path / "oneformer")

    def down(*args, **kwargs):
        raise HubDown("Name or service not known")

    monkeypatch.setattr(transformers.AutoProcessor, "from_pretrained", down)
    with pytest.raises(peephole.InputError, match=r"cannot load a vision model from .*oneformer: HubDown: Name or service"):
        peephole.load_model(str(tmp_path / "oneformer"))
