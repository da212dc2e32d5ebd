"""Text-prompted transformers detectors (OWL-ViT, OWLv2, Grounding DINO) explained box by box: small random-initialised
models and tokenizers built from configs (nothing downloaded), read as their processors read them."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import peephole  # noqa: E402
from peephole.models.hf_detection import hf_detector  # noqa: E402
from peephole.models.hf_grounded import padded_square  # noqa: E402
from peephole.models.hf_image import preprocess_of  # noqa: E402

OWL_VOCAB = ["[PAD]", "[UNK]", "<s>", "a", "cat", "dog", "remote", "</s>"]
BERT_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", ".", "a", "cat", "dog", "remote", "control"]
#: a smooth 40×48 photo (resampling filters agree on it), as floats in [0, 1]
YY, XX = np.mgrid[0:40, 0:48]
IMAGE = np.stack([XX / 47, YY / 39, (XX + YY) / 86], axis=-1).astype(np.float32)


def fast_tokenizer(vocab: list[str], bert: bool = False):
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(vocab)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer() if bert else pre_tokenizers.WhitespaceSplit()
    if bert:
        special = [("[CLS]", vocab.index("[CLS]")), ("[SEP]", vocab.index("[SEP]"))]
        tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=special)
    named = {"cls_token": "[CLS]", "sep_token": "[SEP]"} if bert else {"bos_token": "<s>", "eos_token": "</s>"}
    return transformers.PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", **named)


def owl(family: str):
    """A random OWL-ViT or OWLv2 (16 patches at 32×32) and its processor."""
    torch.manual_seed(0)
    cfg = getattr(transformers, f"{family}Config")(
        text_config=dict(vocab_size=len(OWL_VOCAB), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, max_position_embeddings=16, pad_token_id=0, bos_token_id=2,
                         eos_token_id=7),
        vision_config=dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                           image_size=32, patch_size=8),
        projection_dim=16,
    )  # fmt: skip
    images = getattr(transformers, f"{family}ImageProcessorPil")(size={"height": 32, "width": 32})
    processor = getattr(transformers, f"{family}Processor")(image_processor=images, tokenizer=fast_tokenizer(OWL_VOCAB))
    return getattr(transformers, f"{family}ForObjectDetection")(cfg), processor  # train mode, as built


@pytest.fixture(scope="module")
def gdino():
    """A random Grounding DINO (6 queries, a Swin backbone at 64×64, a one-layer BERT) and its processor."""
    torch.manual_seed(0)
    cfg = transformers.GroundingDinoConfig(
        backbone_config=transformers.SwinConfig(image_size=64, patch_size=4, embed_dim=8, depths=[1] * 4,
                                                num_heads=[1] * 4, window_size=2, out_indices=[2, 3, 4]),
        text_config=transformers.BertConfig(vocab_size=len(BERT_VOCAB), hidden_size=32, intermediate_size=32,
                                            num_hidden_layers=1, num_attention_heads=2, max_position_embeddings=32),
        d_model=32, encoder_layers=1, decoder_layers=2, encoder_attention_heads=2, decoder_attention_heads=2,
        encoder_ffn_dim=16, decoder_ffn_dim=16, num_queries=6, max_text_len=32, num_feature_levels=3,
        encoder_n_points=1, decoder_n_points=1,
    )  # fmt: skip
    images = transformers.GroundingDinoImageProcessorPil(size={"height": 64, "width": 64})
    processor = transformers.GroundingDinoProcessor(image_processor=images, tokenizer=fast_tokenizer(BERT_VOCAB, bert=True))
    return transformers.GroundingDinoForObjectDetection(cfg), processor


@pytest.mark.parametrize("family", ["OwlViT", "Owlv2"])
def test_an_owl_detector_reads_every_patch_as_its_processor_does_and_explains_each_box(family):
    """Each patch is a detection labelled with its best query, scored by that query's sigmoid, with boxes in the
    explained image's pixels: what the processor's post-processing gives on the same model output (OWLv2's boxes are
    relative to the padded square; a plain resize put them off by the padding). One map per reference box."""
    model, processor = owl(family)
    queries = ["a cat", "a remote"]
    det = hf_detector(model, processor, queries=queries, threshold=0.0)
    assert det.class_names == queries and det.reference_threshold == 0.0
    found = det(IMAGE[None])[0]
    square = padded_square(IMAGE[None]) if family == "Owlv2" else IMAGE[None]
    pixels = torch.from_numpy(preprocess_of(model.config, processor.image_processor)(square))
    text = processor(text=[queries], return_tensors="pt")
    with torch.no_grad():
        out = model.eval()(pixel_values=pixels, input_ids=text["input_ids"], attention_mask=text["attention_mask"])
        model.train()
    want = processor.post_process_grounded_object_detection(out, threshold=0.0, target_sizes=[(40, 48)])[0]
    np.testing.assert_allclose(found["boxes"], want["boxes"].numpy(), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(found["scores"], want["scores"].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(found["labels"], want["labels"].numpy())
    e = peephole.explain(det, IMAGE, method="rise", n_masks=6)
    assert e.task == "detection" and e.maps.shape == (16, 40, 48) and e.n_queries == 7
    assert {n.split()[0] for n in e.class_names} <= {"a"} and e.extras["boxes"].shape == (16, 4)
    assert model.training  # eval mode inside each call only


@pytest.mark.parametrize("family", ["OwlViT", "Owlv2"])
def test_an_owl_detector_runs_its_text_tower_once_and_later_batches_equal_the_whole_model(family):
    """The queries' embeddings are kept from the first batch: three calls run the text tower once, and a later batch's
    detections equal the whole model's (the processor's post-processing of its output)."""
    model, processor = owl(family)
    queries = ["a cat", "a remote", "a dog"]
    det = hf_detector(model, processor, queries=queries, threshold=0.0)
    calls = []
    hook = getattr(model, family.lower()).text_model.register_forward_hook(lambda *a: calls.append(1))
    images = [IMAGE, IMAGE[::-1].copy(), IMAGE[:, ::-1].copy()]
    found = [det(np.stack([im, im * 0.5]))[0] for im in images]
    hook.remove()
    assert len(calls) == 1
    pixels = torch.from_numpy(preprocess_of(model.config, processor.image_processor)(
        padded_square(images[2][None]) if family == "Owlv2" else images[2][None]))  # fmt: skip
    text = processor(text=[queries], return_tensors="pt")
    with torch.no_grad():
        out = model.eval()(pixel_values=pixels, input_ids=text["input_ids"], attention_mask=text["attention_mask"])
    want = processor.post_process_grounded_object_detection(out, threshold=0.0, target_sizes=[(40, 48)])[0]
    np.testing.assert_allclose(found[2]["scores"], want["scores"].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(found[2]["boxes"], want["boxes"].numpy(), rtol=1e-4, atol=1e-3)
    np.testing.assert_array_equal(found[2]["labels"], want["labels"].numpy())


def test_an_owl_detector_whose_heads_read_otherwise_runs_whole_on_every_batch():
    """Image features that differ from the ones its forward computes (a model changed by its user) fail the first batch's
    check: the text tower then runs on every batch and the detections stay the whole model's."""
    model, processor = owl("OwlViT")
    plain = model.image_embedder
    model.image_embedder = lambda **kw: (plain(**kw)[0] * 2.0, None)
    det = hf_detector(model, processor, queries=["a cat", "a dog"], threshold=0.0)
    calls = []
    hook = model.owlvit.text_model.register_forward_hook(lambda *a: calls.append(1))
    first, again = det(IMAGE[None])[0], det(IMAGE[None])[0]
    hook.remove()
    assert len(calls) == 2
    np.testing.assert_allclose(first["scores"], again["scores"], rtol=1e-6)


def test_owlv2_pads_the_image_to_a_square_as_its_processor_does():
    """OWLv2's processor pads bottom and right with black before resizing; the adapter's input matches it (a plain
    resize of the 40×48 image differs by far more than the two resampling filters do)."""
    model, processor = owl("Owlv2")
    theirs = processor(images=(IMAGE * 255).round().astype(np.uint8), return_tensors="pt")["pixel_values"].numpy()
    pre = preprocess_of(model.config, processor.image_processor)
    ours, unpadded = pre(padded_square(IMAGE[None])), pre(IMAGE[None])
    assert np.abs(ours - theirs).mean() < 0.05 < np.abs(unpadded - theirs).mean()


def test_grounding_dino_scores_each_query_over_its_own_tokens(gdino):
    """The caption is the queries joined as the processor joins them ("a cat. a remote control."); a query scores the
    highest sigmoid over its own tokens (positions 1–2 and 4–6 here, written by hand), the boxes are the processor's."""
    model, processor = gdino
    det = hf_detector(model, processor, queries=["a cat", "A remote control"], threshold=0.0)
    found = det(IMAGE[None])[0]
    text = processor(text="a cat. a remote control.", return_tensors="pt")
    assert text["input_ids"][0].tolist() == [2, 5, 6, 4, 5, 8, 9, 4, 3]
    pixels = torch.from_numpy(preprocess_of(model.config, processor.image_processor)(IMAGE[None]))
    with torch.no_grad():
        out = model.eval()(pixel_values=pixels, **text)
    probs = torch.sigmoid(out.logits[0]).numpy()
    per_query = np.stack([probs[:, 1:3].max(1), probs[:, 4:7].max(1)], axis=1)
    np.testing.assert_allclose(found["scores"], per_query.max(1), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(found["labels"], per_query.argmax(1))
    want = processor.post_process_grounded_object_detection(out, threshold=0.0, target_sizes=[(40, 48)])[0]
    np.testing.assert_allclose(found["boxes"], want["boxes"].numpy(), rtol=1e-4, atol=1e-3)
    e = peephole.explain(det, IMAGE, method="rise", n_masks=4)
    assert e.maps.shape == (6, 40, 48) and e.extras["boxes"].shape == (6, 4)


def test_a_zero_shot_pipeline_is_read_with_its_own_tokenizer_and_image_processor():
    """A zero-shot-object-detection pipeline (tokenizer and image processor, no processor object) gives the same
    detections as its model with the processor; its reference boxes score at least 0.1, the pipeline's default."""
    model, processor = owl("OwlViT")
    pipe = transformers.pipeline(
        "zero-shot-object-detection", model=model, tokenizer=processor.tokenizer, image_processor=processor.image_processor
    )
    from_pipe = hf_detector(pipe, queries=["a cat", "a dog"])
    assert from_pipe.reference_threshold == 0.1
    a, b = from_pipe(IMAGE[None])[0], hf_detector(model, processor, queries=["a cat", "a dog"])(IMAGE[None])[0]
    for key in ("boxes", "scores", "labels"):
        np.testing.assert_allclose(a[key], b[key], rtol=1e-6)
    with pytest.raises(peephole.InputError, match="finds what text queries name"):
        peephole.explain(pipe, IMAGE, method="rise", n_masks=4)


def test_wrong_queries_and_arguments_are_one_input_error(gdino):
    """Each names what is wrong (they were the model's own errors about input_ids, or ran with a caption that merged
    two queries into one)."""
    model, processor = owl("OwlViT")
    cases = [
        (dict(queries=[]), "non-empty list"),
        (dict(queries=["a cat", " "]), "non-empty"),
        (dict(queries=["a cat", 3]), "non-empty list of non-empty strings"),
        (dict(queries=["a cat", "a cat "]), "distinct"),
        (dict(queries=["a cat"], class_names=["x"]), "classes are its queries"),
    ]
    for kwargs, message in cases:
        with pytest.raises(peephole.InputError, match=message):
            hf_detector(model, processor, **kwargs)
    with pytest.raises(peephole.InputError, match="needs its processor"):
        hf_detector(model, queries=["a cat"])
    with pytest.raises(peephole.InputError, match="finds what text queries name"):
        peephole.explain(model, IMAGE, method="rise", n_masks=4, task="detection")
    with pytest.raises(peephole.InputError, match="may not contain"):
        hf_detector(gdino[0], gdino[1], queries=["a cat.", "a dog"])
    with pytest.raises(peephole.InputError, match="reads at most 32"):
        hf_detector(gdino[0], gdino[1], queries=[f"cat {i}" for i in range(12)])
    assert hf_detector(model, processor, queries="a cat").class_names == ["a cat"]  # one query as a string


def test_a_closed_set_detector_takes_no_queries():
    torch.manual_seed(0)
    cfg = transformers.YolosConfig(image_size=[32, 32], patch_size=8, hidden_size=32, num_hidden_layers=1,
                                   num_attention_heads=2, intermediate_size=64, num_detection_tokens=2, num_labels=2)  # fmt: skip
    processor = transformers.YolosImageProcessor(size={"height": 32, "width": 32})
    with pytest.raises(peephole.InputError, match="takes none"):
        hf_detector(transformers.YolosForObjectDetection(cfg), processor, queries=["a cat"])


def test_a_saved_text_prompted_detector_loads_by_path_with_its_queries(gdino, tmp_path):
    """``load_model(folder, queries=...)`` and ``peephole explain --model FOLDER --query ...`` (the folder failed to
    load as a closed-set detector); without queries, or queries for another model, one InputError each."""
    from PIL import Image

    from peephole.cli import main

    folder = tmp_path / "gdino"
    gdino[0].save_pretrained(folder)
    gdino[1].save_pretrained(folder)
    with pytest.raises(peephole.InputError, match="say what to find"):
        peephole.load_model(str(folder))
    with pytest.raises(peephole.InputError, match="queries= is for the folder of a text-prompted model"):
        peephole.load_model("efficientnet-lite0", queries=["a cat"])
    with pytest.raises(peephole.InputError, match="a template is for an image–text classifier's queries"):
        peephole.load_model(str(folder), queries=["a cat"], template="a photo of {}")  # a detector's queries are its prompts
    det = peephole.load_model(str(folder), queries=["a cat", "a dog"])
    assert det.class_names == ["a cat", "a dog"] and det.reference_threshold == 0.1
    np.testing.assert_allclose(
        det(IMAGE[None])[0]["scores"], hf_detector(*gdino, queries=["a cat", "a dog"])(IMAGE[None])[0]["scores"], rtol=1e-5
    )
    photo, out = tmp_path / "photo.png", tmp_path / "out"
    Image.fromarray((IMAGE * 255).round().astype(np.uint8)).save(photo)
    argv = ["explain", str(photo), "--model", str(folder), "--size", "0", "--method", "rise", "--out", str(out)]
    assert main([*argv, "--query", "a cat", "--query", "a dog", "--task", "detection"]) == 0
    e = peephole.load(out / "photo.npz")
    assert e.task == "detection" and e.maps.shape[1:] == (40, 48)
    assert main(argv) == 2  # no query: the error, not a traceback
