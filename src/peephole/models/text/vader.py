"""VADER sentiment (Hutto & Gilbert 2014, PyPI ``vaderSentiment``; the lexicon ships in the wheel)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from peephole.errors import InputError


class VaderSentiment:
    """Two classes, ``('negative', 'positive')``: p(positive) = (compound + 1) / 2.

    VADER's compound score in [-1, 1] is its normalised overall valence; mapping it linearly to a
    probability keeps a text without sentiment words at 0.5 for both classes.
    """

    output = "probs"
    modality = "text"  #: the input kind: ``peephole.explain(model, text)`` needs no ``modality=``
    class_names = ("negative", "positive")
    preferred_batch_size = 256

    def __init__(self) -> None:
        try:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
        except ImportError as exc:
            raise InputError("VADER needs the 'text' extra: pip install 'peephole[text]' (vaderSentiment)") from exc
        self.analyzer = SentimentIntensityAnalyzer()

    def __call__(self, batch: Sequence[str]) -> np.ndarray:
        pos = np.array([(self.analyzer.polarity_scores(t)["compound"] + 1.0) / 2.0 for t in batch])
        return np.stack([1.0 - pos, pos], axis=1)
