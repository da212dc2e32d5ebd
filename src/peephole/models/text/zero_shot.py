"""Zero-shot text classification with a natural-language-inference model (Yin et al., EMNLP 2019), as transformers'
``zero-shot-classification`` pipeline does it: each query (a candidate label) becomes the hypothesis
``template.format(query)`` ("This example is {}.", the pipeline's default), the text its premise, and the model's
*entailment* logit says how well the label fits.

One query or ``multi_label=True``: each query's own probability, the softmax of its contradiction and entailment
logits (the queries do not compete; one query is explained as ``["not q", "q"]``); else the entailment logits of all
queries, softmaxed against each other (Peephole's ``output='logits'``). Each text of a batch costs one model pass per
query, run in chunks of ``batch_size`` pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from peephole.errors import InputError
from peephole.models.hf_zero_shot import checked_labels, prompts
from peephole.models.text.hf import CutWarning, token_limit

#: the zero-shot-classification pipeline's hypothesis
TEMPLATE = "This example is {}."


def is_zero_shot_text_pipeline(obj: Any) -> bool:
    return getattr(obj, "task", None) == "zero-shot-classification" and hasattr(obj, "model")


class HFZeroShotTextClassifier:
    """``list[str] -> (N, K)`` scores of an NLI model for ``queries`` (see the module's doc): ``model`` with its
    ``tokenizer``, or a ``zero-shot-classification`` pipeline."""

    modality = "text"

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        queries: Sequence[str] | None = None,
        template: str = TEMPLATE,
        multi_label: bool = False,
        batch_size: int = 32,
        device: Any = None,
    ) -> None:
        import torch

        from peephole.models.torch import module_device

        if is_zero_shot_text_pipeline(model):
            tokenizer, model = tokenizer if tokenizer is not None else model.tokenizer, model.model
        kind = type(model).__name__
        if queries is None:
            raise InputError(
                f"a zero-shot {kind} tells apart what text queries name: pass peephole.models.text.zero_shot."
                "HFZeroShotTextClassifier(model, tokenizer, queries=['sports', 'politics'])"
            )
        if tokenizer is None:
            raise InputError(f"a {kind} needs its tokenizer: pass HFZeroShotTextClassifier(model, tokenizer, queries=...)")
        if not isinstance(multi_label, bool):
            raise InputError(f"multi_label must be True or False, got {multi_label!r}")
        labels = {str(v).lower(): int(k) for k, v in (getattr(model.config, "id2label", None) or {}).items()}
        entail = next((i for name, i in labels.items() if name.startswith("entail")), None)
        if entail is None:
            raise InputError(
                f"{kind} names no 'entailment' label in config.id2label ({sorted(labels)}): zero-shot classification "
                "needs a natural-language-inference model"
            )
        self.queries = checked_labels(queries, 1)  # one query is scored on its own, as the pipeline does
        self.independent = multi_label or len(self.queries) == 1  # as the pipeline: one label is scored on its own
        self.hypotheses = prompts(template, self.queries)
        self.entail, self.contra = entail, (len(labels) - 1 if entail == 0 else 0)  # the pipeline's contradiction id
        self.output = "probs" if self.independent else "logits"
        q = self.queries
        self.class_names = [f"not {q[0]}", q[0]] if len(q) == 1 else list(q)
        self.model, self.tokenizer, self.torch = model, tokenizer, torch
        self.device = module_device(model, device)
        self.max_length = token_limit(tokenizer, model.config)
        self.cut = CutWarning(self.max_length)  # a premise cut at the limit (beside its hypothesis) warns once
        self.preferred_batch_size = batch_size

    def use_device(self, device: Any) -> None:
        """Send inputs to ``device``: the model's own (checked: it is never moved)."""
        from peephole.models.torch import module_device

        self.device = module_device(self.model, device)

    def __call__(self, batch: Sequence[str]) -> np.ndarray:
        from peephole.models.torch import evaluating

        if not len(batch):
            return np.zeros((0, len(self.hypotheses)))
        pairs = [(text, h) for text in batch for h in self.hypotheses]
        logits = []
        with self.torch.inference_mode(), evaluating(self.model):
            for i in range(0, len(pairs), self.preferred_batch_size):
                chunk = pairs[i : i + self.preferred_batch_size]
                texts, hypotheses = [p for p, _ in chunk], [h for _, h in chunk]
                enc = self.tokenizer(texts, hypotheses, padding=True, truncation="only_first", max_length=self.max_length,
                                     return_tensors="pt")  # fmt: skip
                self.cut.check(self.tokenizer, texts, enc["input_ids"].shape[1], hypotheses)
                enc = {k: v.to(self.device) for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
                logits.append(self.model(**enc).logits.detach().float().cpu().numpy())
        out = np.concatenate(logits).reshape(len(batch), len(self.hypotheses), -1)
        if not self.independent:
            return out[..., self.entail]
        pair = out[..., [self.contra, self.entail]]
        pair = np.exp(pair - pair.max(axis=-1, keepdims=True))
        return pair[..., 1] / pair.sum(axis=-1)
