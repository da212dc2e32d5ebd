"""Zero-shot text classification with an NLI model (the zero-shot-classification pipeline's way): a tiny BERT trained
here, offline, to say "entailment" when the premise holds the hypothesis's topic word."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from text_training import train  # noqa: E402

import peephole  # noqa: E402
from peephole.models.text.zero_shot import HFZeroShotTextClassifier  # noqa: E402

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "about", "cat", "dog", "park", "the", "sat", "on", "a", "ran", "in", "big"]
TOPICS, FILLER = VOCAB[6:9], VOCAB[9:]
NLI = {0: "contradiction", 1: "neutral", 2: "entailment"}


@pytest.fixture(scope="module")
def nli():
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(VOCAB)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                                cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
                                                model_max_length=64,
                                                model_input_names=["input_ids", "token_type_ids", "attention_mask"])  # fmt: skip
    cfg = transformers.BertConfig(vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                  intermediate_size=64, max_position_embeddings=64, num_labels=3, id2label=NLI,
                                  label2id={v: k for k, v in NLI.items()}, hidden_dropout_prob=0.0,
                                  attention_probs_dropout_prob=0.0)  # fmt: skip
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(cfg)
    rng = np.random.default_rng(0)
    premises, hypotheses, labels = [], [], []
    for i in range(600):  # half entailed (the premise holds the asked topic), half contradicted
        words = list(rng.choice(FILLER, size=int(rng.integers(2, 7))))
        held = list(rng.choice(TOPICS, size=int(rng.integers(0, 3)), replace=False))
        for topic in held:
            words.insert(int(rng.integers(len(words) + 1)), topic)
        absent = [t for t in TOPICS if t not in held]
        asked = rng.choice(held) if held and (i % 2 or not absent) else rng.choice(absent)
        premises.append(" ".join(words))
        hypotheses.append(f"about {asked}")
        labels.append(2 if asked in held else 0)
    enc = fast(premises, hypotheses, padding=True, return_tensors="pt")
    model = train(model, enc, torch.tensor(labels), steps=250, lr=1e-3)  # about 96 % of the pairs right after 200
    return model, fast


TEXT = "the big dog sat on a park"


def test_scores_are_the_pipelines(nli):
    """Single-label: the entailment logits of every query, whose softmax is the pipeline's; multi-label (and one
    query): each query's softmax of contradiction and entailment, the pipeline's multi_label scores."""
    model, tok = nli
    pipe = transformers.pipeline("zero-shot-classification", model=model, tokenizer=tok)
    for multi in (False, True):
        reported = pipe(TEXT, candidate_labels=TOPICS, hypothesis_template="about {}", multi_label=multi)
        want = dict(zip(reported["labels"], reported["scores"]))
        clf = HFZeroShotTextClassifier(pipe, queries=TOPICS, template="about {}", multi_label=multi)
        out = clf([TEXT])[0]
        ours = out if multi else np.exp(out) / np.exp(out).sum()
        np.testing.assert_allclose(ours, [want[t] for t in TOPICS], rtol=1e-4, atol=1e-6)
        assert clf.output == ("probs" if multi else "logits") and clf.class_names == TOPICS
    assert max(want.values()) - min(want.values()) > 0.5  # the model tells the topics apart (else nothing is tested)
    one = HFZeroShotTextClassifier(model, tok, ["dog"], template="about {}")
    assert one.output == "probs" and one.class_names == ["not dog", "dog"]


@pytest.mark.parametrize("method", ["occlusion", "lime"])
def test_the_topic_word_explains_its_query(nli, method):
    """The model learned "entailment" from the topic word: on a text about one topic, that query is the top class
    and its map ranks the topic word first. Single-label queries compete (a softmax over them): on a text holding
    two topics, hiding "park" raises the dog query's score, so "park" weighs least for 'dog'."""
    model, tok = nli
    clf = HFZeroShotTextClassifier(model, tok, TOPICS, template="about {}")
    for text, topic in [("the big dog sat on a", "dog"), ("the park sat on a big", "park")]:
        e = peephole.explain(clf, text, method, targets=[topic])
        assert e.top_classes(1)[0][1] == topic and text.split()[int(np.argmax(e.maps[0]))] == topic
    both = peephole.explain(clf, TEXT, "occlusion", targets=["dog"])
    assert TEXT.split()[int(np.argmin(both.maps[0]))] == "park"


def test_wrong_models_pipelines_and_queries_are_one_input_error(nli):
    model, tok = nli
    pipe = transformers.pipeline("zero-shot-classification", model=model, tokenizer=tok)
    with pytest.raises(peephole.InputError, match="tells apart what text queries name"):
        peephole.explain(pipe, TEXT, "pami")  # it explained the NLI labels of the text alone, without a word
    cases = [
        (dict(queries=["dog"]), None),  # one query: allowed, scored on its own
        (dict(queries=["dog", "dog"]), "distinct"),
        (dict(queries=TOPICS, template="about"), "template must be"),
        (dict(queries=TOPICS, template="about {} {"), "is no format string"),  # it was a ValueError
        (dict(queries=TOPICS, multi_label="yes"), "multi_label must be"),
    ]
    for kwargs, message in cases:
        if message is None:
            HFZeroShotTextClassifier(model, tok, **kwargs)
            continue
        with pytest.raises(peephole.InputError, match=message):
            HFZeroShotTextClassifier(model, tok, **kwargs)
    sentiment = transformers.BertForSequenceClassification(
        transformers.BertConfig(
            vocab_size=len(VOCAB), hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16, num_labels=2
        )  # fmt: skip
    )
    with pytest.raises(peephole.InputError, match="names no 'entailment' label"):
        HFZeroShotTextClassifier(sentiment, tok, TOPICS)
    masked = transformers.pipeline(
        "fill-mask", model=transformers.BertForMaskedLM(model.config), tokenizer=tok
    )  # it failed on the logits' shape
    with pytest.raises(peephole.InputError, match="'fill-mask' pipeline: Peephole reads text-classification"):
        peephole.explain(masked, TEXT, "pami")


def test_a_saved_nli_model_is_a_zero_shot_classifier_with_queries_and_refused_without(nli, tmp_path, capsys):
    """Without queries an NLI folder (or model) is one error saying how to give them (it was explained over
    contradiction/neutral/entailment of the text alone); with them, the library and ``explain-text --query`` tell the
    queries apart."""
    from peephole.cli import main
    from peephole.models.text import load_text_model
    from peephole.models.text.hf import HFTextClassifier

    model, tok = nli
    folder = tmp_path / "nli"
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    for load in (lambda: load_text_model(folder), lambda: HFTextClassifier(model, tok)):
        with pytest.raises(peephole.InputError, match="natural-language-inference model"):
            load()
    with pytest.raises(peephole.InputError, match="queries are for the folder"):
        load_text_model("vader", queries=["dog"])
    clf = load_text_model(folder, queries=TOPICS, template="about {}")
    np.testing.assert_allclose(clf([TEXT]), HFZeroShotTextClassifier(model, tok, TOPICS, template="about {}")([TEXT]), rtol=1e-5)
    capsys.readouterr()
    argv = ["explain-text", "the park sat on a big", "--model", str(folder), "--no-color", "--method", "occlusion"]
    assert main([*argv, "--query", "cat", "--query", "park"]) == 0
    assert "park" in capsys.readouterr().out
    assert main([*argv, "--query", "cat", "--query", "park", "--template", "about {}"]) == 0  # the user's hypothesis
    assert "park" in capsys.readouterr().out
    with pytest.raises(peephole.InputError, match="give queries= with it"):
        load_text_model("vader", template="about {}")
    assert main(argv) == 2 and "natural-language-inference" in capsys.readouterr().err


def test_a_premise_past_the_models_limit_is_cut_with_one_warning(nli):
    """An NLI model reads the premise and the hypothesis together: a premise past the limit (64 tokens with the
    hypothesis) is cut, with one warning counting the pair's tokens; its words past the limit get no importance."""
    model, tok = nli
    clf = HFZeroShotTextClassifier(model, tok, TOPICS, template="about {}")
    text = " ".join(["dog"] + ["the"] * 79)
    with pytest.warns(UserWarning, match=r"texts longer than 64 tokens .*a text of 85 tokens"):  # CLS 80 SEP about x SEP
        e = peephole.explain(clf, text, "occlusion", targets=["dog"])
    assert np.abs(e.maps[0, 62:]).max() == 0 and e.maps[0, 0] != 0
