"""Fuzzing every input a user can give: images of any size (1×1 upward, extreme aspect ratios), dtype,
channel count and file format; strategies, maskers, targets, batch sizes, window radius and stride; texts
(empty, one word, thousands of words, emoji, CJK, RTL, control characters); misbehaving models.

The property everywhere: one clean ``InputError`` / ``ModelError``, or a finite map of the input's shape
whose every pixel was covered by the partition. Examples are derandomised (the same ones every run) and
bounded, so the suite stays fast; docs/reliability.md gives the counts.
"""

from __future__ import annotations

import io
import os
import time
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import peephole
from peephole.errors import InputError, ModelError
from peephole.modalities.image.io import load_image

FUZZ = settings(deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
#: ``PEEPHOLE_FUZZ_SCALE=10 python -m pytest tests/test_fuzz.py`` runs ten times the examples (a deeper, slower search).
SCALE = float(os.environ.get("PEEPHOLE_FUZZ_SCALE", "1"))


def examples(n: int) -> int:
    return max(1, round(n * SCALE))


CLEAN = (InputError, ModelError)


def good_model(b: np.ndarray) -> np.ndarray:
    """Three classes from the channel means (softmax): a well-behaved black box."""
    z = 6 * np.asarray(b, np.float64).mean(axis=(1, 2))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# --- images -------------------------------------------------------------------------------------------
SHAPES = st.one_of(
    st.tuples(st.integers(1, 40), st.integers(1, 40)),
    st.tuples(st.integers(60, 96), st.integers(60, 96)),
    st.sampled_from([(1, 200), (200, 1), (2, 160), (160, 3), (5, 90), (90, 6)]),
)
DTYPES = st.sampled_from(["uint8", "uint16", "float32", "float64", "bool", "int64", "float16"])
CHANNELS = st.sampled_from([None, 1, 2, 3, 4, 5])


@st.composite
def images(draw):
    h, w = draw(SHAPES)
    dtype, ch = draw(DTYPES), draw(CHANNELS)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    shape = (h, w) if ch is None else (h, w, ch)
    a = rng.random(shape)
    if dtype == "uint8":
        a = (a * 255).astype(np.uint8)
    elif dtype == "uint16":
        a = (a * 65535).astype(np.uint16)
    elif dtype == "bool":
        a = a > 0.5
    elif dtype == "int64":
        a = (a * 255).astype(np.int64)
    else:
        a = a.astype(dtype)
        spoil = draw(st.sampled_from([None, None, None, "nan", "big", "negative"]))
        if spoil and a.size:
            a.flat[0] = {"nan": np.nan, "big": 3.0, "negative": -0.5}[spoil]
    return a


METHODS = st.one_of(
    st.just(("pami", {})),
    st.builds(
        lambda r, s, m, shape: ("pami", {"partition": "window", "radius": r, "stride": s, "masker": m, "window": shape}),
        st.integers(1, 12),
        st.integers(1, 20),
        st.sampled_from(["blur", "black", "white", "grey", "mean"]),
        st.sampled_from(["circle", "square"]),
    ),
    st.builds(
        lambda r, s: ("occlusion", {"partition": "window", "radius": r, "stride": s}), st.integers(1, 6), st.integers(1, 8)
    ),
    st.builds(lambda n: ("rise", {"n_masks": n}), st.integers(1, 40)),
    st.builds(lambda n: ("lime", {"n_samples": n, "partition": "window", "radius": 3, "stride": 4}), st.integers(2, 40)),
)
TARGETS = st.one_of(st.none(), st.integers(-2, 4), st.lists(st.integers(0, 2), min_size=1, max_size=3), st.just("nope"))


@settings(FUZZ, max_examples=examples(120))
@given(img=images(), method=METHODS, targets=TARGETS, top_k=st.integers(0, 3), batch=st.sampled_from([None, 1, 3, 64]))
def test_fuzz_images_methods_and_options(img, method, targets, top_k, batch):
    name, options = method
    h, w = img.shape[:2]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            e = peephole.explain(
                good_model, img, method=name, targets=targets, top_k=top_k, batch_size=batch, output="probs", **options
            )
    except CLEAN:
        return
    assert e.maps.shape[1:] == (h, w) and len(e.maps) == len(e.targets) >= 1
    assert np.isfinite(e.maps).all()
    if name in ("pami", "occlusion"):  # every pixel was in some part
        assert e.partition.masks(0, e.partition.n_parts).any(axis=0).all()


# --- misbehaving models ---------------------------------------------------------------------------------
IMG = np.random.default_rng(1).random((20, 24, 3)).astype(np.float32)


def misbehaving(kind: str, when: int):
    """A model that behaves well until its ``when``-th call, then misbehaves as ``kind``."""
    calls = [0]
    buf = np.zeros((64, 3))

    def model(b):
        calls[0] += 1
        out = good_model(b)
        if calls[0] < when:
            return out
        if kind == "raise":
            raise RuntimeError("boom")
        if kind == "nan":
            out[0, 0] = np.nan
        elif kind == "inf":
            out[-1, 1] = np.inf
        elif kind == "short batch":
            out = out[:-1] if len(out) > 1 else out[:, :0]
        elif kind == "3-d":
            out = out[:, :, None]
        elif kind == "fewer classes":
            out = out[:, :2]
        elif kind == "strings":
            return [["a"] * 3] * len(b)
        elif kind == "none":
            return None
        elif kind == "above one":
            out = out + 1.5
        elif kind == "in place":
            b *= 0.0  # normalises its input in place
        elif kind == "reused buffer":
            buf[: len(out)] = out
            return buf[: len(out)]
        elif kind == "slow":
            time.sleep(0.002)
        elif kind == "list":
            return out.tolist()
        return out

    return model


BREAKS = ["raise", "nan", "inf", "short batch", "3-d", "fewer classes", "strings", "none", "above one"]
HARMLESS = ["in place", "reused buffer", "slow", "list"]


@settings(FUZZ, max_examples=examples(60))
@given(
    kind=st.sampled_from(BREAKS + HARMLESS),
    when=st.integers(1, 4),
    partition=st.sampled_from([{"partition": "window", "radius": 5, "stride": 4}, {}]),
    batch=st.sampled_from([1, 5, 16]),
)
def test_fuzz_misbehaving_models(kind, when, partition, batch):
    kw = {"output": "probs", "batch_size": batch, "top_k": 2, **partition}
    if kind in BREAKS:
        if kind == "fewer classes" and when == 1:  # consistent from the start: a valid 2-class model
            return
        with pytest.raises(ModelError):
            peephole.explain(misbehaving(kind, when), IMG.copy(), **kw)
        return
    img = IMG.copy()
    e = peephole.explain(misbehaving(kind, when), img, **kw)
    clean = peephole.explain(good_model, IMG.copy(), **kw)
    np.testing.assert_array_equal(img, IMG)  # the caller's image is untouched
    np.testing.assert_allclose(e.maps, clean.maps, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(e.probabilities, clean.probabilities, rtol=1e-6)


# --- image files ----------------------------------------------------------------------------------------
MODES = st.sampled_from(["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "YCbCr", "I;16", "I", "F", "LAB"])
FORMATS = st.sampled_from(["PNG", "TIFF", "JPEG", "BMP", "GIF", "WEBP"])


@settings(FUZZ, max_examples=examples(100))
@given(mode=MODES, fmt=FORMATS, size=st.tuples(st.integers(1, 30), st.integers(1, 30)), seed=st.integers(0, 999))
def test_fuzz_image_files_of_every_mode_and_format(tmp_path_factory, mode, fmt, size, seed):
    rgb = Image.fromarray((np.random.default_rng(seed).random((size[1], size[0], 3)) * 255).astype(np.uint8))
    if mode == "LAB":
        from PIL import ImageCms

        im = ImageCms.profileToProfile(rgb, ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB"), outputMode="LAB")
    else:
        im = rgb.convert(mode)
    buf = io.BytesIO()
    try:
        im.save(buf, format=fmt)
    except (OSError, ValueError, KeyError):
        return  # Pillow cannot write this mode in this format: nothing a user could hand us
    path = tmp_path_factory.mktemp("f") / f"x.{fmt.lower()}"
    path.write_bytes(buf.getvalue())
    try:
        x = load_image(path)
    except InputError:
        return
    assert x.shape == (size[1], size[0], 3) and x.dtype == np.float32
    assert np.isfinite(x).all() and x.min() >= 0 and x.max() <= 1


@settings(FUZZ, max_examples=examples(60))
@given(data=st.binary(max_size=400), ext=st.sampled_from(["png", "jpg", "tif", "gif", "bmp", "webp"]))
def test_fuzz_random_bytes_are_one_input_error(tmp_path_factory, data, ext):
    header = {"png": b"\x89PNG\r\n\x1a\n", "jpg": b"\xff\xd8\xff", "gif": b"GIF89a", "bmp": b"BM"}.get(ext, b"")
    path = tmp_path_factory.mktemp("b") / f"junk.{ext}"
    path.write_bytes(header + data)
    with pytest.raises(InputError):
        load_image(path)


# --- texts ----------------------------------------------------------------------------------------------
ODD = "héllo 猫 犬 שלום مرحبا 👍🏽 👨‍👩‍👧 \u202e \x1b[31m \x00 \t ​ ﷽ 𝔘"
TEXTS = st.one_of(
    st.text(alphabet=st.sampled_from(list(ODD) + list("ab c")), max_size=60),
    st.lists(st.sampled_from(["good", "bad", "ok", "猫", "👍", "\x1b[2J", "مرحبا"]), min_size=1, max_size=2500).map(" ".join),
    st.sampled_from(["", "   ", "word", "\n\n", "\x1b"]),
)


def text_model(texts):
    """Positive when 'good' or 👍 appears, a little from the length: a black box on strings."""
    s = np.array([(t.count("good") + t.count("👍") + 0.01 * len(t)) for t in texts], np.float64)
    p = 1 / (1 + np.exp(-(s - 1)))
    return np.stack([1 - p, p], axis=1)


@settings(FUZZ, max_examples=examples(60))
@given(text=TEXTS, partition=st.sampled_from(["words", "windows"]), masker=st.sampled_from(["drop", "[MASK]"]))
def test_fuzz_texts(text, partition, masker):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            e = peephole.explain(text_model, text, modality="text", output="probs", partition=partition, masker=masker)
    except CLEAN:
        return
    n_words = len(e.input)
    assert e.maps.shape == (len(e.targets), n_words) and np.isfinite(e.maps).all()
    plain = e.terminal(colour=False)
    assert not any(ord(c) < 32 or ord(c) == 0x7F or c == "\u202e" for c in plain)
