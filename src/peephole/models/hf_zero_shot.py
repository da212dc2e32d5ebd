"""Zero-shot image classifiers — CLIP (Radford et al., ICML 2021), SigLIP, and the other transformers image–text models
with a ``logits_per_image`` — or a ``zero-shot-image-classification`` pipeline, over the user's text queries (the
candidate labels) as classes.

Each query becomes the prompt ``template.format(query)`` ("This is a photo of {}.", the pipeline's default) and the
scores are the model's ``logits_per_image``: a softmax over the queries, as the pipeline reads them, or for SigLIP
each query's own sigmoid (its pairwise loss: the queries do not compete). The prompts are encoded once: each batch
then runs the image tower only, the logits computed from the kept text embeddings with the model's own
``logit_scale`` (and ``logit_bias``) — checked equal to the whole model's output on the first batch; a model whose
logits are made otherwise runs whole on every batch. Inputs get the image processor's size and normalisation
(:func:`peephole.models.hf_image.preprocess_of`: the whole image, resized).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from peephole.errors import InputError
from peephole.models.hf_image import preprocess_of
from peephole.models.torch import TorchModel

#: the zero-shot-image-classification pipeline's prompt
TEMPLATE = "This is a photo of {}."


def is_zero_shot_model(obj: Any) -> bool:
    """A transformers image–text model (``get_image_features`` and ``get_text_features``) or its
    ``zero-shot-image-classification`` pipeline."""
    if getattr(obj, "task", None) == "zero-shot-image-classification" and hasattr(obj, "model"):
        return True
    return type(obj).__module__.split(".")[0] == "transformers" and all(
        callable(getattr(obj, a, None)) for a in ("get_image_features", "get_text_features", "forward")
    )


def zero_shot_head(model: Any, text: dict[str, Any]) -> Any:
    """The module computing ``model``'s ``logits_per_image`` for ``text`` (tokenised prompts) from pixels alone."""
    import torch

    from peephole.models.torch import evaluating, module_device

    class Head(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model
            self.text = {k: v.to(module_device(model)) for k, v in text.items()}
            with torch.no_grad(), evaluating(model):  # not inference_mode: gradient methods backpropagate past them
                self.register_buffer("embeds", unit(pooled(model.get_text_features(**self.text))), persistent=False)
            self.route = Shortcut(self.whole, self.from_embeds, usable=hasattr(model, "logit_scale"))

        def forward(self, pixel_values: Any) -> Any:
            return self.route(pixel_values)

        def from_embeds(self, pixel_values: Any) -> Any:
            image = unit(pooled(self.model.get_image_features(pixel_values=pixel_values)))
            logits = image @ self.embeds.t().to(image.dtype) * self.model.logit_scale.exp()
            bias = getattr(self.model, "logit_bias", None)
            return logits if bias is None else logits + bias

        def whole(self, pixel_values: Any) -> Any:
            n = len(pixel_values)
            return self.model(pixel_values=pixel_values, **self.text).logits_per_image.reshape(n, -1)

    return Head()


class Shortcut:
    """A cheaper way to a model's outputs (text embeddings kept from an earlier call), trusted once its outputs equal
    the whole model's on the first batch (``rtol``/``atol`` 1e-4); then used for every later batch. A shortcut that
    fails or differs there — a model making its outputs otherwise — leaves the whole model to run on every batch.
    ``whole`` and ``quick`` take the same arguments and return a tensor or a tuple of tensors."""

    def __init__(self, whole: Any, quick: Any, usable: bool = True) -> None:
        self.whole, self.quick = whole, quick
        #: None until the first batch compared the two; False: the whole model every time
        self.trusted: bool | None = None if usable else False

    def __call__(self, *args: Any) -> Any:
        if self.trusted is not None:
            return self.quick(*args) if self.trusted else self.whole(*args)
        want = self.whole(*args)
        try:
            got = self.quick(*args)
        except (AttributeError, RuntimeError, TypeError, ValueError):  # features of another kind
            self.trusted = False
            return want
        self.trusted = same(got, want)
        return got if self.trusted else want


def same(a: Any, b: Any) -> bool:
    """Tensors (or equal-length tuples of them) of one shape and within 1e-4 of each other."""
    import torch

    pairs = list(zip(a, b)) if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b) else [(a, b)]
    return all(
        isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor) and x.shape == y.shape
        and bool(torch.allclose(x.float(), y.float(), rtol=1e-4, atol=1e-4))
        for x, y in pairs
    )  # fmt: skip


def pooled(out: Any) -> Any:
    """The projected embedding in what ``get_*_features`` returns (a tensor, or an output with ``pooler_output``)."""
    return getattr(out, "pooler_output", out)


def unit(x: Any) -> Any:
    return x / x.norm(p=2, dim=-1, keepdim=True)


class HFZeroShotClassifier(TorchModel):
    """``N×H×W×3`` [0, 1] batches -> ``(N, K)`` scores of a transformers image–text model for ``queries`` (see the
    module's doc); ``processor``: its processor, or any object with its ``tokenizer`` and ``image_processor``."""

    modality = "image"

    def __init__(
        self,
        model: Any,
        processor: Any = None,
        queries: Sequence[str] | None = None,
        template: str = TEMPLATE,
        device: Any = None,
        batch_size: int | None = None,
    ) -> None:
        if getattr(model, "task", None) == "zero-shot-image-classification":
            processor, model = processor if processor is not None else model, model.model
        kind = type(model).__name__
        if queries is None:
            raise InputError(
                f"a {kind} tells apart what text queries name: pass peephole.models.hf_zero_shot.HFZeroShotClassifier("
                "model, processor, queries=['a cat', 'a dog'])"
            )
        model_type = str(getattr(getattr(model, "config", None), "model_type", ""))
        queries = checked_labels(queries, 1 if "siglip" in model_type else 2)
        tokenizer, images = getattr(processor, "tokenizer", None), getattr(processor, "image_processor", None)
        if tokenizer is None or images is None:
            raise InputError(f"a {kind} needs its processor (its tokenizer and image processor): pass it as processor=")
        pad = {"padding": "max_length", "max_length": 64, "truncation": True} if "siglip" in model_type else {"padding": True}
        text = dict(tokenizer(prompts(template, queries), return_tensors="pt", **pad))
        head = zero_shot_head(model, {k: v for k, v in text.items() if k in ("input_ids", "attention_mask")})
        output = "probs" if "siglip" in model_type else "logits"
        names = [f"not {queries[0]}", queries[0]] if len(queries) == 1 else queries  # one probability: [1 - p, p]
        super().__init__(head, output, preprocess_of(model.config, images), device, names, batch_size)
        self.sigmoid = output == "probs"
        self.processor = processor

    def scores_of(self, out: Any) -> Any:
        """The logits (SigLIP's as each query's sigmoid)."""
        return out.sigmoid() if self.sigmoid else out


def prompts(template: Any, queries: Sequence[str]) -> list[str]:
    """``template.format(query)`` for each query; one InputError unless ``template`` is a string with one ``{}``."""
    if not isinstance(template, str) or template.count("{}") != 1:
        raise InputError(f"template must be a string with one '{{}}' where each query goes, got {template!r}")
    try:
        return [template.format(q) for q in queries]
    except (IndexError, KeyError, ValueError) as exc:
        raise InputError(f"template {template!r} is no format string with one '{{}}' ({exc}); write braces as '{{{{'") from exc


def checked_labels(queries: Any, least: int = 1) -> list[str]:
    """The queries (one string: one query) as a list of at least ``least`` distinct, non-empty strings, stripped; one
    InputError naming what is wrong. Shared by every text-prompted adapter."""
    if isinstance(queries, str):
        queries = [queries]
    if not isinstance(queries, Sequence) or not queries or not all(isinstance(q, str) and q.strip() for q in queries):
        raise InputError(f"queries must be a non-empty list of non-empty strings (e.g. ['a cat']), got {queries!r}")
    clean = [q.strip() for q in queries]
    if len(clean) < least:
        raise InputError(f"a softmax over the queries needs at least {least} to tell apart (over one it is 1), got {queries!r}")
    if len(set(clean)) != len(clean):
        raise InputError(f"queries must be distinct (each is a class of its own), got {queries!r}")
    return clean
