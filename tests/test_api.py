"""The one-call facade and the Explanation result: options, bad input, saving and pictures."""

import numpy as np
import pytest
from conftest import RegionModel, textured_image

import peephole
from peephole.errors import InputError, ModelError

REGION = (slice(10, 30), slice(20, 50))
IMG = textured_image(64, 80)


def explain(model=None, **kw):
    kw = {"partition": "window", "radius": 10, "stride": 8, **kw}
    return peephole.explain(model or RegionModel(REGION), IMG, "pami", **kw)


def test_explanation_fields():
    e = explain(top_k=2)
    assert e.targets == [1, 0]  # the textured region makes class 1 the prediction
    assert e.prediction == 1 and e.name(1) == "textured region"
    assert e.maps.shape == (2, 64, 80) and e.scores.shape == (e.params["n_parts"], 2)
    assert e.top_classes(1)[0][0] == 1
    assert {"partition", "perturb", "query", "aggregate", "total"} <= set(e.timings)
    # first_run_maps is set only by a second run (maps are then its maps); second_run_maps is gone
    assert e.method == "pami" and e.first_run_maps is None
    with pytest.raises(AttributeError, match="second_run_maps"):
        e.second_run_maps  # noqa: B018


def test_save_overlay_and_figure(tmp_path):
    e = explain(top_k=2)
    paths = e.write(tmp_path, "img")
    assert sorted(p.name for p in paths) == sorted(["img_top1_1_textured-region.png", "img_top2_0_other.png", "img.npz"])
    np.testing.assert_array_equal(peephole.load(tmp_path / "img.npz").maps[1], e.maps[1])
    ov = e.overlay()
    assert ov.shape == (64, 80, 3) and ov.dtype == np.uint8
    assert not np.array_equal(e.overlay(0), e.overlay(1))
    fig = e.figure()
    assert len(fig.axes) == 4  # input, two overlays, the shared colour bar


def test_bad_targets_and_options():
    with pytest.raises(InputError, match="target class 2 is out of range: the model has 2 classes"):
        explain(targets=[1, 2])
    with pytest.raises(InputError, match="target class -1"):
        explain(targets=-1)
    with pytest.raises(InputError, match="unknown partition strategy 'hexagons'"):
        explain(partition="hexagons")
    with pytest.raises(InputError, match="unknown masker 'noise'"):
        explain(masker="noise")
    with pytest.raises(InputError, match="unknown method 'magic'"):
        peephole.explain(RegionModel(REGION), IMG, method="magic")
    with pytest.raises(InputError, match=r"batch_size must be in \[1, 4194304\]"):
        explain(batch_size=0)
    with pytest.raises(InputError, match="smaller than the window"):
        explain(radius=40)
    with pytest.raises(InputError, match="label maps of shape"):  # label maps take no window options
        peephole.explain(RegionModel(REGION), IMG, "pami", partition=np.zeros((10, 10), int))


def test_misbehaving_models_are_named():
    calls = {"n": 0}

    def fails_later(batch):
        calls["n"] += 1
        if calls["n"] > 2:
            raise ValueError("input tensor too large")
        return np.tile([0.3, 0.7], (len(batch), 1))

    with pytest.raises(ModelError, match=r"raised ValueError on parts \d+\.\.\d+: input tensor too large"):
        explain(fails_later, output="probs")
    with pytest.raises(ModelError, match="NaN or inf"):
        explain(lambda b: np.full((len(b), 2), np.nan), output="probs")
    with pytest.raises(ModelError, match="returned shape"):
        explain(lambda b: np.zeros((len(b) + 1, 2)), output="probs")


def test_batch_size_auto_and_explicit_give_the_same_map():
    a = explain(targets=1)
    b = explain(targets=1, batch_size=5)
    assert a.params["batch_size"] == RegionModel.preferred_batch_size and b.params["batch_size"] == 5
    np.testing.assert_allclose(a.maps, b.maps, atol=1e-6)


def test_map_for_any_class_after_the_fact():
    e = explain(targets=1)
    other = explain(targets=0)
    np.testing.assert_allclose(e.map_for(0), other.maps[0], atol=1e-6)
    with pytest.raises(InputError, match="class 5 out of range"):
        e.map_for(5)
    for odd in ("x", True, 0.5, None):  # 'x' was int()'s ValueError
        with pytest.raises(InputError, match="a class is an index or one of the class names"):
            e.map_for(odd)


def test_a_class_name_picks_a_map_and_the_opacity_must_lie_in_0_1():
    image = np.random.default_rng(0).random((16, 16, 3)).astype(np.float32)
    e = peephole.explain(lambda b: np.stack([b.mean((1, 2, 3)), 1 - b.mean((1, 2, 3))], 1), image, "pami",
                         output="probs", partition="window", radius=4, stride=4, targets=[0, 1],
                         class_names=["light", "dark"])  # fmt: skip
    assert np.array_equal(e.map_of("dark"), e.maps[1]) and np.array_equal(e.map_for("light"), e.maps[0])
    for alpha in (5, -1, float("nan")):  # 5 subtracted the image: a silently wrong picture
        with pytest.raises(InputError, match="alpha must be"):
            e.overlay(0, alpha=alpha)
        with pytest.raises(InputError, match="alpha must be"):
            e.figure(alpha=alpha)


# --- the facade: options, methods and modalities are checked before the model is queried ---------------


class Counting:
    """A 2-class black box that counts its calls (to show a bad request never reaches the model)."""

    output, class_names, preferred_batch_size = "probs", None, None

    def __init__(self, probs=(0.3, 0.7)) -> None:
        self.calls, self.probs = 0, np.asarray(probs, float)

    def __call__(self, batch) -> np.ndarray:
        self.calls += 1
        return np.tile(self.probs, (len(batch), 1))


def test_unknown_option_is_one_input_error_naming_it_and_the_valid_ones():
    model = Counting()
    with pytest.raises(InputError) as err:
        peephole.explain(model, IMG, "pami", partition="window", radiuss=10)
    msg = str(err.value)
    assert "unknown option 'radiuss'" in msg and "'pami'" in msg
    valid = msg.split("valid options:")[1]
    for name in ("partition", "masker", "second_run", "radius", "stride", "window"):
        assert name in valid, name
    assert "segmentations" not in valid  # the superpixels' option, not the chosen windows'
    # per method: n_samples is LIME's, not PAMI's; PAMI's second_run is not LIME's
    with pytest.raises(InputError, match=r"unknown option 'n_samples'.*valid options: .*second_run"):
        peephole.explain(model, IMG, "pami", n_samples=10)
    with pytest.raises(InputError, match=r"unknown option 'second_run' for method 'lime'.*valid options: .*n_samples"):
        peephole.explain(model, IMG, method="lime", second_run=True)
    # per modality: text partitions take window/stride but not the image's radius
    with pytest.raises(InputError, match=r"unknown option 'radius'.*on text inputs"):
        peephole.explain(model, "a b c", modality="text", radius=3)
    assert model.calls == 0  # nothing was queried


def test_unknown_method_and_modality_list_the_available_ones():
    model = Counting()
    with pytest.raises(InputError, match="unknown method 'magic'") as err:
        peephole.explain(model, IMG, method="magic")
    for name in peephole.METHODS:
        assert name in str(err.value), name
    assert {"pami", "rise", "lime", "occlusion", "kernel-shap", "saliency"} <= set(peephole.METHODS)
    with pytest.raises(InputError, match="unknown modality 'audio'") as err:
        peephole.explain(model, IMG, modality="audio")
    for name in ("image", "text", "sequence"):
        assert name in str(err.value), name
    assert model.calls == 0


def test_a_method_on_a_modality_it_does_not_declare_is_an_input_error():
    model = Counting()
    with pytest.raises(InputError, match=r"method 'rise' does not run on text inputs; it runs on: image"):
        peephole.explain(model, "the cake was good", method="rise", modality="text")
    with pytest.raises(InputError, match="'saliency' does not run on sequence inputs"):
        peephole.explain(model, np.zeros(10), method="saliency", modality="sequence")
    assert model.calls == 0


def keyword_model(batch: list[str]) -> np.ndarray:
    """p(pos) = 0.8 if 'good' is among the words else 0.1."""
    p = np.array([0.8 if "good" in t.split() else 0.1 for t in batch])
    return np.stack([1 - p, p], axis=1)


def test_modality_comes_from_the_argument_or_the_model_never_from_the_input():
    sentence = "the cake was good"

    # declared by the model: a callable with a modality attribute ...
    def declared(batch: list[str]) -> np.ndarray:
        return keyword_model(batch)

    declared.modality = "text"
    e = peephole.explain(declared, sentence, output="probs")
    assert e.modality == "text" and e.input == sentence.split()
    assert e.targets == [1] and int(np.argmax(e.maps[0])) == 3  # 'good'

    # ... or a model object declaring it (and its output)
    class TextModel:
        output, modality, class_names, preferred_batch_size = "probs", "text", ["neg", "pos"], None

        def __call__(self, batch):
            return keyword_model(batch)

    e1 = peephole.explain(TextModel(), sentence, targets="pos")
    assert e1.modality == "text" and e1.targets == [1]
    np.testing.assert_allclose(e1.maps, e.maps)
    # given explicitly, for a plain callable
    e2 = peephole.explain(keyword_model, sentence, modality="text", output="probs")
    assert e2.modality == "text"
    np.testing.assert_allclose(e2.maps, e.maps)
    # an explicit modality wins over the declared one
    seq = Counting()
    seq.modality = "image"
    e3 = peephole.explain(seq, np.linspace(0, 1, 20), modality="sequence")
    assert e3.modality == "sequence" and e3.maps.shape == (1, 20)
    # never guessed from the input: a plain callable given a sentence is an image model, and the error says so
    calls = []

    def plain(batch):
        calls.append(len(batch))
        return keyword_model(batch)

    with pytest.raises(InputError, match=r"no such file \(to explain a text, pass modality='text'\)"):
        peephole.explain(plain, sentence, output="probs")
    with pytest.raises(InputError, match="expected H×W"):
        peephole.explain(plain, np.linspace(0, 1, 20), output="probs")  # nor is a 1-D signal taken for a sequence
    assert calls == []


def test_image_targets_by_class_name():
    e = explain(targets="other")
    assert e.targets == [0]
    both = explain(targets=["textured region", 0])
    assert both.targets == [1, 0]
    np.testing.assert_allclose(both.maps[1], e.maps[0], atol=1e-6)

    # a plain callable, its class names given to explain
    def fn(batch):
        return np.tile([0.3, 0.7], (len(batch), 1))

    kw = {"partition": "window", "radius": 10, "stride": 8, "output": "probs"}
    named = peephole.explain(fn, IMG, class_names=["cat", "dog"], targets="cat", **kw)
    assert named.targets == [0] and named.name(0) == "cat" and named.class_names == ["cat", "dog"]
    assert peephole.explain(fn, IMG, class_names=["cat", "dog"], targets=["dog", "cat"], **kw).targets == [1, 0]
    with pytest.raises(InputError, match=r"unknown class 'horse'; the model's classes are \['cat', 'dog'\]"):
        peephole.explain(fn, IMG, class_names=["cat", "dog"], targets="horse", **kw)
    with pytest.raises(InputError, match="unknown class 'cat'; the model names no classes"):
        peephole.explain(fn, IMG, targets="cat", **kw)


def test_a_class_name_several_classes_share_is_one_error_asking_for_the_index():
    """ImageNet calls classes 134 (the bird) and 517 (the machine) 'crane': ``targets="crane"`` silently explained the
    first. A name several classes share is one InputError listing them; their indices, and the other names, work."""

    def fn(batch):
        return np.tile([0.2, 0.5, 0.3], (len(batch), 1))

    kw = {"partition": "window", "radius": 10, "stride": 8, "output": "probs", "class_names": ["cat", "crane", "crane"]}
    with pytest.raises(InputError, match=r"'crane' names 2 of the model's classes \(1, 2\): give its index"):
        peephole.explain(fn, IMG, targets="crane", **kw)
    e = peephole.explain(fn, IMG, targets=["cat", 2], **kw)
    assert e.targets == [0, 2] and e.index("cat") == 0 and e.index("CAT") == 0  # a name's case aside, when unique
    with pytest.raises(InputError, match="'crane' names 2 of the model's classes"):
        e.map_of("crane")  # a saved result's lookup by name too


@pytest.fixture
def image_file(tmp_path):
    from PIL import Image

    path = tmp_path / "x.png"
    Image.fromarray((IMG * 255).round().astype(np.uint8)).save(path)
    return path


def test_a_path_image_works_for_pami(image_file):
    from pathlib import Path

    assert isinstance(image_file, Path)
    kw = {"partition": "window", "radius": 10, "stride": 8, "targets": 1}
    e = peephole.explain(RegionModel(REGION), image_file, **kw)
    again = peephole.explain(RegionModel(REGION), peephole.load_image(image_file), **kw)
    assert e.maps.shape == (1, 64, 80) and e.input.shape == (64, 80, 3)
    np.testing.assert_array_equal(e.maps, again.maps)
    np.testing.assert_array_equal(e.input, again.input)


def test_a_path_image_works_for_a_gradient_method(image_file):
    torch = pytest.importorskip("torch")
    pytest.importorskip("captum")
    torch.manual_seed(0)
    cnn = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(4, 2),
    )
    e = peephole.explain(cnn, image_file, method="saliency", targets=[0, 1])
    arr = peephole.explain(cnn, peephole.load_image(image_file), method="saliency", targets=[0, 1])
    assert e.method == "saliency" and e.maps.shape == (2, 64, 80)
    assert e.maps.max() > 0
    np.testing.assert_array_equal(e.maps, arr.maps)
    # the map is |∂f/∂x| summed over channels, computed here directly
    x = torch.from_numpy(peephole.load_image(image_file).transpose(2, 0, 1).copy())[None].requires_grad_(True)
    cnn(x)[0, 1].backward()
    np.testing.assert_allclose(e.maps[1], x.grad[0].abs().sum(0).numpy(), rtol=1e-5, atol=1e-8)


def test_without_a_method_images_get_pami_path_and_texts_and_sequences_pami():
    """The default per input kind is a table (DEFAULT_METHODS), not a guess: the same call names it."""
    from peephole.registry import DEFAULT_METHODS

    assert DEFAULT_METHODS == {"image": "pami-path", "text": "pami", "sequence": "pami"}
    e = peephole.explain(RegionModel(REGION), IMG, targets=1, n_samples=40, max_queries=120, masker="black")
    direct = peephole.explain(RegionModel(REGION), IMG, "pami-path", targets=1, n_samples=40, max_queries=120, masker="black")
    assert e.method == "pami-path" and e.n_queries <= 120
    np.testing.assert_array_equal(e.maps, direct.maps)
    assert peephole.explain(keyword_model, "the cake was good", modality="text", output="probs").method == "pami"
    signal = peephole.explain(lambda b: np.stack([b.sum(1), -b.sum(1)], 1), np.ones(12), modality="sequence", output="scores")
    assert signal.method == "pami"
    with pytest.raises(InputError, match="too few for 20 segmentations"):  # one path per segmentation needs its share
        peephole.explain(RegionModel(REGION), IMG, partition="superpixels", max_queries=210, n_samples=200)


def test_a_tensor_that_requires_grad_or_is_bfloat16_is_read_like_its_array():
    """An image tensor with requires_grad raised torch's "Can't call numpy() on Tensor that requires grad", a
    bfloat16 one NumPy's "unsupported ScalarType"; a sequence tensor with requires_grad the same RuntimeError."""
    torch = pytest.importorskip("torch")
    image = torch.rand(3, 16, 16)

    def brightness(b):
        return np.stack([np.asarray(b).mean((1, 2, 3)), 1 - np.asarray(b).mean((1, 2, 3))], 1)

    want = peephole.explain(brightness, image.numpy(), "rise", output="probs", n_masks=4).maps
    for x in (image.clone().requires_grad_(True), image.bfloat16()):
        got = peephole.explain(brightness, x, "rise", output="probs", n_masks=4).maps
        np.testing.assert_allclose(got, want, atol=1e-2 if x.dtype == torch.bfloat16 else 0)
    signal = torch.arange(8.0, requires_grad=True)
    e = peephole.explain(lambda b: np.asarray(b).sum(1, keepdims=True), signal, "occlusion", modality="sequence",
                         output="scores", partition="windows", window=2)  # fmt: skip
    assert e.maps.shape == (1, 8) and np.isfinite(e.maps).all()


def test_a_callable_returning_a_tensor_that_requires_grad_or_a_pipelines_dicts():
    """A plain callable returning a torch tensor that requires grad (a module called without no_grad) raised torch's
    "Can't call numpy() on Tensor that requires grad" as a ModelError: it is read detached, as a module's output is.
    One returning a pipeline's [{'label', 'score'}] dicts is one ModelError saying to pass the pipeline itself."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    head = torch.nn.Linear(3, 4)
    image = np.random.default_rng(0).random((16, 16, 3)).astype(np.float32)

    def grad_on(b):
        return head(torch.from_numpy(np.asarray(b)).mean(dim=(1, 2)))

    def detached(b):
        with torch.no_grad():
            return head(torch.from_numpy(np.asarray(b)).mean(dim=(1, 2))).numpy()

    got = peephole.explain(grad_on, image, "rise", output="logits", n_masks=4).maps
    np.testing.assert_allclose(got, peephole.explain(detached, image, "rise", output="logits", n_masks=4).maps)
    with pytest.raises(peephole.ModelError, match="a transformers pipeline's .* pass the pipeline itself"):
        peephole.explain(lambda b: [[{"label": "cat", "score": 0.9}] for _ in b], image, "rise", output="probs", n_masks=4)


def test_a_batch_size_beyond_the_memory_bound_is_cut_to_fit_with_a_warning(monkeypatch):
    """``batch_size=100000`` with stride-1 occlusion of a 224×224 photo asked NumPy for 28 GiB at once (a
    MemoryError traceback, or the system's OOM killer). A batch is cut to fit MAX_BATCH_BYTES of inputs, saying so;
    the maps are those of any batch size."""
    import peephole.pipeline

    calls = []

    def fn(batch):
        calls.append(len(batch))
        return np.asarray(batch, np.float64).mean(axis=(1, 2))

    kw = {"partition": "window", "radius": 4, "stride": 4, "output": "scores", "targets": [0]}
    want = peephole.explain(fn, IMG, "occlusion", batch_size=7, **kw)
    monkeypatch.setattr(peephole.pipeline, "MAX_BATCH_BYTES", 7 * IMG.astype(np.float32).nbytes)
    calls.clear()
    with pytest.warns(UserWarning, match=r"batch_size 100000 would give the model .* GiB of inputs per call; using 7"):
        got = peephole.explain(fn, IMG, "occlusion", batch_size=100_000, **kw)
    assert max(calls) == 7 and sum(calls) == got.n_queries
    np.testing.assert_array_equal(got.maps, want.maps)
