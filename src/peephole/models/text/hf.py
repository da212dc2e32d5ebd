"""Hugging Face ``transformers`` sequence classifiers: a model + tokenizer, a pipeline, or a folder on disk.

Nothing is downloaded: :meth:`HFTextClassifier.from_pretrained` loads with ``local_files_only=True``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from peephole.errors import InputError
from peephole.models.hf_problem import problem_output


class HFTextClassifier:
    """``list[str] -> (N, K)`` logits of an ``AutoModelForSequenceClassification``-style model (sigmoid
    probabilities for a multi-label model, scores for a regression head: ``config.problem_type``,
    :mod:`peephole.models.hf_problem`).

    Texts longer than the model's maximum length (:func:`token_limit`) are cut there, with one warning per adapter:
    words past it are not read, so they get no importance. Class names come from ``config.id2label``.
    """

    modality = "text"  #: the input kind: ``peephole.explain(model, text)`` needs no ``modality=``

    def __init__(
        self, model: Any, tokenizer: Any, max_length: int | None = None, batch_size: int = 32, device: Any = None
    ) -> None:
        import torch

        from peephole.models.torch import module_device

        labels = [str(v).lower() for v in (getattr(model.config, "id2label", None) or {}).values()]
        if any(label.startswith("entail") for label in labels):
            raise InputError(
                f"{type(model).__name__} is a natural-language-inference model (labels {labels}): it reads a premise and "
                "a hypothesis, not one text; for zero-shot classification give queries: "
                "peephole.models.text.zero_shot.HFZeroShotTextClassifier(model, tokenizer, queries=[...]), "
                "load_text_model(folder, queries=[...]) or --query on the command line"
            )
        self.torch = torch
        self.model = model
        self.output, self.sigmoid = problem_output(model.config)
        self.tokenizer = tokenizer
        self.device = module_device(model, device)
        self.max_length = max_length or token_limit(tokenizer, model.config)
        self.cut = CutWarning(self.max_length)
        self.preferred_batch_size = batch_size
        id2label = getattr(model.config, "id2label", None) or {}
        n = int(getattr(model.config, "num_labels", len(id2label)))
        self.class_names = [str(id2label.get(i, f"LABEL_{i}")) for i in range(n)]

    @classmethod
    def from_pretrained(cls, path: str | Path, **kwargs: Any) -> HFTextClassifier:
        """Load a model folder saved with ``save_pretrained`` (model and tokenizer), offline."""
        return cls(*load_sequence_classifier(path), **kwargs)

    @classmethod
    def from_pipeline(cls, pipe: Any, **kwargs: Any) -> HFTextClassifier:
        """Use the model and tokenizer of a ``transformers.pipeline('text-classification', ...)``."""
        if getattr(pipe, "model", None) is None or getattr(pipe, "tokenizer", None) is None:
            raise InputError("the pipeline has no model or tokenizer")
        return cls(pipe.model, pipe.tokenizer, **kwargs)

    def use_device(self, device: Any) -> None:
        """Send inputs to ``device``: the model's own (checked: it is never moved)."""
        from peephole.models.torch import module_device

        self.device = module_device(self.model, device)

    def __call__(self, batch: Sequence[str]) -> np.ndarray:
        from peephole.models.torch import evaluating

        enc = self.tokenizer(list(batch), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
        self.cut.check(self.tokenizer, list(batch), enc["input_ids"].shape[1])
        enc = {k: v.to(self.device) for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
        with self.torch.inference_mode(), evaluating(self.model):
            logits = self.model(**enc).logits.detach().float()
            return (logits.sigmoid() if self.sigmoid else logits).cpu().numpy()


def token_limit(tokenizer: Any, config: Any) -> int:
    """The most tokens the model reads: its tokenizer's ``model_max_length`` (unless unset: 512), at most its
    position embeddings (a RoBERTa-style model's less its ``pad_token_id + 1`` offset); a tokenizer saved without a
    limit gave a 64-position model 202 tokens and torch's "expanded size" error."""
    limit = getattr(tokenizer, "model_max_length", None)
    limit = int(limit) if isinstance(limit, int) and 0 < limit < 100_000 else 512
    positions = getattr(config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        offset = (getattr(config, "pad_token_id", 0) or 0) + 1 if "roberta" in str(getattr(config, "model_type", "")) else 0
        limit = min(limit, max(1, positions - offset))
    return limit


class CutWarning:
    """One warning per adapter when a text is longer than the ``limit`` of tokens the model reads."""

    def __init__(self, limit: int) -> None:
        self.limit, self.warned = limit, False

    def check(self, tokenizer: Any, texts: Sequence[str], width: int, pairs: Sequence[str] | None = None) -> None:
        """Warn (once) if a text of ``texts`` (each beside its of ``pairs``, an NLI model's hypotheses) is past the
        limit; ``width``: the batch's tokens as encoded (below the limit nothing was cut, and nothing is counted)."""
        if self.warned or not texts or width < self.limit:
            return
        second = None if pairs is None else list(pairs)
        longest = max(len(ids) for ids in tokenizer(list(texts), second, truncation=False)["input_ids"])
        if longest > self.limit:
            self.warned = True
            warnings.warn(
                f"texts longer than {self.limit} tokens (this model's limit) are cut there: the words past it are not "
                f"read, so they get no importance (first seen: a text of {longest} tokens)",
                UserWarning,
                stacklevel=3,
            )


def load_sequence_classifier(path: str | Path) -> tuple[Any, Any]:
    """The sequence classifier and tokenizer saved in ``path`` (``save_pretrained``), loaded offline."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from peephole.models.hf_folder import pretrained

    p = Path(path)
    if not (p / "config.json").is_file():
        raise InputError(f"{path} is not a Hugging Face model folder (no config.json)")
    try:
        tok = AutoTokenizer.from_pretrained(p, local_files_only=True)
        model = pretrained(AutoModelForSequenceClassification, p)
    except InputError:  # pretrained's own, naming the folder already
        raise
    except Exception as exc:  # weights of another shape (RuntimeError), a config transformers cannot read (any type)
        raise InputError(f"cannot load a sequence classifier from {path}: {type(exc).__name__}: {exc}") from exc
    return model, tok
