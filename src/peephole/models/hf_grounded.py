"""Text-prompted (open-vocabulary) transformers detectors — OWL-ViT, OWLv2 (Minderer et al., ECCV 2022 / NeurIPS
2023), Grounding DINO and MM Grounding DINO (Liu et al., ECCV 2024) — as a :class:`~peephole.models.detection.Detector`
whose classes are the user's text queries.

Every proposal of the model (OWL: one per image patch; Grounding DINO: one per decoder query) is a detection of a
perturbed image: its label is the query it matches best and its score that query's sigmoid, as the processors'
``post_process_grounded_object_detection`` read them (checked equal in the tests). OWL scores each query itself;
Grounding DINO scores the tokens of one caption (the queries joined as ``"a cat. a dog."``, as its processor joins
them), a query taking the highest score over its own tokens. OWL's query embeddings are kept from the first batch,
whose whole-model outputs check the heads run on the image tower alone
(:class:`~peephole.models.hf_zero_shot.Shortcut`): later batches skip the text tower, which with many queries costs
more than the image. The reference boxes score at least ``threshold`` on the unperturbed image (0.1, the
``zero-shot-object-detection`` pipeline's default). Inputs get the image processor's size and normalisation
(:func:`peephole.models.hf_image.preprocess_of`); OWLv2 first pads the image to a square at the bottom and right with
black, as its processor does. Boxes come back in the explained image's pixels.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from peephole.errors import InputError
from peephole.models.detection import Detector
from peephole.models.hf_image import preprocess_of
from peephole.models.hf_zero_shot import Shortcut, checked_labels

#: config.model_type -> how the model reads its text: one row of tokens per query, or one caption
TEXT_LAYOUTS = {"owlvit": "per_query", "owlv2": "per_query", "grounding-dino": "caption", "mm-grounding-dino": "caption"}
#: the score a reference box needs unless the task sets one (the zero-shot-object-detection pipeline's default)
THRESHOLD = 0.1


def is_grounded(obj: Any) -> bool:
    """A transformers detection model that takes text (``...ForObjectDetection`` whose ``forward`` reads ``input_ids``)."""
    forward = getattr(obj, "forward", None)
    if "ForObjectDetection" not in type(obj).__name__ or not callable(forward):
        return False
    try:
        return "input_ids" in inspect.signature(forward).parameters
    except (TypeError, ValueError):
        return False


def checked_queries(queries: Any, layout: str) -> list[str]:
    """The queries as a list of distinct, non-empty strings; a Grounding DINO query may not hold the caption's '.'."""
    clean = checked_labels(queries)
    if layout == "caption" and any("." in q for q in clean):
        raise InputError(f"Grounding DINO's caption separates queries with '.': a query may not contain one, got {queries!r}")
    return clean


def grounded_detector(model: Any, processor: Any, queries: Any, threshold: float = THRESHOLD) -> Detector:
    """``model`` (a text-prompted transformers detector) with ``processor`` (its processor, or any object with its
    ``tokenizer`` and ``image_processor``) as a :class:`Detector` finding ``queries``."""
    import torch

    from peephole.models.torch import evaluating, module_device, module_dtype

    kind = type(model).__name__
    layout = TEXT_LAYOUTS.get(getattr(getattr(model, "config", None), "model_type", None))
    if layout is None:
        raise InputError(f"{kind} reads text in a way Peephole does not know: wrap it as a callable Detector")
    if queries is None:
        raise InputError(
            f"{kind} finds what text queries name: pass peephole.models.hf_detection.hf_detector(model, processor, "
            "queries=['a cat', ...])"
        )
    queries = checked_queries(queries, layout)
    tokenizer, images = getattr(processor, "tokenizer", None), getattr(processor, "image_processor", None)
    if tokenizer is None or images is None:
        raise InputError(
            f"{kind} needs its processor (its tokenizer and image processor): pass hf_detector(model, processor, queries=...)"
        )
    text, spans = tokens(tokenizer, queries, layout, model.config)
    pre, device = preprocess_of(model.config, images), module_device(model)
    square = type(images).__name__.startswith("Owlv2") and getattr(images, "do_pad", True)
    text = {k: v.to(device) for k, v in text.items()}
    kept: dict[str, Any] = {}

    def whole(pixels: Any) -> tuple[Any, Any]:
        out = model(pixel_values=pixels, **{k: v.repeat(len(pixels), 1) for k, v in text.items()})
        if spans is None:  # OWL: its query embeddings, the same for every image
            kept["queries"] = out.text_embeds[:1]
        return out.logits, out.pred_boxes

    def image_only(pixels: Any) -> tuple[Any, Any]:
        """OWL's heads on the image tower's patches and the kept query embeddings (its forward, less the text tower)."""
        feature_map = model.image_embedder(pixel_values=pixels)[0]
        n, h, w, d = feature_map.shape
        feats = feature_map.reshape(n, h * w, d)
        mask = (text["input_ids"][:, 0] > 0)[None].expand(n, -1)  # as its forward: a padded query starts with 0
        logits = model.class_predictor(feats, kept["queries"].expand(n, -1, -1), mask)[0]
        return logits, model.box_predictor(feats, feature_map)

    outputs = Shortcut(whole, image_only, usable=spans is None)

    def detect(batch: np.ndarray) -> list[dict[str, np.ndarray]]:
        b = np.asarray(batch, np.float32)
        h, w = b.shape[1:3]
        x = padded_square(b) if square else b
        with torch.inference_mode(), evaluating(model):
            logits, pred_boxes = outputs(torch.from_numpy(pre(x)).to(device, module_dtype(model)))
        scores = torch.sigmoid(logits.float())
        if spans is not None:  # caption tokens -> each query's best token
            scores = torch.stack([scores[..., a:z].amax(-1) for a, z in spans], dim=-1)
        best, label = scores.max(-1)
        cx, cy, bw, bh = pred_boxes.float().unbind(-1)
        scale = torch.tensor([max(h, w)] * 4 if square else [w, h, w, h], dtype=torch.float32, device=cx.device)
        boxes = torch.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], dim=-1) * scale
        return [
            {"boxes": boxes[i].cpu().numpy(), "scores": best[i].cpu().numpy(), "labels": label[i].cpu().numpy()}
            for i in range(len(b))
        ]

    return Detector(detect, queries, name=kind, reference_threshold=threshold)


def tokens(tokenizer: Any, queries: list[str], layout: str, config: Any) -> tuple[dict[str, Any], list[tuple[int, int]] | None]:
    """The text inputs for one image (rows to repeat per image) and, for a caption, each query's token span."""
    if layout == "per_query":
        enc = tokenizer(queries, padding=True, return_tensors="pt")
        return {k: enc[k] for k in ("input_ids", "attention_mask") if k in enc}, None
    caption = ". ".join(q.lower() for q in queries) + "."  # as GroundingDinoProcessor joins candidate labels
    try:
        enc = tokenizer(caption, return_offsets_mapping=True, return_tensors="pt")
    except NotImplementedError as exc:
        raise InputError("Grounding DINO's queries need a fast tokenizer (its token offsets find each query)") from exc
    limit = getattr(config, "max_text_len", None)
    if limit is not None and enc["input_ids"].shape[1] > limit:
        raise InputError(
            f"the queries make a caption of {enc['input_ids'].shape[1]} tokens; {type(config).__name__} reads at most {limit}"
        )
    offsets, spans, start = enc.pop("offset_mapping")[0].tolist(), [], 0
    for q in queries:
        a = caption.index(q.lower(), start)
        start = a + len(q)
        hit = [i for i, (s, e) in enumerate(offsets) if e > s and s >= a and e <= start]
        if not hit:
            raise InputError(f"the tokenizer gives the query {q!r} no token of its own")
        spans.append((hit[0], hit[-1] + 1))
    return {k: enc[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc}, spans


def padded_square(batch: np.ndarray) -> np.ndarray:
    """The B×H×W×3 batch padded with black at the bottom and right to B×S×S×3, S = max(H, W) (OWLv2's processor)."""
    s = max(batch.shape[1:3])
    out = np.zeros((len(batch), s, s, batch.shape[3]), np.float32)
    out[:, : batch.shape[1], : batch.shape[2]] = batch
    return out
