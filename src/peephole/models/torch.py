"""Adapter for a torch ``nn.Module`` (eval mode, inference mode, chosen device, channels-last batches)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from peephole.core.query import OUTPUT_KINDS
from peephole.errors import InputError
from peephole.models.preprocess import ImagePreprocess


class TorchModel:
    """Calls ``module`` on preprocessed batches under ``torch.inference_mode()`` on ``device``.

    The batch is resized in NumPy (when needed), then normalised in torch on ``device``. A channels-first
    module gets it in channels-last memory layout — the same tensor values, stored N·H·W·C, which is the
    N×H×W×3 batch itself, permuted without a copy — and PyTorch's convolutions run that layout faster
    (EfficientNet-Lite0 on this 2-core CPU: 1.2–1.5× per forward pass, ``experiments/torch_layout.py``).
    The module's weights are not touched. The first batch runs both ways: if the channels-last call
    raises (e.g. a ``view`` that needs the default strides) or its output differs beyond 1e-4 (relative),
    the adapter keeps the default layout. ``channels_last=False`` never tries it.
    """

    modality = "image"  #: inputs are N×H×W×3 float32 RGB images in [0, 1]

    def __init__(
        self,
        module: Any,
        output: str,
        preprocess: ImagePreprocess | None = None,
        device: str = "cpu",
        class_names: Sequence[str] | None = None,
        batch_size: int | None = None,
        channels_last: bool = True,
    ) -> None:
        if output not in OUTPUT_KINDS:
            raise InputError(f"output must be one of {OUTPUT_KINDS}, got {output!r}")
        self.module = module.to(device).eval()
        self.output, self.device = output, device
        self.preprocess = preprocess or ImagePreprocess()
        self.class_names = list(class_names) if class_names is not None else None
        self.preferred_batch_size = batch_size
        self.channels_last: bool | None = None if channels_last else False  #: None: not checked yet

    def __call__(self, batch: Any) -> np.ndarray:
        import torch

        pre = self.preprocess
        x = torch.from_numpy(pre.resize(batch)).to(self.device)
        if pre.channels_first:
            x = x.permute(0, 3, 1, 2)  # channels-last strides
        if pre.normalises:
            x = (x - self._constant(pre.mean, pre.channels_first)) / self._constant(pre.std, pre.channels_first)
        with torch.inference_mode():
            if not pre.channels_first or self.channels_last is False:
                return self.module(x.contiguous()).float().cpu().numpy()
            if self.channels_last:
                return self.module(x.contiguous(memory_format=torch.channels_last)).float().cpu().numpy()
            out = self.module(x.contiguous()).float().cpu().numpy()
            self.channels_last = self._same(out, x.contiguous(memory_format=torch.channels_last))
            return out

    def _constant(self, values: Sequence[float], channels_first: bool) -> Any:
        """Per-channel mean or std as a tensor on the device, broadcasting over the batch's layout."""
        import torch

        shape = (1, -1, 1, 1) if channels_first else (1, 1, 1, -1)
        return torch.tensor(values, dtype=torch.float32, device=self.device).view(shape)

    def _same(self, out: np.ndarray, fast: Any) -> bool:
        """Whether the module gives the same output on the channels-last copy of the batch."""
        try:
            alt = self.module(fast).float().cpu().numpy()
        except Exception:  # noqa: BLE001 - any failure means: keep the default layout
            return False
        scale = float(np.abs(out).max()) if out.size else 0.0
        return alt.shape == out.shape and bool(np.allclose(alt, out, rtol=1e-4, atol=1e-4 * max(scale, 1.0)))
