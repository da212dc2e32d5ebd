"""Preprocessing inside adapters: resize, normalise, reorder channels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from peephole.errors import InputError

#: (x - mean) / std with x in [0, 1]. ``TFLITE`` is (255x - 127) / 128, EfficientNet-Lite's own.
IMAGENET_MEAN_STD = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
TFLITE_MEAN_STD = ((127 / 255,) * 3, (128 / 255,) * 3)
#: ITU-R BT.601 luma weights, as PIL's ``convert("L")``: an RGB image as a one-channel model's grey input
LUMA = (0.299, 0.587, 0.114)
#: The largest input size a model may ask for (height × width): a batch of 16 at 4096×4096 is already 3.2 GB of float32
MAX_INPUT_PIXELS = 4096 * 4096


@dataclass(frozen=True)
class ImagePreprocess:
    """Turns an N×H×W×3 [0, 1] batch into the model's input (float32). A ``size`` that is not two whole numbers of 1
    to :data:`MAX_INPUT_PIXELS` pixels in all (a model file's 0×0, −5×32 or 100,000×100,000), or a ``mean`` / ``std``
    that is not one or three finite numbers (``std`` without a 0), is an :class:`InputError` here, not a resize that
    fails or asks for 120 GB, or NaN scores, on the first batch."""

    size: tuple[int, int] | None = None  #: (height, width) the model needs; None keeps the size
    mean: Sequence[float] = (0.0, 0.0, 0.0)
    std: Sequence[float] = (1.0, 1.0, 1.0)
    channels_first: bool = True  #: NCHW (torch, most ONNX) or NHWC
    grey: bool = False  #: a one-channel model: the image's luma (:data:`LUMA`), normalised by ``mean[0]``, ``std[0]``

    def __post_init__(self) -> None:
        for name in ("mean", "std"):
            values = np.asarray(getattr(self, name), dtype=float).ravel()
            if values.size not in (1, 3) or not np.isfinite(values).all() or (name == "std" and (values == 0).any()):
                raise InputError(
                    f"the model's normalisation {name} is {[float(v) for v in values]}: one or three finite numbers"
                    + (", none of them 0" if name == "std" else "")
                )
        if self.size is None:
            return
        sides = tuple(self.size)
        whole = len(sides) == 2 and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in sides)
        if not whole or min(sides) < 1 or sides[0] * sides[1] > MAX_INPUT_PIXELS:
            shown = "×".join(map(str, sides))
            raise InputError(f"the model's input size is {shown}; Peephole resizes to 1 to {MAX_INPUT_PIXELS:,} pixels")
        object.__setattr__(self, "size", (int(sides[0]), int(sides[1])))

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
