"""Preprocessing inside adapters: resize, normalise, reorder channels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: (x - mean) / std with x in [0, 1]. ``TFLITE`` is (255x - 127) / 128, EfficientNet-Lite's own.
IMAGENET_MEAN_STD = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
TFLITE_MEAN_STD = ((127 / 255,) * 3, (128 / 255,) * 3)
#: ITU-R BT.601 luma weights, as PIL's ``convert("L")``: an RGB image as a one-channel model's grey input
LUMA = (0.299, 0.587, 0.114)


@dataclass(frozen=True)
class ImagePreprocess:
    """Turns an N×H×W×3 [0, 1] batch into the model's input (float32)."""

    size: tuple[int, int] | None = None  #: (height, width) the model needs; None keeps the size
    mean: Sequence[float] = (0.0, 0.0, 0.0)
    std: Sequence[float] = (1.0, 1.0, 1.0)
    channels_first: bool = True  #: NCHW (torch, most ONNX) or NHWC
    grey: bool = False  #: a one-channel model: the image's luma (:data:`LUMA`), normalised by ``mean[0]``, ``std[0]``

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        x = self.resize(batch)
        if self.grey:
            x = (x @ np.asarray(LUMA, np.float32))[..., None]
        if self.normalises:
            x = (x - np.asarray(self.mean, np.float32)) / np.asarray(self.std, np.float32)
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2) if self.channels_first else x)

    def resize(self, batch: np.ndarray) -> np.ndarray:
        """The N×H×W×3 float32 batch at the model's size (no copy when it already is)."""
        x = np.asarray(batch, dtype=np.float32)
        if self.size is not None and x.shape[1:3] != tuple(self.size):
            import cv2

            h, w = self.size
            x = np.stack([cv2.resize(im, (w, h), interpolation=cv2.INTER_LINEAR) for im in x])
        return x

    @property
    def normalises(self) -> bool:
        """Whether ``(x − mean) / std`` changes anything."""
        return any(float(m) != 0.0 for m in self.mean) or any(float(s) != 1.0 for s in self.std)
