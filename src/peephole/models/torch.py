"""Adapter for a torch ``nn.Module`` (eval mode, no_grad, chosen device)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from peephole.engine.query import OUTPUT_KINDS
from peephole.errors import InputError
from peephole.models.preprocess import ImagePreprocess


class TorchModel:
    """Calls ``module`` on preprocessed batches under ``torch.no_grad()`` on ``device``."""

    modality = "image"  #: inputs are N×H×W×3 float32 RGB images in [0, 1]

    def __init__(
        self,
        module: Any,
        output: str,
        preprocess: ImagePreprocess | None = None,
        device: str = "cpu",
        class_names: Sequence[str] | None = None,
        batch_size: int | None = None,
    ) -> None:
        if output not in OUTPUT_KINDS:
            raise InputError(f"output must be one of {OUTPUT_KINDS}, got {output!r}")
        self.module = module.to(device).eval()
        self.output, self.device = output, device
        self.preprocess = preprocess or ImagePreprocess()
        self.class_names = list(class_names) if class_names is not None else None
        self.preferred_batch_size = batch_size

    def __call__(self, batch: Any) -> np.ndarray:
        import torch

        x = torch.from_numpy(self.preprocess(batch)).to(self.device)
        with torch.no_grad():
            return self.module(x).float().cpu().numpy()
