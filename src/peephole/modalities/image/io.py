"""Loading images and converting arrays to the engine's convention: H×W×3 float32 in [0, 1].

Documented conversions: grayscale (H×W or H×W×1) is repeated to 3 channels; RGBA / LA drop the
alpha channel; 16-bit integers are scaled by 1/65535, 8-bit by 1/255; EXIF orientation is applied.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from peephole.errors import InputError


def to_rgb_float(img: np.ndarray, name: str = "image") -> np.ndarray:
    """Convert an image array to H×W×3 float32 in [0, 1] (see module doc for the conversions)."""
    a = np.asarray(img)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[-1] not in (1, 2, 3, 4):
        raise InputError(f"{name}: expected H×W, H×W×1, H×W×3 or H×W×4, got shape {a.shape}")
    if a.shape[0] < 1 or a.shape[1] < 1:
        raise InputError(f"{name}: image of shape {a.shape} has no pixels")
    if a.shape[-1] in (2, 4):  # drop alpha
        a = a[..., :-1]
    if a.shape[-1] == 1:
        a = np.repeat(a, 3, axis=-1)
    if a.dtype == np.uint8:
        return (a / 255.0).astype(np.float32)
    if a.dtype == np.uint16:
        return (a / 65535.0).astype(np.float32)
    if a.dtype == bool:
        return a.astype(np.float32)
    if np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise InputError(f"{name}: contains NaN or inf")
        if a.min() < 0 or a.max() > 1:
            raise InputError(f"{name}: float pixels must lie in [0, 1], got [{a.min():.3g}, {a.max():.3g}]")
        return a.astype(np.float32)
    raise InputError(f"{name}: unsupported pixel type {a.dtype}; use uint8, uint16 or float in [0, 1]")


def resize(img: np.ndarray, size: int, crop: bool = True) -> np.ndarray:
    """Resize so the shorter side is ``size``; with ``crop``, centre-crop to ``size``×``size``."""
    import cv2

    h, w = img.shape[:2]
    s = size / min(h, w)
    nh, nw = max(size, round(h * s)), max(size, round(w * s))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    out = cv2.resize(img, (nw, nh), interpolation=interp)
    if crop:
        top, left = (nh - size) // 2, (nw - size) // 2
        out = out[top : top + size, left : left + size]
    return np.clip(out, 0, 1).astype(np.float32)


def load_image(path: str | Path, size: int | None = None, crop: bool = True) -> np.ndarray:
    """Read an image file (or a shipped photo such as ``skimage:chelsea``) as H×W×3 float32 in [0, 1].

    With ``size``, :func:`resize` it (shorter side ``size``, centre crop unless ``crop=False``).
    """
    from peephole.modalities.image.samples import is_sample, sample_image

    if isinstance(path, str) and is_sample(path):
        img = to_rgb_float(sample_image(path), name=path)
        return resize(img, size, crop) if size else img
    p = Path(path)
    if not p.exists():
        hint = " (to explain a text, pass modality='text')" if isinstance(path, str) and " " in path.strip() else ""
        raise InputError(f"{p}: no such file{hint}")
    if p.is_dir():
        raise InputError(f"{p}: is a directory, not an image")
    try:
        with Image.open(p) as im:
            im = ImageOps.exif_transpose(im)
            if im.mode == "P":
                im = im.convert("RGBA")
            a = np.asarray(im)
    except UnidentifiedImageError as exc:
        raise InputError(f"{p}: not an image file (or an unsupported format)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"{p}: corrupt or truncated image ({exc})") from exc
    if a.dtype in (np.int32, np.uint32) and a.max(initial=0) <= 65535:  # 16-bit grayscale in PIL's 'I' mode
        a = a.astype(np.uint16)
    img = to_rgb_float(a, name=str(p))
    return resize(img, size, crop) if size else img
