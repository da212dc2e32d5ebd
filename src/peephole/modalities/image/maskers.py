"""Image maskers: what replaces the pixels outside the kept part."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from peephole.engine.perturb import BaselineMasker
from peephole.errors import InputError
from peephole.modalities.image.io import to_rgb_float


class BlurMasker(BaselineMasker):
    """A heavily blurred copy of x (PAMI's default).

    The paper's "Gaussian 49×49, σ=100" is in effect a 49×49 mean filter. Borders are padded by
    reflection (OpenCV ``BORDER_REFLECT_101``), not with zeros, which would darken a frame.
    """

    def __init__(self, kernel: int = 49, sigma: float = 100.0) -> None:
        if kernel < 1 or kernel % 2 == 0:
            raise InputError(f"blur kernel must be a positive odd size, got {kernel}")
        self.kernel, self.sigma = kernel, sigma

    def baseline(self, x: np.ndarray) -> np.ndarray:
        import cv2

        return cv2.GaussianBlur(
            np.ascontiguousarray(x, dtype=np.float32),
            (self.kernel, self.kernel),
            self.sigma,
            borderType=cv2.BORDER_REFLECT_101,
        )


class ConstantMasker(BaselineMasker):
    """A constant colour: ``'black'``, ``'white'``, ``'mean'`` (the image's mean colour), ``'grey'``, or RGB values in [0, 1]."""

    NAMED = {"black": 0.0, "white": 1.0, "grey": 0.5, "gray": 0.5}

    def __init__(self, value: str | float | tuple[float, float, float] = "black") -> None:
        if isinstance(value, str) and value != "mean" and value not in self.NAMED:
            raise InputError(f"unknown colour {value!r}; use 'mean', {sorted(self.NAMED)} or RGB values")
        self.value = value

    def baseline(self, x: np.ndarray) -> np.ndarray:
        if self.value == "mean":
            return x.reshape(-1, x.shape[-1]).mean(axis=0)
        if isinstance(self.value, str):
            return np.full(x.shape[-1], self.NAMED[self.value], dtype=x.dtype)
        return np.asarray(self.value, dtype=x.dtype)


class FillMasker(BaselineMasker):
    """A user-given fill image of the same size as x (e.g. an inpainted or a reference image)."""

    def __init__(self, fill: np.ndarray) -> None:
        self.fill = to_rgb_float(fill, name="fill image")

    def baseline(self, x: np.ndarray) -> np.ndarray:
        if self.fill.shape != x.shape:
            raise InputError(f"fill image has shape {self.fill.shape}, the input {x.shape}")
        return self.fill


class FunctionMasker(BaselineMasker):
    """A user function ``x -> replacement image`` (same shape as x), computed once per input."""

    def __init__(self, fn: Callable[[np.ndarray], np.ndarray]) -> None:
        self.fn = fn

    def baseline(self, x: np.ndarray) -> np.ndarray:
        out = np.asarray(self.fn(x))
        if out.shape != x.shape:
            raise InputError(f"masking function returned shape {out.shape} for an input of {x.shape}")
        return out


#: Maskers by name (rules as data): name -> factory. A new masker is a class above and a row here.
MASKERS: dict[str, Callable[[], BaselineMasker]] = {
    "blur": BlurMasker,
    **{c: (lambda c=c: ConstantMasker(c)) for c in ("black", "white", "grey", "gray", "mean")},
}
