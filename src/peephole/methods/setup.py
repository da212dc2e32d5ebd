"""What every image method does first: resolve the model, the image, the targets and the batch size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from peephole.image.io import load_image, to_rgb_float
from peephole.methods.setup_any import Prepared, prepare_any
from peephole.models.base import as_model

#: Auto batch size: the model's preferred size, else as many inputs as fit in this many bytes (max 64).
AUTO_BATCH_BYTES = 256 * 2**20


@dataclass
class Setup(Prepared):
    image: np.ndarray  #: the image as H×W×3 float32 in [0, 1]


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
    return Setup(**vars(p), image=img)
