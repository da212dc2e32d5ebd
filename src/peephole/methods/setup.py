"""What every image method does first: resolve the model, the image, the targets and the batch size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from peephole.engine.query import Query
from peephole.errors import InputError
from peephole.image.io import load_image, to_rgb_float
from peephole.models.base import Model, as_model

#: Auto batch size: the model's preferred size, else as many inputs as fit in this many bytes (max 64).
AUTO_BATCH_BYTES = 256 * 2**20


@dataclass
class Setup:
    model: Model
    query: Query
    image: np.ndarray
    probabilities: np.ndarray
    targets: list[int]
    batch_size: int


def prepare(
    model: Any,
    image: Any,
    targets: int | Sequence[int] | None,
    top_k: int,
    batch_size: int | None,
    output: str | None = None,
) -> Setup:
    """Wrap the model, read the image, query f(x) once (1 query) and check the targets."""
    m = as_model(model, output=output)
    img = load_image(image) if isinstance(image, (str, Path)) else to_rgb_float(image)
    query = Query(m, m.output)
    probs = query(img[None], what="the unperturbed image")[0]
    n_classes = probs.shape[0]
    if targets is None:
        if top_k < 1:
            raise InputError(f"top_k must be >= 1, got {top_k}")
        tlist = [int(i) for i in np.argsort(-probs, kind="stable")[:top_k]]
    else:
        tlist = [int(targets)] if np.isscalar(targets) else [int(t) for t in targets]
        bad = [t for t in tlist if not 0 <= t < n_classes]
        if bad:
            raise InputError(f"target class {bad[0]} is out of range: the model has {n_classes} classes (0..{n_classes - 1})")
        if not tlist:
            raise InputError("targets is empty")
    if batch_size is None:
        batch_size = m.preferred_batch_size or int(np.clip(AUTO_BATCH_BYTES // max(img.nbytes, 1), 1, 64))
    elif batch_size < 1:
        raise InputError(f"batch_size must be >= 1, got {batch_size}")
    return Setup(m, query, img, probs, tlist, int(batch_size))
