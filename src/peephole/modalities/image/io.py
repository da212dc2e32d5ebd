"""Loading images and converting arrays to the engine's convention: H×W×3 float32 in [0, 1].

Documented conversions: grayscale (H×W or H×W×1) is repeated to 3 channels; RGBA / LA drop the
alpha channel; a C×H×W array or tensor (channels first, C = 1 or 3, and a last axis that cannot be channels) is
transposed to H×W×C; torch tensors are copied to the host; 16-bit integers are scaled by 1/65535, 8-bit by 1/255;
EXIF orientation is applied; of a file of several frames (an animated GIF, PNG or WebP, a multi-page TIFF) the first
is read, with a warning.
Files in other colour spaces are converted to sRGB: CMYK, YCbCr and HSV with Pillow's ``convert``,
CIE L*a*b* with littlecms (``PIL.ImageCms``); palette images are expanded. HEIC/HEIF photos are read through the
pillow-heif plugin (the ``heic`` extra) when it is installed.

Bounds: only regular files are opened (a FIFO, socket, device or directory is refused before it is
opened, so it cannot block). A file of more than :data:`MAX_DECODE_PIXELS` pixels (Pillow's decompression-bomb
limit) is refused before it is decoded. An image of more than :data:`MAX_WORK_PIXELS` pixels is resized
(aspect kept) to fit, with a warning saying what the full size would cost, unless ``allow_large=True``.
Every output size is worked out before anything is resized, so no step allocates more than its output:

* an extreme aspect is fitted, not refused: a 1×500000 strip becomes 1×409600 (:func:`fitted_size`;
  superpixels explain it, a partition that cannot fit it, such as a window wider than the image, is an
  :class:`InputError`);
* ``size`` with the centre crop: when the resized image would exceed ``max(4·size², MAX_WORK_PIXELS)`` pixels
  (a 1×3000 strip at 224 would be 224×672000), the source is centre-cropped to a square first, then resized;
* ``size`` without the crop: a result above :data:`MAX_WORK_PIXELS` is fitted to it with a warning (as
  without ``size``); with ``allow_large``, one above :data:`MAX_DECODE_PIXELS` is an :class:`InputError`.
"""

from __future__ import annotations

import io
import os
import stat
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from peephole.core.query import to_numpy
from peephole.errors import InputError

#: The largest image explained as it is (640×640 = 409,600 pixels: a VGA photo and every shipped sample
#: fit); larger ones are resized unless ``allow_large``.
MAX_WORK_PIXELS = 640 * 640
#: Files with more pixels are refused before decoding (Pillow's own decompression-bomb limit, 89.5 Mpx).
MAX_DECODE_PIXELS = Image.MAX_IMAGE_PIXELS or 89_478_485
#: Modes converted to RGB by Pillow (colour spaces other than RGB, palettes).
#: Formats whose further frames are no pictures of their own to explain (MPO: a camera's JPEG plus its previews or
#: second view); a file of several frames in any other format (GIF, APNG, WebP, TIFF pages) is warned about.
STILL_FORMATS = frozenset({"MPO"})
_CONVERT = {"CMYK": "RGB", "YCbCr": "RGB", "HSV": "RGB", "P": "RGBA", "PA": "RGBA", "RGBX": "RGB", "RGBa": "RGBA"}


def work_cost(h: int, w: int) -> str:
    """What explaining an H×W image costs, in words: the bytes of one model input and of a batch of 16 (the number
    of queries does not grow with the size: the default windows scale with the image)."""
    mb = h * w * 12 / 2**20
    return f"each model input is {mb:,.0f} MB (a batch of 16: {16 * mb / 1024:,.1f} GB)"


def fitted_size(h: int, w: int, limit: int = MAX_WORK_PIXELS) -> tuple[int, int]:
    """The size ``(nh, nw)`` of at most ``limit`` pixels, aspect ``h:w`` kept, each side at least one pixel:
    a side that would round below one pixel stays at one and the other side is cut to ``limit``."""
    s = (limit / (h * w)) ** 0.5
    nh, nw = max(1, int(h * s)), max(1, int(w * s))
    if nh * nw > limit:  # one side held at one pixel
        nh, nw = (1, limit) if nh == 1 else (limit, 1)
    return nh, nw


def fit_work_size(img: np.ndarray, allow_large: bool = False, name: str = "image") -> np.ndarray:
    """``img`` unchanged if it has at most :data:`MAX_WORK_PIXELS` pixels (or ``allow_large``), else resized
    to :func:`fitted_size`, with a warning naming the cost of the full size."""
    h, w = img.shape[:2]
    if allow_large or h * w <= MAX_WORK_PIXELS:
        return img
    return _resized(img, *_fit_warned(h, w, name), name)


def _fit_warned(h: int, w: int, name: str) -> tuple[int, int]:
    """:func:`fitted_size` of an image that would be ``h×w``, with the warning that says so."""
    nh, nw = fitted_size(h, w)
    warnings.warn(
        f"{name}: {h}×{w} pixels is above the maximum work size ({MAX_WORK_PIXELS:,} pixels); explaining it "
        f"at {nh}×{nw}. At full size {work_cost(h, w)}; pass allow_large=True (CLI: --allow-large) to insist.",
        stacklevel=3,
    )
    return nh, nw


def _resized(img: np.ndarray, nh: int, nw: int, name: str) -> np.ndarray:
    """``img`` resized to ``nh×nw`` (area averaging when shrinking, linear when enlarging), clipped to [0, 1]."""
    import cv2

    if nh * nw > MAX_DECODE_PIXELS:  # checked before OpenCV allocates it
        raise InputError(f"{name}: resizing to {nh}×{nw} = {nh * nw:,} pixels is above the limit of {MAX_DECODE_PIXELS:,}")
    interp = cv2.INTER_AREA if nh * nw < img.shape[0] * img.shape[1] else cv2.INTER_LINEAR
    return np.clip(cv2.resize(img, (nw, nh), interpolation=interp), 0, 1).astype(np.float32)


#: The shapes one image may have, channel order named (what every shape error says).
SHAPES = "H×W, H×W×C (channels last; C = 1, 3 or 4) or C×H×W (channels first; C = 1 or 3)"


def host_array(x: Any) -> np.ndarray:
    """``x`` as a NumPy array on the host (a torch tensor detached and copied from its device,
    :func:`peephole.core.query.to_numpy`); an array as it is."""
    return to_numpy(x) if hasattr(x, "detach") else np.asarray(x)


def channels_last(a: np.ndarray) -> np.ndarray:
    """``a`` (one image, or a batch with its leading axis) with channels last: a C×H×W (channels-first, C = 1 or 3)
    array transposed; channels-last and H×W arrays as they are. A last axis of 1–4 is read as channels."""
    if a.ndim >= 3 and a.shape[-1] not in (1, 2, 3, 4) and a.shape[-3] in (1, 3):
        return np.moveaxis(a, -3, -1)
    return a


def images_of(x: Any) -> list[Any] | None:
    """The images of a batch — a list or tuple of images (paths or arrays), or an N×H×W×C / N×C×H×W array or
    tensor — or None when ``x`` is one image (an H×W / H×W×C / C×H×W array, a path)."""
    if isinstance(x, (list, tuple)):
        if x and all(isinstance(i, (str, Path)) or hasattr(i, "shape") or hasattr(i, "__array__") for i in x):
            return list(x)
        return None
    if not hasattr(x, "shape") or len(x.shape) != 4:
        return None
    a = channels_last(host_array(x))
    if a.shape[-1] not in (1, 2, 3, 4):
        raise InputError(
            f"a batch of images of shape {tuple(x.shape)}: expected N×H×W×C (channels last; C = 1, 3 or 4) or N×C×H×W "
            "(channels first; C = 1 or 3)"
        )
    return list(a)


def to_rgb_float(img: Any, name: str = "image") -> np.ndarray:
    """Convert an image array or tensor (H×W, H×W×C or C×H×W) to H×W×3 float32 in [0, 1] (see module doc)."""
    a = np.asarray(img) if isinstance(img, np.ndarray) else host_array(img)
    if a.ndim == 4:
        raise InputError(
            f"{name}: expected one image ({SHAPES}), got shape {a.shape}, a batch: pass it to peephole.explain as it "
            "is (each image is explained) or as a list"
        )
    a = channels_last(a)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[-1] not in (1, 2, 3, 4):
        raise InputError(f"{name}: expected {SHAPES}, got shape {a.shape}")
    if a.shape[0] < 1 or a.shape[1] < 1:
        raise InputError(f"{name}: image of shape {a.shape} has no pixels")
    if a.shape[-1] in (2, 4):  # drop alpha
        a = a[..., :-1]
    if a.shape[-1] == 1:
        a = np.repeat(a, 3, axis=-1)
    if a.dtype in (np.uint8, np.uint16):  # float32 throughout (no float64 copy); bit-identical to a / 255.0
        out = a.astype(np.float32)
        out /= np.float32(255 if a.dtype == np.uint8 else 65535)
        return out
    if a.dtype == bool:
        return a.astype(np.float32)
    if np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise InputError(f"{name}: contains NaN or inf")
        if a.min() < 0 or a.max() > 1:
            raise InputError(f"{name}: float pixels must lie in [0, 1], got [{a.min():.3g}, {a.max():.3g}]")
        return a.astype(np.float32)
    raise InputError(f"{name}: unsupported pixel type {a.dtype}; use uint8, uint16 or float in [0, 1]")


def resize(img: np.ndarray, size: int, crop: bool = True, allow_large: bool = False, name: str = "image") -> np.ndarray:
    """Resize so the shorter side is ``size``; with ``crop``, centre-crop to ``size``×``size``. The output size
    is bounded before anything is resized (see the module doc: extreme aspects)."""
    import cv2

    if int(size) < 1:
        raise InputError(f"size must be >= 1 pixel, got {size}")
    h, w = img.shape[:2]
    s = size / min(h, w)
    nh, nw = max(size, round(h * s)), max(size, round(w * s))
    if crop and nh * nw > max(4 * size * size, MAX_WORK_PIXELS):  # an extreme aspect: crop the source first
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        return _resized(img[top : top + side, left : left + side], size, size, name)
    if not crop and nh * nw > MAX_WORK_PIXELS:
        if not allow_large:
            return _resized(img, *_fit_warned(nh, nw, name), name)
        return _resized(img, nh, nw, name)
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    out = cv2.resize(img, (nw, nh), interpolation=interp)
    if crop:
        top, left = (nh - size) // 2, (nw - size) // 2
        out = out[top : top + size, left : left + size]
    return np.clip(out, 0, 1).astype(np.float32)


def load_image(path: str | Path | bytes, size: int | None = None, crop: bool = True, allow_large: bool = False) -> np.ndarray:
    """Read an image file (or a shipped photo such as ``skimage:chelsea``, or an image file's bytes, as a Parquet table
    embeds them) as H×W×3 float32 in [0, 1].

    With ``size``, :func:`resize` it (shorter side ``size``, centre crop unless ``crop=False``); without,
    an image above :data:`MAX_WORK_PIXELS` is fitted to it unless ``allow_large`` (see the module doc).
    URLs are not fetched.
    """
    from peephole.modalities.image.samples import is_sample, sample_image

    if size is not None and int(size) < 1:
        raise InputError(f"size must be >= 1 pixel (or None to keep the size), got {size}")
    if isinstance(path, (bytes, bytearray)):
        name = f"<image of {len(path):,} bytes>"
        heif_opener()  # the bytes of a HEIC photo name no suffix
        img = to_rgb_float(_decode(io.BytesIO(path), name), name=name)
        return resize(img, size, crop, allow_large, name) if size else fit_work_size(img, allow_large, name)
    if isinstance(path, str) and is_sample(path):
        img = to_rgb_float(sample_image(path), name=path)
        return resize(img, size, crop, allow_large, path) if size else fit_work_size(img, allow_large, path)
    if isinstance(path, str) and "://" in path:
        raise InputError(f"{path}: URLs are not fetched; download the file and pass its path")
    p = Path(path)
    regular_file(p, " (to explain a text, pass modality='text')" if isinstance(path, str) and " " in path.strip() else "")
    img = to_rgb_float(_decode(p, str(p)), name=str(p))
    return resize(img, size, crop, allow_large, str(p)) if size else fit_work_size(img, allow_large, str(p))


#: Suffixes of HEIF files (an iPhone's HEIC photos), read through the pillow-heif plugin when it is installed
HEIF_SUFFIXES = (".heic", ".heif")


@lru_cache(maxsize=1)
def heif_opener() -> bool:
    """Register pillow-heif's HEIC/HEIF opener with Pillow (once); whether it is installed."""
    try:
        from pillow_heif import register_heif_opener
    except ImportError:
        return False
    register_heif_opener()
    return True


def regular_file(p: Path, hint: str = "") -> None:
    """An :class:`InputError` unless ``p`` is a regular file, decided by ``os.stat`` before anything opens it:
    opening a FIFO blocks until a writer comes, a device may never end. ``hint``: added to 'no such file'."""
    try:
        mode = os.stat(p).st_mode
    except FileNotFoundError:
        raise InputError(f"{p}: no such file{hint}") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    except ValueError:  # no file can have this name
        raise InputError(f"{str(p)!r}: a path cannot hold a NUL character") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"{p}: is a directory, not an image")
    if not stat.S_ISREG(mode):
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
        raise InputError(f"{p}: is {kind}, not a regular file; only image files are read")


def _decode(p: Path | io.BytesIO, name: str) -> np.ndarray:
    """The pixels of file ``p`` (or of bytes in memory), called ``name`` in errors, in RGB(A) / L(A) / 16-bit, colour
    spaces converted; bombs refused before decoding."""
    heif = isinstance(p, Path) and p.suffix.lower() in HEIF_SUFFIXES
    if heif:
        heif_opener()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(p) as im:
                w, h = im.size
                if w * h > MAX_DECODE_PIXELS:
                    raise InputError(
                        f"{name}: {w}×{h} = {w * h:,} pixels is above the decoding limit of {MAX_DECODE_PIXELS:,} "
                        f"pixels (a decompression bomb or a huge scan); reduce it with an image tool first"
                    )
                frames = getattr(im, "n_frames", 1)
                if frames > 1 and im.format not in STILL_FORMATS:
                    warnings.warn(
                        f"{name}: holds {frames} frames (an animation or a multi-page file); explaining the first. "
                        "Save the frame to explain as a file of its own.",
                        stacklevel=4,
                    )
                im = ImageOps.exif_transpose(im)
                if im.mode == "LAB":
                    from PIL import ImageCms

                    lab, srgb = ImageCms.createProfile("LAB"), ImageCms.createProfile("sRGB")
                    im = ImageCms.profileToProfile(im, lab, srgb, outputMode="RGB")
                elif im.mode in _CONVERT:
                    im = im.convert(_CONVERT[im.mode])
                a = np.asarray(im)
    except InputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError(
            f"{name}: above the decoding limit of {MAX_DECODE_PIXELS:,} pixels, refused as a possible decompression bomb ({exc})"
        ) from exc
    except UnidentifiedImageError as exc:
        if heif and not heif_opener():
            raise InputError(
                f"{name}: a HEIC/HEIF photo, which Pillow reads with the pillow-heif plugin: pip install 'peephole[heic]' "
                "(Peephole registers it), or convert the photo to JPEG"
            ) from exc
        raise InputError(f"{name}: not an image file (or an unsupported format)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"{name}: corrupt or truncated image ({exc})") from exc
    if a.dtype in (np.int32, np.uint32) and a.max(initial=0) <= 65535:  # 16-bit grayscale in PIL's 'I' mode
        a = a.astype(np.uint16)
    return a if a.dtype.isnative else a.astype(a.dtype.newbyteorder("="))
