"""PAMI for image captioning (the paper's ClipCap application): one importance map per caption word.

Each perturbed image (one part kept, the rest masked) is queried once for the probabilities of
all caption tokens; Eq. 1 over those outputs gives every word's map from the same queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from time import perf_counter
from typing import Any

import numpy as np

from peephole.caption.adapter import CaptionModel, TokenProbFn
from peephole.engine.partition import Partition
from peephole.engine.perturb import Masker
from peephole.engine.run import run
from peephole.errors import InputError
from peephole.explanation import Explanation
from peephole.image.io import load_image, to_rgb_float
from peephole.image.superpixels import PAPER_SEGMENTATIONS, Segmentation
from peephole.methods.pami import make_masker, make_partition
from peephole.methods.setup_any import prepare_any
from peephole.text.tokenize import words


def pami_caption(
    captioner: TokenProbFn | CaptionModel,
    image: Any,
    caption: str | Sequence[str] | None = None,
    partition: str | Partition | np.ndarray | Sequence[np.ndarray] = "superpixels",
    masker: str | Masker = "blur",
    batch_size: int | None = None,
    seed: int = 0,
    progress: bool = False,
    radius: int = 40,
    stride: int = 6,
    window: str = "circle",
    segmentations: Sequence[Segmentation] = PAPER_SEGMENTATIONS,
) -> Explanation:
    """Maps ``(T, H, W)``, one per token of ``caption``; ``class_names`` are the tokens, ``input`` the image.

    ``captioner`` is ``fn(images, tokens) -> (B, T)`` token probabilities (see
    :class:`~peephole.caption.CaptionModel`) or a ``CaptionModel``. ``probabilities`` holds the
    token probabilities on the unperturbed image.
    """
    import cv2

    t0 = perf_counter()
    if isinstance(captioner, CaptionModel):
        model = captioner
        if caption is not None and words(caption) != model.tokens:
            raise InputError(f"caption {caption!r} differs from the CaptionModel's {' '.join(model.tokens)!r}")
    elif caption is None:
        raise InputError("pami_caption needs the caption to explain (caption='a dog on a sofa')")
    else:
        model = CaptionModel(captioner, caption)
    img = load_image(image) if isinstance(image, (str, Path)) else to_rgb_float(image)
    n_tok = len(model.tokens)
    s = prepare_any(model, img[None], list(range(n_tok)), 1, batch_size, what="the unperturbed image", default_batch=32)
    cv2.setRNGSeed(seed)
    part = make_partition(img, partition, radius, stride, window, segmentations)
    res = run(s.query, img, part, make_masker(masker), s.targets, s.batch_size, progress, desc="PAMI caption")
    return s.explanation(
        Explanation,
        "pami-caption",
        img,
        res.maps,
        res.scores,
        first_run_maps=res.maps,
        timings={**res.timings, "total": perf_counter() - t0},
        partition=part,
        params={
            "caption": " ".join(model.tokens),
            "partition": partition if isinstance(partition, str) else type(part).__name__,
            "masker": masker if isinstance(masker, str) else type(masker).__name__,
            "batch_size": s.batch_size,
            "n_parts": part.n_parts,
            "seed": seed,
        },
    )
