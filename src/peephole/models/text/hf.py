"""Hugging Face ``transformers`` sequence classifiers: a model + tokenizer, a pipeline, or a folder on disk.

Nothing is downloaded: :meth:`HFTextClassifier.from_pretrained` loads with ``local_files_only=True``.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import warnings
from collections.abc import Iterator, Sequence
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
    words past it are not read, so they get no importance. Class names come from ``config.id2label``. A tokenizer
    without a padding token (GPT-2's, Llama's: a decoder classifier) pads with the config's ``pad_token_id``, else
    its end-of-text token (:func:`padding_token`; neither the tokenizer nor the config given is changed), else
    each text is run alone. A text the tokenizer reads as no token at all (every word hidden, for a tokenizer that
    adds no ``[CLS]``) is read as its start-of-text token (else its end-of-text one).
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
        self._lock = threading.Lock()
        self.pad_id = padding_token(tokenizer, model.config)
        if tokenizer.pad_token is None and self.pad_id is not None:
            tokenizer = copy.deepcopy(tokenizer)  # the caller's tokenizer keeps having no padding token
            tokenizer.pad_token = tokenizer.convert_ids_to_tokens(self.pad_id)
        self.tokenizer = tokenizer
        #: the token a text of no tokens is read as (GPT-2's "<|endoftext|>" starts its texts): no model reads nothing
        self.start_id = next((i for i in (tokenizer.bos_token_id, tokenizer.eos_token_id) if isinstance(i, int)), None)
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
        texts = list(batch)
        if self.pad_id is None and len(texts) > 1:  # nothing to pad with: a batch of one needs no padding
            return np.concatenate([self([t]) for t in texts])
        padding = self.pad_id is not None
        enc = self.tokenizer(texts, padding=padding, truncation=True, max_length=self.max_length, return_tensors="pt")
        self.cut.check(self.tokenizer, texts, enc["input_ids"].shape[1])
        enc = {k: v for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
        enc = {k: v.to(self.device) for k, v in self.started(enc).items()}
        with self._lock, self.torch.inference_mode(), running(self.model, self.pad_id):  # one call at a time: see running
            logits = self.model(**enc).logits.detach().float()
            return (logits.sigmoid() if self.sigmoid else logits).cpu().numpy()

    def started(self, enc: dict[str, Any]) -> dict[str, Any]:
        """``enc`` with each text of no tokens (every word hidden, for a tokenizer that adds no ``[CLS]``) given the
        start-of-text token, on the side its padding leaves free."""
        mask = enc["attention_mask"]
        empty = ~mask.bool().any(dim=1)
        if self.start_id is None or not bool(empty.any()):
            return enc
        if mask.shape[1] == 0:  # every text empty: one column, the other inputs (token types) 0
            enc = {k: self.torch.zeros((len(mask), 1), dtype=v.dtype) for k, v in enc.items()}
        at = -1 if getattr(self.tokenizer, "padding_side", "right") == "left" else 0
        enc["input_ids"][empty, at] = self.start_id
        enc["attention_mask"][empty, at] = 1
        return enc


def padding_token(tokenizer: Any, config: Any) -> int | None:
    """The id a batch of texts is padded with: the tokenizer's padding token, else the config's ``pad_token_id``, else
    the tokenizer's end-of-text token (as transformers' docs advise for GPT-2); None when there is none of them."""
    for candidate in (tokenizer.pad_token_id, getattr(config, "pad_token_id", None), tokenizer.eos_token_id):
        if isinstance(candidate, int) and 0 <= candidate < len(tokenizer):
            return candidate
    return None


@contextlib.contextmanager
def running(model: Any, pad_id: int | None) -> Iterator[None]:
    """``model`` in eval mode and, when its config has no ``pad_token_id``, given ``pad_id`` (a decoder classifier
    finds each text's last token by it, and refuses a batch of more than one without it), both restored after. The
    adapter holds its lock around it: a second thread would see the id set and the first unset it under its run."""
    from peephole.models.torch import evaluating

    config = model.config
    unset = getattr(config, "pad_token_id", None) is None and pad_id is not None
    if unset:
        config.pad_token_id = pad_id
    try:
        with evaluating(model):
            yield
    finally:
        if unset:
            config.pad_token_id = None


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
        tok = AutoTokenizer.from_pretrained(p, local_files_only=True, trust_remote_code=False)
        model = pretrained(AutoModelForSequenceClassification, p)
    except InputError:  # pretrained's own, naming the folder already
        raise
    except Exception as exc:  # weights of another shape (RuntimeError), a config transformers cannot read (any type)
        raise InputError(f"cannot load a sequence classifier from {path}: {type(exc).__name__}: {exc}") from exc
    return model, tok
