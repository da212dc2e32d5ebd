"""Texts: a str (or UTF-8 bytes, or a word list) split into whitespace words; partitions group words."""

from __future__ import annotations

import warnings
from typing import Any

from peephole.core.partition import Partition
from peephole.core.perturb import Masker
from peephole.modalities.base import Modality
from peephole.modalities.text.maskers import make_text_masker
from peephole.modalities.text.partitions import make_text_partition
from peephole.modalities.text.view import TextView
from peephole.models.text.tokenize import join, words


class TextModality(Modality):
    """Partitions: ``'words'``, ``'windows'`` (``window`` words every ``stride``), ``'phrases'``, word-index
    groups or a :class:`Partition`. Maskers: ``'drop'`` (delete hidden words) or a replacement token
    such as ``'[MASK]'``. Models: ``'vader'``, ``'minilm'``, a Hugging Face folder or pipeline, a
    callable ``list[str] -> (N, K)``."""

    name = "text"
    default_partition = "words"
    default_masker = "drop"
    partition_options = {"window": 3, "stride": 1}

    def load(self, x: Any, allow_large: bool = False) -> list[str]:
        return words(x)

    def batch_of_one(self, x: list[str]) -> list[str]:
        return [join(x)]

    def as_model(self, model: Any, output: str | None, class_names: Any) -> Any:
        from peephole.models.text import as_text_model

        return as_text_model(model, output=output, class_names=class_names)

    def partition(self, x: list[str], spec: Any, seed: int = 0, **options: Any) -> Partition:
        o = self.check_partition_options(options)
        if len(x) == 1:
            warnings.warn(
                "a one-word text has a single part (the text itself): its importance is the model's output on it",
                UserWarning,
                stacklevel=3,
            )
        return make_text_partition(x, spec, o["window"], o["stride"])

    def masker(self, spec: Any) -> Masker:
        return make_text_masker(spec)

    def view(self, explanation: Any) -> TextView:
        return TextView(explanation)
