"""Image maskers: what replaces the pixels outside the kept part."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from peephole.core.perturb import Arrays, BaselineMasker, BoundMasker, Masker, SoftMasker
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


class FeatheredMasker(Masker):
    """Soft mask edges (arXiv 2409.04116): each keep-mask is smoothed by a Gaussian of ``sigma`` pixels
    before mixing, ``x_j = m̃_j·x + (1 − m̃_j)·b(x)``, ``m̃_j = G_σ * m_j`` (edges replicated), so a hidden
    region fades into the kept one instead of meeting it at a hard edge. ``base`` is the replacement
    ``b`` (a name of :data:`MASKERS` or a :class:`BaselineMasker`). The methods still aggregate with
    the hard masks; docs/results.md measures what this does to LIME over PAMI's parts (it did not help)."""

    def __init__(self, base: str | BaselineMasker = "blur", sigma: float = 3.0) -> None:
        if isinstance(base, str) and base not in MASKERS:
            raise InputError(f"unknown masker {base!r}; use one of {sorted(MASKERS)} or a BaselineMasker")
        if not isinstance(base, (str, BaselineMasker)):
            raise InputError(f"a feathered masker needs a baseline masker, got {type(base).__name__}")
        if not sigma > 0:
            raise InputError(f"sigma must be > 0 pixels, got {sigma}")
        self.base = MASKERS[base]() if isinstance(base, str) else base
        self.sigma = float(sigma)

    def bind(self, x: np.ndarray) -> BoundMasker:
        return self.bind_to(x)

    def bind_to(self, x: np.ndarray, arrays: Arrays | None = None) -> BoundMasker:
        """The smoothed masks made on the host (OpenCV), mixed where the model is (``arrays``; None: the host)."""
        import cv2

        soft = SoftMasker(self.base).bind_to(x, arrays)

        def apply(keep: np.ndarray) -> np.ndarray:
            if keep.ndim != 3:
                raise InputError(f"a feathered masker needs (B, H, W) keep-masks, got shape {keep.shape}")
            m = np.empty(keep.shape, np.float32)
            for i, k in enumerate(keep):
                m[i] = cv2.GaussianBlur(k.astype(np.float32), (0, 0), self.sigma, borderType=cv2.BORDER_REPLICATE)
            return soft(m)

        return apply


#: Maskers by name (rules as data): name -> factory. A new baseline masker is a class above and a row here;
#: FeatheredMasker wraps one of them (it takes parameters) and is passed as an object.
MASKERS: dict[str, Callable[[], BaselineMasker]] = {
    "blur": BlurMasker,
    **{c: (lambda c=c: ConstantMasker(c)) for c in ("black", "white", "grey", "gray", "mean")},
}
