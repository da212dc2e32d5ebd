"""What every image method does first: resolve the model, the image, the targets and the batch size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from peephole.engine.query import Query
from peephole.explanation import Explanation
from peephole.image.io import load_image, to_rgb_float
from peephole.methods.setup_any import prepare_any
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

    def explanation(self, method: str, maps: np.ndarray, scores: np.ndarray, **fields: Any) -> Explanation:
        """The result of ``method``: its maps and per-query scores plus what this setup resolved."""
        return Explanation(
            maps=maps,
            targets=self.targets,
            probabilities=self.probabilities.astype(np.float32),
            scores=scores,
            n_queries=self.query.n_queries,
            input=self.image,
            method=method,
            class_names=list(self.model.class_names) if self.model.class_names else None,
            **fields,
        )


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
    auto = int(np.clip(AUTO_BATCH_BYTES // max(img.nbytes, 1), 1, 64))
    p = prepare_any(m, img[None], targets, top_k, batch_size, what="the unperturbed image", default_batch=auto)
    return Setup(m, p.query, img, p.probabilities, p.targets, p.batch_size)
