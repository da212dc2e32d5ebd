"""Fuzzing every input a user can give: image arrays of any shape, dtype and values; files of random or damaged
bytes under image names (.png, .jpg, .npy); damaged saved results (``peephole.load``); CSV and text datasets;
option dicts for every registered method; models whose outputs have the wrong shape, values or dtype; ONNX files of
any input signature; texts; and
the ``peephole explain`` / ``peephole run`` command lines.

The property everywhere: one clean ``InputError`` / ``ModelError``, or a result that passes the invariants (finite
maps of the input's shape, queries within the budget, every pixel covered by the partition). Every example runs in
a forked child under an address-space cap and a time limit (:mod:`isolation`), so a hang, a crash or a memory
blow-up fails that example instead of stopping the run. Examples are derandomised (the same ones every run) and
bounded, so the suite stays fast; ``PEEPHOLE_FUZZ_SCALE=10`` runs ten times as many and ``PEEPHOLE_FUZZ_RANDOM=1``
draws others (docs/reliability.md).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from isolation import isolated
from PIL import Image

import peephole
from peephole.batch.datasets import open_dataset
from peephole.core.partition import MAX_PARTS
from peephole.core.query import NOT_NUMBERS
from peephole.errors import InputError, ModelError
from peephole.modalities import get_modality
from peephole.modalities.image.io import load_image

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="each example runs in a forked child (os.fork)")

#: ``PEEPHOLE_FUZZ_RANDOM=1 python -m pytest tests/test_fuzz.py --hypothesis-seed=N`` draws other examples (seed ``N``).
RANDOM = os.environ.get("PEEPHOLE_FUZZ_RANDOM", "") not in ("", "0")
FUZZ = settings(deadline=None, derandomize=not RANDOM, database=None, suppress_health_check=list(HealthCheck))
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


@pytest.fixture(scope="module", autouse=True)
def warm(tmp_path_factory):
    """Everything the examples import lazily (OpenCV, scikit-image, scikit-learn, Pillow's plug-ins, the CLI),
    imported once here: each forked example then starts warm instead of importing them again. Torch is imported by
    the option-dict test, the last one: a process holding it takes ~0.05 s of system time per fork."""
    import peephole.cli  # noqa: F401

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for method in ("pami-path", "pami", "lime", "rise"):
            peephole.explain(good_model, IMG, method, output="probs")
        peephole.explain(text_model, "good film", modality="text", output="probs")
        peephole.explain(lambda b: np.asarray(b)[:, :2], np.arange(8.0), modality="sequence", output="scores", window=2)
        folder = tmp_path_factory.mktemp("warm")
        for fmt in ("PNG", "JPEG"):
            Image.fromarray((IMG * 255).astype(np.uint8)).save(folder / f"x.{fmt}", format=fmt)
            load_image(folder / f"x.{fmt}")


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


@settings(FUZZ, max_examples=examples(60))
@given(img=images(), method=METHODS, targets=TARGETS, top_k=st.integers(0, 3), batch=st.sampled_from([None, 1, 3, 64]))
def test_fuzz_images_methods_and_options(img, method, targets, top_k, batch):
    isolated(explain_image, img, method, targets, top_k, batch, clean=CLEAN)


def map_shape(img) -> tuple[int, ...]:
    """The H×W of an array's map, by the documented layout rule (docs/devices.md): a 3-D array whose last axis cannot
    be channels (not 1–4) and whose first axis can (1 or 3) is channels first, C×H×W; anything else H×W(×C)."""
    shape = tuple(np.shape(img))
    if len(shape) == 3 and shape[-1] not in (1, 2, 3, 4) and shape[0] in (1, 3):
        return shape[1:]
    return shape[:2]


def explain_image(img, method, targets, top_k, batch) -> None:
    name, options = method
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = peephole.explain(
            good_model, img, method=name, targets=targets, top_k=top_k, batch_size=batch, output="probs", **options
        )
    check_result(e, map_shape(img))
    if name in ("pami", "occlusion"):  # every pixel was in some part
        assert e.partition.masks(0, e.partition.n_parts).any(axis=0).all()


def check_result(e: peephole.Explanation, shape: tuple[int, ...] | None = None, least_queries: int = 1) -> None:
    """The invariants of any result: one finite map per target, of the explained input's feature shape (``shape``
    when given: the input as the caller gave it), at least ``least_queries`` queries (an explanation queries the input
    itself; a saved map may have made none: the harness's reference maps) and no more than a budget it was given."""
    assert len(e.maps) == len(e.targets) >= 1 and np.isfinite(e.maps).all()
    assert e.maps.shape[1:] == (tuple(shape) if shape is not None else e.maps.shape[1:])
    budget = e.params.get("max_queries")
    assert e.n_queries >= least_queries and (budget is None or e.n_queries <= budget), (e.n_queries, budget)


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


@settings(FUZZ, max_examples=examples(40))
@given(
    kind=st.sampled_from(BREAKS + HARMLESS),
    when=st.integers(1, 4),
    partition=st.sampled_from([{"partition": "window", "radius": 5, "stride": 4}, {}]),
    batch=st.sampled_from([1, 5, 16]),
)
def test_fuzz_misbehaving_models(kind, when, partition, batch):
    if kind == "fewer classes" and when == 1:  # consistent from the start: a valid 2-class model
        return
    outcome = isolated(explain_misbehaving, kind, when, partition, batch, clean=CLEAN)
    assert outcome[:2] == ("clean", "ModelError") if kind in BREAKS else outcome[0] == "ok", outcome


def explain_misbehaving(kind, when, partition, batch) -> None:
    kw = {"output": "probs", "batch_size": batch, "top_k": 2, **partition}
    if kind in BREAKS:
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


@settings(FUZZ, max_examples=examples(50))
@given(mode=MODES, fmt=FORMATS, size=st.tuples(st.integers(1, 30), st.integers(1, 30)), seed=st.integers(0, 999))
def test_fuzz_image_files_of_every_mode_and_format(tmp_path_factory, mode, fmt, size, seed):
    isolated(load_image_of_mode, tmp_path_factory.mktemp("f"), mode, fmt, size, seed, clean=CLEAN)


def load_image_of_mode(folder: Path, mode: str, fmt: str, size: tuple[int, int], seed: int) -> None:
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
    path = folder / f"x.{fmt.lower()}"
    path.write_bytes(buf.getvalue())
    x = load_image(path)
    assert x.shape == (size[1], size[0], 3) and x.dtype == np.float32
    assert np.isfinite(x).all() and x.min() >= 0 and x.max() <= 1


@settings(FUZZ, max_examples=examples(30))
@given(data=st.binary(max_size=400), ext=st.sampled_from(["png", "jpg", "tif", "gif", "bmp", "webp"]))
def test_fuzz_random_bytes_are_one_input_error(tmp_path_factory, data, ext):
    header = {"png": b"\x89PNG\r\n\x1a\n", "jpg": b"\xff\xd8\xff", "gif": b"GIF89a", "bmp": b"BM"}.get(ext, b"")
    path = tmp_path_factory.mktemp("b") / f"junk.{ext}"
    path.write_bytes(header + data)
    assert isolated(load_image, path, clean=CLEAN)[:2] == ("clean", "InputError")


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


@settings(FUZZ, max_examples=examples(30))
@given(text=TEXTS, partition=st.sampled_from(["words", "windows"]), masker=st.sampled_from(["drop", "[MASK]"]))
def test_fuzz_texts(text, partition, masker):
    isolated(explain_text, text, partition, masker, clean=CLEAN)


def explain_text(text: str, partition: str, masker: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = peephole.explain(text_model, text, modality="text", output="probs", partition=partition, masker=masker)
    n_words = len(e.input)
    assert e.maps.shape == (len(e.targets), n_words) and np.isfinite(e.maps).all()
    plain = e.terminal(colour=False)
    assert not any(ord(c) < 32 or ord(c) == 0x7F or c == "\u202e" for c in plain)


# --- any array, any Python value, as an image --------------------------------------------------------------------
ODD_DTYPES = st.one_of(
    hnp.scalar_dtypes(),
    st.sampled_from(
        [np.dtype("O"), np.dtype("U3"), np.dtype("S2"), np.dtype([("a", "<f4"), ("b", "u1")]), np.dtype("M8[s]"), np.dtype(">f4")]
    ),
)
ANY_ARRAY = hnp.arrays(ODD_DTYPES, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=9))
EXTREME_SHAPES = st.sampled_from([(1, 3000), (3000, 1, 3), (2, 2, 2, 2), (0, 7, 3), (700, 700), (9, 9, 3, 1), (3, 1000, 3)])
NOT_ARRAYS = st.sampled_from([None, [], [[1, 2], [3]], [[0.5] * 4] * 4, "no/such/file.png", 3.5, {"a": 1}, b"\x89PNG", (1, 2)])


@st.composite
def any_image(draw):
    kind = draw(st.sampled_from(["array", "array", "extreme", "python"]))
    if kind == "array":
        return draw(ANY_ARRAY)
    if kind == "python":
        return draw(NOT_ARRAYS)
    shape = draw(EXTREME_SHAPES)
    fill = draw(st.sampled_from([0.0, 0.5, 1.0, 255.0, np.nan, -1.0]))
    return np.full(shape, fill, dtype=draw(st.sampled_from(["float32", "uint8", "float64"])))


@settings(FUZZ, max_examples=examples(40))
@given(img=any_image(), method=st.sampled_from(["pami-path", "pami", "occlusion"]))
def test_fuzz_any_array_or_value_as_an_image(img, method):
    isolated(explain_anything, img, method, clean=CLEAN)


def explain_anything(img, method: str) -> None:
    try:
        shape = map_shape(img)  # a list of lists is an image too
    except ValueError:  # ragged
        shape = ()
    r = max(1, max(shape or (0,)) // 8)  # a few dozen windows at any size
    small = {"partition": "window", "radius": r, "stride": 2 * r, "window": "square"}
    options = {"pami-path": {"n_samples": 8, "max_queries": 30}, "pami": small, "occlusion": small}[method]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = peephole.explain(good_model, img, method, output="probs", modality="image", **options)
    if isinstance(e, list):  # a 4-D array is a batch: one result per image, or that image's clean error
        assert len(e) == len(img)
        for one in e:
            if isinstance(one, BaseException):
                assert isinstance(one, CLEAN), repr(one)
            else:
                check_result(one, None)
                assert one.input.shape == (*one.maps.shape[1:], 3) and one.input.dtype == np.float32
        return
    check_result(e, shape if len(shape) == 2 and np.prod(shape) <= 640 * 640 else None)  # larger: resized (a warning)
    assert e.input.shape == (*e.maps.shape[1:], 3) and e.input.dtype == np.float32


# --- damaged files under image names ---------------------------------------------------------------------------------
def valid_file(ext: str, seed: int) -> bytes:
    rgb = (np.random.default_rng(seed).random((6 + seed % 9, 5 + seed % 7, 3)) * 255).astype(np.uint8)
    buf = io.BytesIO()
    if ext == "npy":
        np.save(buf, rgb if seed % 2 else rgb.astype(np.float32) / 255)
    else:
        Image.fromarray(rgb).save(buf, format={"png": "PNG", "jpg": "JPEG"}[ext])
    return buf.getvalue()


@st.composite
def damaged(draw, make):
    """``make(seed)``'s valid bytes, then truncated, bit-flipped, overwritten with random bytes or spliced."""
    data = bytearray(make(draw(st.integers(0, 99))))
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["truncate", "flip", "overwrite", "splice"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if how == "truncate":
            del data[at:]
        elif how == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif how == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=16))
            data[at : at + len(chunk)] = chunk
        else:
            data[at:at] = draw(st.binary(max_size=64))
    return bytes(data)


@settings(FUZZ, max_examples=examples(50))
@given(ext=st.sampled_from(["png", "jpg", "npy"]), data=st.data())
def test_fuzz_damaged_and_random_bytes_under_image_names(tmp_path_factory, ext, data):
    """A damaged PNG/JPEG/NPY (or random bytes behind its signature) is one InputError or loads as an RGB float image."""
    content = data.draw(
        st.one_of(damaged(lambda seed: valid_file(ext, seed)), st.binary(max_size=300).map(lambda b: b"\x93NUMPY" + b)),
        label="bytes",
    )
    path = tmp_path_factory.mktemp("d") / f"x.{ext}"
    path.write_bytes(content)
    isolated(load_damaged, path, clean=CLEAN)


def load_damaged(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = load_image(path)
    assert x.ndim == 3 and x.shape[2] == 3 and x.dtype == np.float32 and x.size
    assert np.isfinite(x).all() and x.min() >= 0 and x.max() <= 1


@pytest.mark.parametrize("kind", ["fifo", "1x20000 png"])
def test_special_files_and_extreme_aspect_files_under_image_names(tmp_path, kind):
    """A FIFO named ``.png`` (``load_image`` used to block on it forever) and a 1×20000 PNG explained at the
    command line's default ``--size 224`` (a 224×4,480,000 resize: 12 GB): one ``error:`` line or a result, within
    60 s (a hang, not a speed bound: the CLI run takes ~6 s of CPU) and the memory cap."""
    path = tmp_path / "x.png"
    if kind == "fifo":
        os.mkfifo(path)
        isolated(load_image, path, clean=CLEAN, timeout=10)
        return
    Image.fromarray(np.zeros((1, 20000, 3), np.uint8)).save(path)
    args = ["explain", str(path), "--model", "runs_fixtures:make_toy", "--method", "pami", "--partition", "window"]
    isolated(check_cli, [*args, "--out", str(tmp_path / "out")], timeout=60)


# --- damaged saved results ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def saved_results(tmp_path_factory) -> list[bytes]:
    """Valid ``.npz`` results (the seeds the damage starts from): keep-one PAMI, LIME and the default PAMI path on
    images, a text, a detection (its boxes and instance masks in ``extras``) and a segmentation (its regions)."""
    folder = tmp_path_factory.mktemp("saved")
    box = {"boxes": np.array([[2.0, 2.0, 12.0, 10.0]]), "labels": np.array([1])}

    def detector(batch):  # an instance-segmentation model: its masks kept in ``extras``
        return [{**box, "scores": np.array([x.mean()]), "masks": (x.mean(-1) > 0.5)[None]} for x in batch]

    results = [
        peephole.explain(good_model, IMG, "pami", output="probs", partition="window", radius=5, stride=4),
        peephole.explain(good_model, IMG, "lime", output="probs", partition="window", radius=5, stride=6, n_samples=20),
        peephole.explain(text_model, "good film bad end", modality="text", output="probs"),
        peephole.explain(good_model, IMG, "pami-path", output="probs", partition="window", radius=5, stride=6, max_queries=40),
        peephole.explain(detector, IMG, "rise", n_masks=8, task="detection"),
        peephole.explain(segmenter, IMG, "rise", n_masks=8, task="segmentation", output="logits", top_k=2),
    ]
    return [e.save(folder / f"{i}.npz").read_bytes() for i, e in enumerate(results)]


def mutate_meta(data: bytes, key: str, value: object) -> bytes:
    """``data`` (a saved result) with its JSON metadata's ``key`` set to ``value`` (arrays unchanged)."""
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            raw = src.read(name)
            if name == "__meta__.npy":
                meta = json.loads(str(np.load(io.BytesIO(raw))))
                meta[key] = value
                buf = io.BytesIO()
                np.save(buf, np.array(json.dumps(meta)))
                raw = buf.getvalue()
            dst.writestr(name, raw)
    return out.getvalue()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=8,
)
META_KEYS = st.sampled_from(
    ["method", "modality", "targets", "class_names", "n_queries", "params", "partition", "aggregator", "input", "task"]
    + ["extras", "x"]
)


@settings(FUZZ, max_examples=examples(50))
@given(which=st.integers(0, 5), how=st.sampled_from(["bytes", "meta", "random"]), data=st.data())
def test_fuzz_damaged_saved_results(tmp_path_factory, saved_results, which, how, data):
    """``peephole.load`` on a damaged ``.npz`` (bytes, or metadata values of any JSON type) is one InputError or a
    result that passes the invariants."""
    if how == "bytes":
        content = data.draw(damaged(lambda seed: saved_results[which]), label="bytes")
    elif how == "meta":
        content = mutate_meta(saved_results[which], data.draw(META_KEYS, label="key"), data.draw(JSON_VALUES, label="value"))
    else:
        content = data.draw(st.binary(max_size=400).map(lambda b: b"PK\x03\x04" + b), label="bytes")
    path = tmp_path_factory.mktemp("n") / "e.npz"
    path.write_bytes(content)
    isolated(load_saved, path, clean=CLEAN)


def load_saved(path: Path) -> None:
    e = peephole.load(path)
    check_result(e, e.maps.shape[1:], least_queries=0)
    if e.input is not None:  # a result may keep no input (saved so: its metadata says ``"input": null``)
        assert e.maps.shape[1:] == get_modality(e.modality).map_shape(e.input)
    if e.partition is not None:
        assert tuple(e.partition.shape) == e.maps.shape[1:]
        e.map_for(e.targets[0])  # the stored outputs re-aggregate into a map
    if e.modality == "image" and e.task in ("detection", "segmentation"):
        regions = e.view.regions()  # what the pictures outline: a 2-D region per target, or none
        assert regions is None or all(r.ndim == 2 for r in regions)


# --- CSV and text datasets -------------------------------------------------------------------------------------------
CELLS = st.one_of(
    st.sampled_from(["good film", "bad", "", "a.png", "img/b.jpg", "0.5", "1,2,3", "label", "text", "path", "1", "-3e9"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
)
HEADERS = st.lists(
    st.sampled_from(["path", "image", "text", "sentence", "label", "class", "target", "x", "", "text"]), max_size=4
)


@st.composite
def csv_bytes(draw):
    """UTF-8 CSV or text: a header and rows of short cells, with odd quoting, blank lines and line endings."""
    header = draw(HEADERS)
    rows = draw(st.lists(st.lists(CELLS, max_size=5), max_size=6))
    sep = draw(st.sampled_from([",", ";", "\t"]))
    quote = draw(st.booleans())
    lines = [sep.join(f'"{c}"' if quote else c for c in r) for r in [header, *rows]]
    text = draw(st.sampled_from(["\n", "\r\n", "\n\n"])).join(lines)
    return (draw(st.sampled_from(["", "\ufeff"])) + text).encode("utf-8")


@settings(FUZZ, max_examples=examples(40))
@given(
    content=csv_bytes(),
    suffix=st.sampled_from([".csv", ".txt", ".tsv", ".jsonl"]),
    modality=st.sampled_from([None, "image", "text", "sequence"]),
    column=st.sampled_from([None, "text", "path", "x", "nope"]),
)
def test_fuzz_csv_and_text_datasets(tmp_path_factory, content, suffix, modality, column):
    """A UTF-8 CSV, TSV, JSON Lines or text file is a dataset of items (each loads or is one InputError) or one
    InputError."""
    path = tmp_path_factory.mktemp("c") / f"data{suffix}"
    path.write_bytes(content)
    isolated(read_dataset, path, modality, column, clean=CLEAN)


def read_dataset(path: Path, modality: str | None, column: str | None) -> None:
    d = open_dataset(path, column=column, modality=modality)
    ids = [i.id for i in d.items]
    assert len(d) >= 1 and len(set(ids)) == len(ids) and all(isinstance(i, str) and i for i in ids)
    mod = get_modality(d.modality)
    for item in d.items[:4]:
        with contextlib.suppress(InputError):
            mod.load_item(item.source)


@settings(FUZZ, max_examples=examples(20))
@given(content=st.binary(max_size=300), big=st.booleans(), modality=st.sampled_from([None, "text", "image", "sequence"]))
def test_fuzz_csv_bytes_of_any_encoding(tmp_path_factory, content, big, modality):
    """Random bytes (latin-1, invalid UTF-8) and a field over csv's 131,072-character limit in a CSV dataset."""
    path = tmp_path_factory.mktemp("c") / "data.csv"
    path.write_bytes(b"text,label\n" + content + (b'\n"' + b"a" * 140_000 + b'",1' if big else b""))
    isolated(read_dataset, path, modality, None, clean=CLEAN)


# --- model outputs of any shape, dtype and value --------------------------------------------------------------------
@st.composite
def model_outputs(draw):
    """What a model returns for a batch of ``n``: ``(kind, value)``; 'rows' builds ``(n, k)`` from a drawn row."""
    kind = draw(st.sampled_from(["rows", "rows", "fixed", "python"]))
    if kind == "rows":
        return kind, draw(hnp.arrays(ODD_DTYPES, st.integers(0, 4)))
    if kind == "fixed":
        return kind, draw(hnp.arrays(ODD_DTYPES, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5)))
    return kind, draw(st.sampled_from([None, "probs", 3, [], [[0.5, 0.5]], {"logits": [1.0]}, (0.2, 0.8), [[1, "a"]]]))


def odd_model(kind: str, value):
    def model(batch):
        if kind == "rows":
            return np.stack([value] * len(batch)) if value.ndim else np.full(len(batch), value)
        return value

    return model


@settings(FUZZ, max_examples=examples(40))
@given(out=model_outputs(), output=st.sampled_from(["probs", "logits", "scores"]), method=st.sampled_from(["pami", "lime"]))
def test_fuzz_model_outputs_of_any_shape_dtype_and_value(out, output, method):
    """A model returning arrays of any dtype (complex, strings, objects, dates, big-endian), shape or values, or
    Python values: a result that passes the invariants, or one ModelError (never numpy's own exceptions)."""
    outcome = isolated(explain_odd_model, *out, output, method, clean=CLEAN)
    assert outcome[0] == "ok" or outcome[1] == "ModelError", outcome
    kind, value = out
    if kind != "python" and value.dtype.kind in NOT_NUMBERS:  # complex, dates, durations, records: never numbers
        assert outcome[:2] == ("clean", "ModelError"), (value.dtype, outcome)


def explain_odd_model(kind: str, value, output: str, method: str) -> None:
    options = {"partition": "window", "radius": 5, "stride": 6, **({"n_samples": 12} if method == "lime" else {})}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = peephole.explain(odd_model(kind, value), IMG, method, output=output, top_k=2, **options)
    check_result(e, IMG.shape[:2])


# --- ONNX files of any signature ----------------------------------------------------------------------------------
DIMS = st.sampled_from(["N", None, 0, 1, 2, 3, 4, 8, 28, 100_000])
#: Values of an Ultralytics export's metadata (its author, task, class names and input size), good and bad
ULTRALYTICS_VALUES = st.sampled_from(
    ["Ultralytics", "classify", "detect", "{0: 'a', 1: 'b', 2: 'c'}", "{0: 'a'}", "[8, 8]", "[0, 0]", "100000", "[[[", ""]
)


@st.composite
def onnx_signatures(draw):
    """What a user's export may declare: an input of any rank (or none known), any dimensions (named, unknown, 0,
    huge) and element type, no input or two, outputs in any order (an int64 label or a sequence before the scores, or
    no score tensor at all), metadata that says anything (Peephole's own keys, an Ultralytics export's); and the
    settings a user may declare when loading it."""
    shape = draw(st.one_of(st.none(), st.lists(DIMS, min_size=0, max_size=5).map(tuple)))
    graph = {
        "shape": shape,
        "inputs": draw(st.sampled_from([1] * 6 + [0, 2])),
        "outputs": tuple(draw(st.permutations(["probs", "label", "sequence"]))[: draw(st.integers(1, 3))]),
        "input_type": draw(st.sampled_from(["FLOAT"] * 3 + ["FLOAT16", "DOUBLE", "UINT8", "INT8", "INT64", "BOOL"])),
        "metadata": draw(
            st.dictionaries(
                st.sampled_from(["peephole.layout", "peephole.normalise", "peephole.output"]),
                st.sampled_from(["nhwc", "nchw", "none", "tflite", "imagenet", "probs", "logits", "", "??"]),
            )
        )
        | draw(st.dictionaries(st.sampled_from(["author", "task", "names", "imgsz"]), ULTRALYTICS_VALUES)),
    }
    declared = {
        "output": draw(st.sampled_from([None, None, "probs", "logits", "scores"])),
        "layout": draw(st.sampled_from([None, None, "nchw", "nhwc"])),
        "normalise": draw(st.sampled_from([None, None, "none", "imagenet", "tflite"])),
    }
    return graph, declared


@settings(FUZZ, max_examples=examples(40))
@given(signature=onnx_signatures(), method=st.sampled_from(["pami", "rise", "occlusion"]))
def test_fuzz_onnx_files_of_any_signature(tmp_path_factory, signature, method):
    """An ONNX file of any input signature, outputs or metadata, loaded with any declared settings: one InputError
    when it is loaded, or explanations that pass the invariants, or one clean error naming the image (never an
    IndexError, onnxruntime's own exceptions or a 120 GB resize)."""
    from onnx_fixtures import signature_onnx

    graph, declared = signature
    path = signature_onnx(tmp_path_factory.mktemp("onnx") / "m.onnx", **graph)
    outcome = isolated(explain_onnx_file, path, declared, method, clean=CLEAN)
    assert outcome[0] in ("ok", "clean"), outcome
    if graph["inputs"] != 1 or "probs" not in graph["outputs"]:
        assert outcome[:2] == ("clean", "InputError"), (graph, outcome)


def explain_onnx_file(path: str, declared: dict, method: str) -> None:
    model = peephole.load_model(path, **{k: v for k, v in declared.items() if v is not None})
    options = {"n_masks": 6} if method == "rise" else {"partition": "window", "radius": 5, "stride": 6}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = peephole.explain(model, IMG, method, **options)
    check_result(e, IMG.shape[:2])


# --- detectors returning anything ------------------------------------------------------------------------------------
DETECTOR_KEYS = ("boxes", "scores", "labels", "probs", "objectness", "masks")


@st.composite
def detector_outputs(draw):
    """One image's output from a detector: mostly a dict whose keys are each well-formed, absent or any array (any
    dtype, shape or value; instance masks of another size from call to call); sometimes a Python value instead of a
    dict."""
    if draw(st.integers(0, 19)) == 0:
        return draw(st.sampled_from([None, [], "boxes", 3, [{}], {"boxes": None, "scores": None}]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    n, xy = draw(st.integers(0, 6)), rng.random((6, 2)) * 20
    good = {
        "boxes": np.hstack([xy, xy + 1 + rng.random((6, 2)) * 10])[:n],
        "scores": rng.random(n),
        "labels": rng.integers(0, 3, n),
        "probs": rng.random((n, 3)),
        "objectness": rng.random(n),
        "masks": rng.random((n, 1, 12, 16)) if rng.random() < 0.5 else rng.random((n, 30, 20)) > 0.5,  # instance masks
    }
    out = {}
    for key in DETECTOR_KEYS:
        how = draw(st.sampled_from(["good"] * 8 + ["absent", "odd"]))
        if how != "absent":
            out[key] = good[key] if how == "good" else draw(ANY_ARRAY)
    return out


def switching(first, later, when: int, emit):
    """A model answering ``emit(value, batch)`` with ``value`` = ``first`` until its ``when``-th call, ``later`` from
    then on (``'same'``: ``first``)."""
    calls = [0]

    def model(batch):
        calls[0] += 1
        return emit(first if calls[0] < when or isinstance(later, str) and later == "same" else later, batch)

    return model


def odd_detector(first, later, when: int):
    """Returns ``first`` for every image until its ``when``-th call, ``later`` from then on (``'same'``: ``first``)."""
    return switching(first, later, when, lambda out, batch: [out for _ in range(len(batch))])


DETECTION_METHODS = st.sampled_from(
    [
        ("pami-path", {"max_queries": 30, "partition": "window", "radius": 5, "stride": 6}),
        ("pami", {"partition": "window", "radius": 5, "stride": 6}),
        ("rise", {"n_masks": 12}),
        ("lime", {"n_samples": 12, "partition": "window", "radius": 5, "stride": 6}),
        ("occlusion", {"partition": "window", "radius": 5, "stride": 6}),
    ]
)


@settings(FUZZ, max_examples=examples(40))
@given(
    first=detector_outputs(),
    later=st.one_of(st.just("same"), detector_outputs()),
    when=st.integers(1, 4),
    method=DETECTION_METHODS,
    targets=st.sampled_from([None, [0], 1, "face"]),
)
def test_fuzz_detector_outputs(first, later, when, method, targets):
    """A detector returning dicts of any arrays, the wrong keys or Python values, on the unperturbed image or only
    from a later call: the maps of its boxes (one finite map of the input's shape per box explained), or one
    InputError/ModelError (NothingToExplain where it finds no box)."""
    isolated(explain_odd_detector, first, later, when, method, targets, clean=CLEAN)


def explain_odd_detector(first, later, when: int, method: tuple[str, dict], targets) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = peephole.explain(odd_detector(first, later, when), IMG, method[0], task="detection", targets=targets, **method[1])
    check_result(e, IMG.shape[:2])
    assert e.extras["boxes"].shape == (len(e.probabilities), 4) and e.scores.shape[1] == len(e.probabilities)


# --- segmentation models returning anything ---------------------------------------------------------------------------
def segmenter(batch: np.ndarray) -> np.ndarray:
    """Per-pixel logits at half the input's size: class 1 where a pixel is brighter than 0.5."""
    z = 8 * (np.asarray(batch).mean(-1) - 0.5)
    return np.stack([-z, z], axis=1)[:, :, ::2, ::2]


@st.composite
def segmenter_outputs(draw):
    """What a segmentation model returns for a batch of ``n``: ``segmenter``'s logits, or an array of any dtype and
    shape per image (stacked ``n`` times), or any array or Python value for the whole batch."""
    kind = draw(st.sampled_from(["good", "per image", "per image", "whole"]))
    if kind == "good":
        return kind, None
    if kind == "per image":
        return kind, draw(hnp.arrays(ODD_DTYPES, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6)))
    return kind, draw(st.one_of(ANY_ARRAY, NOT_ARRAYS))


def odd_segmenter(first, later, when: int):
    """Returns ``first`` until its ``when``-th call, ``later`` from then on (``'same'``: ``first``)."""

    def emit(drawn, batch):
        kind, value = drawn
        if kind == "good":
            return segmenter(batch)
        return np.stack([value] * len(batch)) if kind == "per image" else value

    return switching(first, later, when, emit)


REGIONS = st.sampled_from([None, np.eye(20, 24, dtype=bool), np.pad(np.ones((2, 2), bool), 4), np.ones((1, 1), bool)])


@settings(FUZZ, max_examples=examples(40))
@given(
    first=segmenter_outputs(),
    later=st.one_of(st.just("same"), segmenter_outputs()),
    when=st.integers(1, 4),
    method=DETECTION_METHODS,
    output=st.sampled_from(["logits", "probs", "scores"]),
    region=REGIONS,
    targets=st.sampled_from([None, [0], 1, "x", [5]]),
)
def test_fuzz_segmenter_outputs(first, later, when, method, output, region, targets):
    """A segmentation model returning arrays of any dtype, shape or value, or Python values, on the unperturbed image
    or only from a later call, with or without a region: one finite map per class explained, or one
    InputError/ModelError (NothingToExplain where the region covers no output pixel)."""
    isolated(explain_odd_segmenter, first, later, when, method, output, region, targets, clean=CLEAN)


def explain_odd_segmenter(first, later, when: int, method: tuple[str, dict], output: str, region, targets) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        task = peephole.tasks.Segmentation(region=region)
        e = peephole.explain(odd_segmenter(first, later, when), IMG, method[0], task=task, output=output, targets=targets,
                             **method[1])  # fmt: skip
    check_result(e, IMG.shape[:2])
    assert e.extras["regions"].ndim == 2 and e.scores.shape[1] == len(e.probabilities)


# --- the command line ------------------------------------------------------------------------------------------------
EXPLAIN_FLAGS = {
    "--size": ["-5", "0", "1", "16", "32", "x"],
    "--top-k": ["0", "1", "2", "9", "-1"],
    "--radius": ["1", "3", "0", "99"],
    "--stride": ["1", "4", "0", "2.5"],
    "--batch-size": ["1", "0", "7"],
    "--seed": ["0", "-1", "99999999999999999999"],
    "--method": ["pami", "occlusion", "lime", "rise", "nosuch", "saliency"],
    "--partition": ["window", "superpixels", "x"],
    "--masker": ["black", "blur", "grey", "nope"],
    "--window": ["square", "circle", "3", "x"],
    "--target": ["0", "2", "red", "99", "-1"],
    "--output": ["probs", "logits"],
    "--modality": ["image", "text", "sequence"],
    "--model": ["runs_fixtures:nothing", "no.such:f"],
    "--task": ["classification", "detection", "segmentation", "x"],
    "--threshold": ["0", "0.5", "nan", "-1", "x"],
    "--segments": ["instance", "panoptic", "semantic"],
    "--template": ["a {}", "{}{}", "", "x"],
    "--query": ["cat", ""],
    "--no-crop": None,
    "--figure": None,
    "--second-run": None,
}
RUN_FLAGS = {
    "--size": ["-5", "0", "16", "32"],
    "--top-k": ["0", "1", "2", "x"],
    "--targets": ["predicted", "true", "0,2", "9", "x"],
    "--method": ["pami", "occlusion", "nosuch"],
    "--option": ["radius=3", "stride=x", "radius=[1]", "noequals", "n_samples=3"],
    "--batch-size": ["1", "0"],
    "--seed": ["-1", "3"],
    "--column": ["path", "nope"],
    "--metrics": ["insertion", "bogus"],
    "--export": ["{out}/table.csv", "{out}/table.bad"],  # under the run's folder, never the working directory
    "--threshold": ["0.5", "inf", "x"],
    "--segments": ["panoptic", "x"],
    "--template": ["a {}", "{}{}"],
    "--report": None,
    "--quiet": None,
}
INPUT_KINDS = {"good", "junk", "missing"}
WINDOW = ["--option", "partition=window", "--option", "radius=4", "--option", "stride=6"]


@st.composite
def argv(draw, flags: dict):
    out = []
    for flag, values in draw(st.lists(st.sampled_from(sorted(flags.items())), max_size=4)):
        out += [flag] if values is None else [flag, draw(st.sampled_from(values))]
    return out


@pytest.fixture(scope="module")
def cli_inputs(tmp_path_factory) -> dict[str, Path]:
    from runs_fixtures import write_images

    folder = tmp_path_factory.mktemp("cli")
    images = write_images(folder / "images", 2, size=(24, 28))
    (folder / "images" / "junk.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (folder / "list.csv").write_text("path,label\n" + "\n".join(f"{p},red" for p in images) + "\nmissing.png,dark\n")
    (folder / "empty.csv").write_text("path\n")
    return {"good": images[0], "junk": folder / "images" / "junk.png", "folder": folder / "images", "csv": folder / "list.csv",
            "empty": folder / "empty.csv", "missing": folder / "missing.png", "out": folder}  # fmt: skip


def cli(args: list[str]) -> tuple[int, str]:
    """``peephole ARGS`` in this process: its exit code (returned or raised by argparse) and its stderr."""
    from peephole.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            code = main(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
    return code, err.getvalue()


def check_cli(args: list[str]) -> None:
    """Exit 0 (done), 1 (some inputs or items failed; ``peephole explain`` prints an ``error:`` line for each) or 2
    (nothing done: one ``error:`` line); never a traceback."""
    code, err = cli(args)
    errors = [line for line in err.splitlines() if "error:" in line]
    assert "Traceback" not in err, err
    assert code in (0, 1, 2), (code, err)
    assert (code != 0 or not errors) and (code != 2 or len(errors) == 1), (code, err)
    if args[0] in ("explain", "explain-text"):  # each failed input has its line (a run lists failed items in its summary)
        assert (code == 1) <= bool(errors), (code, err)


@settings(FUZZ, max_examples=examples(20))
@given(
    inputs=st.lists(st.sampled_from(["good", "junk", "missing"]), min_size=1, max_size=3),
    flags=argv(EXPLAIN_FLAGS),
    n=st.integers(),
)
def test_fuzz_the_explain_command(cli_inputs, inputs, flags, n):
    out = cli_inputs["out"] / f"explain-{n % 10**9}"
    base = ["--model", "runs_fixtures:make_toy", "--size", "24", "--method", "pami", "--partition", "window", "--radius", "4"]
    isolated(check_cli, ["explain", *map(str, (cli_inputs[i] for i in inputs)), *base, *flags, "--out", str(out)])


@settings(FUZZ, max_examples=examples(10))
@given(data=st.sampled_from(["folder", "csv", "empty", "missing"]), flags=argv(RUN_FLAGS), n=st.integers())
def test_fuzz_the_run_command(cli_inputs, data, flags, n):
    out = cli_inputs["out"] / f"run-{n % 10**9}"
    base = ["--model", "runs_fixtures:make_toy", "--size", "24", "--method", "pami", *WINDOW, "--quiet"]
    flags = [f.replace("{out}", str(out.parent)) for f in flags]
    isolated(check_cli, ["run", str(cli_inputs[data]), "--out", str(out), *base, *flags])


EXPLAIN_TEXT_FLAGS = {
    "--method": ["pami", "occlusion", "lime", "nosuch"],
    "--partition": ["words", "windows", "phrases", "x"],
    "--masker": ["drop", "[MASK]", ""],
    "--target": ["0", "1", "positive", "9"],
    "--top-k": ["0", "1", "2"],
    "--seed": ["0", "-1"],
    "--html": ["{out}/page.html", "{out}"],
    "--no-color": None,
}
#: texts as a shell passes them: paths they are not, colons, slashes, 5,000 characters, control characters
CLI_TEXTS = st.one_of(
    TEXTS,
    st.sampled_from(["a/b: good film", "skimage:chelsea", "C:\\x good", "./", "good:" * 60, "/" * 300, "good " * 1000]),
)


@settings(FUZZ, max_examples=examples(20))
@given(texts=st.lists(CLI_TEXTS.filter(lambda t: "\0" not in t), min_size=1, max_size=2), flags=argv(EXPLAIN_TEXT_FLAGS),
       n=st.integers())  # fmt: skip
def test_fuzz_the_explain_text_command(cli_inputs, texts, flags, n):
    """``peephole explain-text`` on any text a shell can pass: a text too long to be a file name raised OSError."""
    out = cli_inputs["out"] / f"text-{n % 10**9}"
    flags = [f.replace("{out}", str(out)) for f in flags]
    isolated(check_cli, ["explain-text", *texts, "--model", "runs_fixtures:make_text_toy", *flags, "--out", str(out)])


@pytest.mark.parametrize("option", ["out=x", "targets=[0]", "model=null", "seed=1"])
def test_run_option_that_names_a_flag(cli_inputs, option):
    out = cli_inputs["out"] / f"run-option-{option.split('=')[0]}"
    base = ["--model", "runs_fixtures:make_toy", "--size", "24", "--method", "pami", *WINDOW, "--quiet", "--option", option]
    isolated(check_cli, ["run", str(cli_inputs["folder"]), "--out", str(out), *base])


# --- option dicts for every registered method ---------------------------------------------------------------------
ODD_VALUES = st.sampled_from(
    [None, True, False, -1, 0, 1, 2, 5, 1.5, -0.5, float("nan"), float("inf"), "6", "slic", "", "[MASK]", [None], [1, 2]]
    + [[], {}, {"a": 1}, np.int64(3), np.float32(0.5), np.array([1, 2]), b"x", 2**40, -(2**63), 1e300, "circle", "mean"]
)
SEEDS = st.sampled_from([0, 7, 2**40, 2**63 - 1, 2**63, -1, None, 1.5, "1", True, np.uint64(5)])
COMMON_KEYS = ["targets", "top_k", "batch_size", "seed", "output", "class_names", "progress", "allow_large", "device", "task"]
#: Options whose value is a count of queries or samples: drawn small (a valid million samples would run for hours),
#: or beyond ``MAX_PARTS`` (4,194,304: every method refuses such a count before any work, or bounds it by its parts).
COUNTS = {"n_samples", "n_masks", "n_designs", "max_queries", "n_segments", "n_iter", "fidelity_samples", "n_steps", "candidates"}


@st.composite
def method_and_options(draw):
    contract = pytest.importorskip("test_registry_contract")  # torch: the gradient methods' tiny CNN
    name, modality = draw(st.sampled_from(contract.CASES))
    valid = sorted(peephole.registry.METHODS[name].options(get_modality(modality)))
    keys = draw(st.lists(st.sampled_from([*valid, *COMMON_KEYS, "radiuss", "n-samples", ""]), min_size=1, max_size=3))
    options = {}
    for k in keys:
        v = draw(SEEDS if k == "seed" else ODD_VALUES)
        small = k in COUNTS and isinstance(v, int) and not isinstance(v, bool) and v <= MAX_PARTS
        options[k] = min(v, 9) if small else v
    return name, modality, options


@settings(FUZZ, max_examples=examples(50))
@given(drawn=method_and_options())
def test_fuzz_option_dicts_for_every_method(drawn):
    """Any option dict (valid names or not, values of any type) for any registered method on any of its modalities:
    a result that passes the invariants, or one InputError naming the option."""
    isolated(explain_with_options, *drawn, clean=CLEAN)


def explain_with_options(name: str, modality: str, options: dict) -> None:
    from test_registry_contract import case

    model, x, kw, shape = case(name, modality)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = peephole.explain(model, x, name, **{**kw, **options})
    check_result(e, shape)
