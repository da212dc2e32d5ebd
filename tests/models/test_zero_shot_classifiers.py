"""Zero-shot image classifiers (CLIP, SigLIP and their zero-shot-image-classification pipeline) over text queries:
small random-initialised models and tokenizers built from configs (nothing downloaded)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import peephole  # noqa: E402
from peephole.models.hf_image import preprocess_of  # noqa: E402
from peephole.models.hf_zero_shot import HFZeroShotClassifier  # noqa: E402

VOCAB = ["[PAD]", "[UNK]", "<s>", "This", "is", "a", "photo", "of", "cat.", "dog.", "car.", "</s>"]
TEXT = dict(vocab_size=len(VOCAB), hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
            max_position_embeddings=64, pad_token_id=0, bos_token_id=2, eos_token_id=11)  # fmt: skip
VISION = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, image_size=32, patch_size=8)
QUERIES = ["cat", "dog", "car"]
IMAGE = np.random.default_rng(0).random((40, 48, 3)).astype(np.float32)


def tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(VOCAB)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 2), ("</s>", 11)])
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", bos_token="<s>", eos_token="</s>"
    )


@pytest.fixture(scope="module")
def clip():
    torch.manual_seed(0)
    model = transformers.CLIPModel(transformers.CLIPConfig(text_config=TEXT, vision_config=VISION, projection_dim=16))
    images = transformers.CLIPImageProcessorPil(size={"height": 32, "width": 32}, crop_size={"height": 32, "width": 32})
    return model, transformers.CLIPProcessor(image_processor=images, tokenizer=tokenizer())


@pytest.fixture(scope="module")
def siglip():
    torch.manual_seed(0)
    model = transformers.SiglipModel(transformers.SiglipConfig(text_config=TEXT, vision_config=VISION))
    images = transformers.SiglipImageProcessorPil(size={"height": 32, "width": 32})
    return model, transformers.SiglipProcessor(image_processor=images, tokenizer=tokenizer())


def whole_logits(model, processor, prompts, **pad) -> np.ndarray:
    pixels = torch.from_numpy(preprocess_of(model.config, processor.image_processor)(IMAGE[None]))
    text = processor.tokenizer(prompts, return_tensors="pt", **(pad or {"padding": True}))
    with torch.no_grad():
        return model.eval()(pixel_values=pixels, **text).logits_per_image.numpy()


def test_clip_scores_are_its_logits_per_image_from_prompts_encoded_once(clip):
    """The adapter's logits are the whole model's on the prompts "This is a photo of {query}." (checked on the first
    batch, then the image tower alone runs); their softmax is what the pipeline reports (up to its resampling)."""
    from PIL import Image

    model, processor = clip
    m = HFZeroShotClassifier(model, processor, QUERIES)
    assert m.class_names == QUERIES and m.output == "logits"
    want = whole_logits(model, processor, [f"This is a photo of {q}." for q in QUERIES])
    np.testing.assert_allclose(m(IMAGE[None]), want, rtol=1e-4, atol=1e-5)
    assert m.module.route.trusted is True  # the kept text embeddings gave the whole model's logits
    assert np.ptp(want) > 0.1  # the prompts differ (a test with equal logits would prove nothing)
    pipe = transformers.pipeline("zero-shot-image-classification", model=model, tokenizer=processor.tokenizer,
                                 image_processor=processor.image_processor)  # fmt: skip
    reported = {
        r["label"]: r["score"] for r in pipe(Image.fromarray((IMAGE * 255).round().astype(np.uint8)), candidate_labels=QUERIES)
    }
    ours = torch.softmax(torch.from_numpy(m(IMAGE[None])[0]), 0).numpy()
    np.testing.assert_allclose(ours, [reported[q] for q in QUERIES], atol=0.01)
    from_pipe = HFZeroShotClassifier(pipe, queries=QUERIES)
    np.testing.assert_allclose(from_pipe(IMAGE[None]), m(IMAGE[None]), rtol=1e-6)


def test_siglip_gives_each_query_its_own_sigmoid(siglip):
    """SigLIP's queries do not compete (its pipeline reads a sigmoid each): probabilities, prompts padded to 64 tokens
    as its pipeline pads them; one query is allowed (explained as Peephole explains one probability: [1 − p, p])."""
    model, processor = siglip
    m = HFZeroShotClassifier(model, processor, ["cat"], template="a photo of {}")
    assert m.output == "probs"
    want = whole_logits(model, processor, ["a photo of cat"], padding="max_length", max_length=64, truncation=True)
    np.testing.assert_allclose(m(IMAGE[None]), 1 / (1 + np.exp(-want)), rtol=1e-4, atol=1e-6)
    e = peephole.explain(m, IMAGE, method="rise", n_masks=8, targets=["cat"])
    assert e.maps.shape == (1, 40, 48) and e.class_names == ["not cat", "cat"] and e.targets == [1]


def test_a_model_whose_logits_are_made_otherwise_runs_whole_on_every_batch(clip):
    """The first batch checks the shortcut against the whole model: a model computing its logits another way (here
    doubled) is run whole from then on, so its scores are never the shortcut's."""
    model, processor = clip
    m = HFZeroShotClassifier(model, processor, QUERIES)
    forward = model.forward
    model.forward = lambda **kw: type(forward(**kw))(logits_per_image=2 * forward(**kw).logits_per_image)
    try:
        first, second = m(IMAGE[None]), m(IMAGE[None])
        assert m.module.route.trusted is False
        want = whole_logits(model, processor, [f"This is a photo of {q}." for q in QUERIES])  # the doubled model's
        np.testing.assert_allclose(first, want, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(second, want, rtol=1e-4, atol=1e-5)
    finally:
        del model.forward
    m = HFZeroShotClassifier(model, processor, QUERIES)  # a shortcut that cannot run: the whole model, not the error
    m.module.route.quick = lambda pixels: (_ for _ in ()).throw(AttributeError("features of another kind"))
    np.testing.assert_allclose(m(IMAGE[None]), whole_logits(model, processor, [f"This is a photo of {q}." for q in QUERIES]),
                               rtol=1e-4, atol=1e-5)  # fmt: skip
    assert m.module.route.trusted is False


def test_explained_by_black_box_and_gradient_methods(clip):
    model, processor = clip
    m = HFZeroShotClassifier(model, processor, QUERIES)
    e = peephole.explain(m, IMAGE, method="rise", n_masks=8, targets=["dog"])
    assert e.class_names == QUERIES and e.targets == [1] and e.maps.shape == (1, 40, 48)
    g = peephole.explain(m, IMAGE, method="saliency", targets=[0])
    assert np.isfinite(g.maps).all() and g.maps.max() > 0  # backpropagates past the kept text embeddings


def test_wrong_queries_and_arguments_are_one_input_error(clip):
    model, processor = clip
    cases = [
        (dict(queries=None), "tells apart what text queries name"),
        (dict(queries=["cat"]), "at least 2"),
        (dict(queries=["cat", ""]), "non-empty strings"),
        (dict(queries=["cat", "cat"]), "distinct"),
        (dict(queries=QUERIES, template="a photo"), "template must be a string with one"),
        (dict(queries=QUERIES, template="a {} of a {}"), "template must be a string with one"),
        (dict(queries=QUERIES, template="a {} in {place}"), "is no format string"),  # it was a KeyError
    ]
    for kwargs, message in cases:
        with pytest.raises(peephole.InputError, match=message):
            HFZeroShotClassifier(model, processor, **kwargs)
    with pytest.raises(peephole.InputError, match="needs its processor"):
        HFZeroShotClassifier(model, None, QUERIES)
    with pytest.raises(peephole.InputError, match="tells apart what text queries name"):
        peephole.explain(model, IMAGE, method="rise", n_masks=4)  # it was "not an image classifier"-like noise


def test_a_saved_image_text_model_loads_by_path_with_its_queries(clip, tmp_path):
    from PIL import Image

    from peephole.cli import main

    folder = tmp_path / "clip"
    clip[0].save_pretrained(folder)
    clip[1].save_pretrained(folder)
    with pytest.raises(peephole.InputError, match="say what to tell apart"):
        peephole.load_model(str(folder))
    m = peephole.load_model(str(folder), queries=QUERIES)
    np.testing.assert_allclose(m(IMAGE[None]), HFZeroShotClassifier(*clip, QUERIES)(IMAGE[None]), rtol=1e-5)
    photo, out = tmp_path / "photo.png", tmp_path / "out"
    Image.fromarray((IMAGE * 255).round().astype(np.uint8)).save(photo)
    argv = ["explain", str(photo), "--model", str(folder), "--size", "0", "--method", "rise", "--out", str(out)]
    assert main([*argv, *[a for q in QUERIES for a in ("--query", q)], "--top-k", "1"]) == 0
    assert peephole.load(out / "photo.npz").class_names == QUERIES


def test_a_folders_prompt_template_is_given_with_its_queries(clip, tmp_path):
    """``load_model(folder, queries=, template=)`` and ``--template`` write each query into the user's prompt (the
    scores are the adapter's with that template, not the default's); a template without queries is one error (for a
    detector's folder: tests/models/test_grounded_detectors.py)."""
    from PIL import Image

    from peephole.cli import main

    folder = tmp_path / "clip"
    clip[0].save_pretrained(folder)
    clip[1].save_pretrained(folder)
    mine = HFZeroShotClassifier(*clip, QUERIES, template="a photo of {}.")(IMAGE[None])
    m = peephole.load_model(str(folder), queries=QUERIES, template="a photo of {}.")
    np.testing.assert_allclose(m(IMAGE[None]), mine, rtol=1e-5)
    assert not np.allclose(mine, HFZeroShotClassifier(*clip, QUERIES)(IMAGE[None]), rtol=1e-3)
    with pytest.raises(peephole.InputError, match="give queries= with it"):
        peephole.load_model(str(folder), template="a {}")
    photo, out = tmp_path / "photo.png", tmp_path / "out"
    Image.fromarray((IMAGE * 255).round().astype(np.uint8)).save(photo)
    argv = ["explain", str(photo), "--model", str(folder), "--size", "0", "--method", "rise", "--out", str(out)]
    assert main([*argv, *[a for q in QUERIES for a in ("--query", q)], "--template", "a photo of {}."]) == 0
    e = peephole.load(out / "photo.npz")
    softmax = lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum()  # noqa: E731 - CLIP's, over the queries
    np.testing.assert_allclose(e.probabilities, softmax(mine[0]), atol=2e-3)  # the PNG's rounding moves them a little
    assert np.abs(e.probabilities - softmax(HFZeroShotClassifier(*clip, QUERIES)(IMAGE[None])[0])).max() > 0.01


def test_a_dataset_run_names_the_folder_and_its_queries_and_records_them(clip, tmp_path):
    """``peephole run FOLDER --model clip/ --query ...`` (``peephole.run(..., queries=)``): every item over the
    queries; the queries are part of the run's settings (a resume with others is refused), and a model object takes
    its own."""
    from PIL import Image

    from peephole.cli import main
    from peephole.store.runs import SettingsMismatch

    folder, images = tmp_path / "clip", tmp_path / "images"
    clip[0].save_pretrained(folder)
    clip[1].save_pretrained(folder)
    images.mkdir()
    for i in range(2):
        Image.fromarray((np.roll(IMAGE, 7 * i, axis=0) * 255).round().astype(np.uint8)).save(images / f"{i}.png")
    args = ["run", str(images), "--model", str(folder), "--method", "rise", "--option", "n_masks=8", "--size", "0", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "run"), *[a for q in QUERIES for a in ("--query", q)]]) == 0
    for i in range(2):
        e = peephole.load(tmp_path / "run", item=f"{i}.png")
        assert e.class_names == QUERIES and e.maps.shape == (1, 40, 48)
    with pytest.raises(SettingsMismatch):
        peephole.run(str(folder), str(images), "rise", out=tmp_path / "run", queries=["cat", "dog"], size=None, n_masks=8)
    with pytest.raises(SettingsMismatch):  # the template is part of the settings too
        peephole.run(str(folder), str(images), "rise", out=tmp_path / "run", queries=QUERIES, template="a {}", size=None,
                     n_masks=8)  # fmt: skip
    with pytest.raises(peephole.InputError, match="queries= and template= are for a model named by its folder"):
        peephole.run(HFZeroShotClassifier(*clip, QUERIES), str(images), "rise", out=tmp_path / "x", queries=QUERIES)
