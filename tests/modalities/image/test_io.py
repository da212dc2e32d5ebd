"""Reading images: documented conversions and one clear error per bad file."""

import warnings

import numpy as np
import pytest
from PIL import Image

from peephole.errors import InputError
from peephole.modalities.image.io import load_image, resize, to_rgb_float
from peephole.modalities.image.samples import SAMPLES, sample_image


def test_grayscale_rgba_and_16_bit_files(tmp_path):
    rng = np.random.default_rng(0)
    gray = (rng.random((20, 30)) * 255).astype(np.uint8)
    Image.fromarray(gray).save(tmp_path / "g.png")
    x = load_image(tmp_path / "g.png")
    assert x.shape == (20, 30, 3) and x.dtype == np.float32
    np.testing.assert_allclose(x[..., 1], gray / 255, atol=1e-6)

    rgba = (rng.random((20, 30, 4)) * 255).astype(np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    np.testing.assert_allclose(load_image(tmp_path / "a.png"), rgba[..., :3] / 255, atol=1e-6)  # alpha dropped

    g16 = (rng.random((20, 30)) * 65535).astype(np.uint16)
    Image.fromarray(g16).save(tmp_path / "g16.png")
    np.testing.assert_allclose(load_image(tmp_path / "g16.png")[..., 0], g16 / 65535, atol=1e-6)


def test_array_conversions():
    assert to_rgb_float(np.zeros((4, 5), np.uint16)).shape == (4, 5, 3)
    assert to_rgb_float(np.ones((4, 5, 1), bool)).max() == 1
    np.testing.assert_allclose(to_rgb_float(np.full((2, 2, 3), 65535, np.uint16)), 1.0)
    with pytest.raises(InputError, match=r"float pixels must lie in \[0, 1\]"):
        to_rgb_float(np.full((4, 4, 3), 255.0))
    with pytest.raises(InputError, match="NaN"):
        to_rgb_float(np.full((4, 4, 3), np.nan))
    with pytest.raises(InputError, match="expected H×W"):
        to_rgb_float(np.zeros((4, 4, 5)))
    with pytest.raises(InputError, match="no pixels"):
        to_rgb_float(np.zeros((0, 4, 3)))
    with pytest.raises(InputError, match="unsupported pixel type"):
        to_rgb_float(np.zeros((4, 4, 3), np.int64))


def test_bad_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_image(tmp_path / "missing.jpg")
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(InputError, match="not an image file"):
        load_image(tmp_path / "notes.txt")
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(tmp_path / "ok.jpg")
    data = (tmp_path / "ok.jpg").read_bytes()
    (tmp_path / "truncated.jpg").write_bytes(data[: len(data) // 3])
    with pytest.raises(InputError, match="corrupt or truncated"):
        load_image(tmp_path / "truncated.jpg")
    with pytest.raises(InputError, match="is a directory"):
        load_image(tmp_path)


def test_resize_and_crop():
    img = np.random.default_rng(0).random((300, 451, 3)).astype(np.float32)
    assert resize(img, 224).shape == (224, 224, 3)
    assert resize(img, 224, crop=False).shape == (224, 337, 3)


@pytest.mark.parametrize("spec", SAMPLES)
def test_shipped_photos(spec):
    img = sample_image(spec)
    assert img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.uint8 and min(img.shape[:2]) >= 200
    with pytest.raises(InputError, match="unknown sample photo"):
        sample_image("skimage:unicorn")


def pure_red(mode: str) -> Image.Image:
    red = Image.new("RGB", (6, 4), (255, 0, 0))
    if mode == "LAB":
        from PIL import ImageCms

        return ImageCms.profileToProfile(red, ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB"), outputMode="LAB")
    return red.convert(mode)


@pytest.mark.parametrize(("mode", "ext"), [("CMYK", "jpg"), ("CMYK", "tif"), ("LAB", "tif"), ("YCbCr", "tif")])
def test_other_colour_spaces_are_converted_to_rgb(tmp_path, mode, ext):
    """Pure red used to load as cyan (CMYK) or garbage (LAB, YCbCr): the channels were read as if RGB."""
    path = tmp_path / f"red.{ext}"
    pure_red(mode).save(path, quality=100) if ext == "jpg" else pure_red(mode).save(path)
    assert Image.open(path).mode == mode
    x = load_image(path)
    np.testing.assert_allclose(x.mean(axis=(0, 1)), [1, 0, 0], atol=0.05)


def png_header_only(path, width, height):
    """A valid PNG whose header claims ``width``×``height`` pixels (a decompression bomb's first bytes)."""
    import struct
    import zlib

    Image.new("L", (1, 1)).save(path)
    data = bytearray(path.read_bytes())
    ihdr = bytes(data[12:16]) + struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(ihdr))
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("side", [10_000, 20_000])
def test_decompression_bombs_are_refused_before_decoding(tmp_path, side):
    """10000² (above Pillow's warning limit) used to decode to 4.3 GB; 20000² raised an uncaught Pillow error."""
    png_header_only(tmp_path / "bomb.png", side, side)
    with pytest.raises(InputError, match="decoding limit"):
        load_image(tmp_path / "bomb.png")


def test_large_images_are_fitted_to_the_work_size_with_a_warning_unless_allowed(tmp_path):
    from peephole.modalities.image.io import MAX_WORK_PIXELS

    Image.new("RGB", (2400, 1200), (10, 200, 30)).save(tmp_path / "big.png")
    with pytest.warns(UserWarning, match=r"2400.*MB \(a batch of 16.*allow_large"):
        x = load_image(tmp_path / "big.png")
    assert x.shape[0] * x.shape[1] <= MAX_WORK_PIXELS and abs(x.shape[1] / x.shape[0] - 2) < 0.01
    assert load_image(tmp_path / "big.png", allow_large=True).shape == (1200, 2400, 3)
    assert load_image(tmp_path / "big.png", size=224).shape == (224, 224, 3)  # a requested size needs no warning


@pytest.mark.parametrize("size", [0, -5])
def test_a_size_below_one_pixel_is_an_input_error(size):
    with pytest.raises(InputError, match="size must be >= 1"):
        load_image("skimage:chelsea", size=size)


def test_urls_are_not_fetched():
    with pytest.raises(InputError, match="URLs are not fetched"):
        load_image("https://example.com/cat.jpg")


# --- Sizes are bounded before anything is resized; only regular files are opened ---------------------


def peak_bytes(fn, *args, **kwargs):
    """What ``fn`` returns and the most bytes numpy and OpenCV held at once while it ran (tracemalloc)."""
    import tracemalloc

    tracemalloc.start()
    try:
        return fn(*args, **kwargs), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("width", [3000, 20_000])
def test_a_thin_strip_is_centre_cropped_before_it_is_resized(width):
    """A 1×3000 strip at size 224 used to become 224×672,000 float32 (1.7 GB) before the crop; 1×20000 asked
    12 GB and raised cv2.error. The crop is taken from the source first: the output's size, a few MB at most."""
    strip = np.random.default_rng(0).random((1, width, 3), dtype=np.float32)
    out, peak = peak_bytes(resize, strip, 224)
    assert out.shape == (224, 224, 3) and peak < 8 * 2**20
    np.testing.assert_allclose(out, np.broadcast_to(strip[0, width // 2 - 1][None, None], out.shape), atol=1e-6)  # its centre


def test_a_strip_resized_without_the_crop_is_fitted_to_the_work_size_with_a_warning():
    from peephole.modalities.image.io import MAX_WORK_PIXELS

    strip = np.random.default_rng(0).random((3, 20_000, 3), dtype=np.float32)
    with pytest.warns(UserWarning, match=r"224×1493333 pixels is above the maximum work size"):
        out, peak = peak_bytes(resize, strip, 224, crop=False)
    assert out.shape[0] * out.shape[1] <= MAX_WORK_PIXELS and out.shape[1] / out.shape[0] == pytest.approx(20_000 / 3, rel=0.15)
    assert peak < 3 * MAX_WORK_PIXELS * 4 * 2  # the fitted output (and OpenCV's copy), never 224×1,493,333
    with pytest.raises(InputError, match="above the limit"):  # allow_large insists, up to the decoding limit
        resize(np.zeros((1, 500_000, 3), np.float32), 224, crop=False, allow_large=True)
    assert resize(strip[:, :1000], 224, crop=False, allow_large=True).shape == (224, 74667, 3)


@pytest.mark.parametrize(
    ("shape", "fitted"), [((1, 500_000), (1, 409_600)), ((500_000, 2), (320_000, 1)), ((700, 900), (564, 725))]
)
def test_the_work_size_fit_keeps_within_the_bound_even_for_a_one_pixel_side(shape, fitted):
    """1×500000 used to be "fitted" to 1×452,548 (above the 409,600-pixel bound): the side held at one pixel."""
    from peephole.modalities.image.io import MAX_WORK_PIXELS, fit_work_size

    with pytest.warns(UserWarning, match="maximum work size"):
        out = fit_work_size(np.zeros((*shape, 3), np.float32))
    assert out.shape[:2] == fitted and out.shape[0] * out.shape[1] <= MAX_WORK_PIXELS


def test_a_fifo_named_like_an_image_is_refused_before_it_is_opened(tmp_path):
    """Opening a FIFO blocks until something writes to it: load_image used to hang forever."""
    import os
    import threading

    fifo = tmp_path / "photo.png"
    os.mkfifo(fifo)
    got: list[BaseException] = []
    reader = threading.Thread(target=lambda: got.append(pytest.raises(InputError, load_image, fifo).value), daemon=True)
    reader.start()
    reader.join(20)
    if reader.is_alive():  # it hangs in open(): give it a writer so the thread ends, then fail
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("load_image blocked on a FIFO")
    assert len(got) == 1 and "is a FIFO (named pipe), not a regular file" in str(got[0])


def test_a_device_and_a_directory_are_one_input_error_each(tmp_path):
    with pytest.raises(InputError, match="is a device, not a regular file"):
        load_image("/dev/null")
    with pytest.raises(InputError, match="is a directory"):
        load_image(tmp_path)


@pytest.mark.parametrize(("ext", "fmt"), [(".gif", "GIF"), (".png", "PNG"), (".webp", "WEBP"), (".tiff", "TIFF")])
def test_a_file_of_several_frames_is_read_at_its_first_with_a_warning(tmp_path, ext, fmt):
    """An animation or a multi-page file: the first frame was explained without a word."""
    frames = [Image.new("RGB", (16, 12), c) for c in ((200, 0, 0), (0, 200, 0), (0, 0, 200))]
    frames[0].save(tmp_path / f"f{ext}", format=fmt, save_all=True, append_images=frames[1:])
    with pytest.warns(UserWarning, match="holds 3 frames .* explaining the first"):
        x = load_image(tmp_path / f"f{ext}")
    assert x.shape == (12, 16, 3) and x[..., 0].mean() > 0.7 and x[..., 1:].max() < 0.1


def test_a_camera_mpo_file_is_read_without_a_warning(tmp_path):
    """An MPO (a camera's JPEG with its previews or second view) is one picture: its first frame, no warning."""
    frames = [Image.new("RGB", (16, 12), (200, 0, 0)), Image.new("RGB", (8, 6), (0, 0, 200))]
    frames[0].save(tmp_path / "p.jpg", format="MPO", save_all=True, append_images=frames[1:])
    with Image.open(tmp_path / "p.jpg") as im:
        assert im.format == "MPO" and im.n_frames == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_image(tmp_path / "p.jpg").shape == (12, 16, 3)


def test_a_heic_photo_is_read_through_pillow_heif(tmp_path, monkeypatch):
    """An iPhone's HEIC photo was "not an image file"; with the heic extra it loads, without it the error says how."""
    import pillow_heif

    from peephole.modalities.image import io

    pillow_heif.from_pillow(Image.new("RGB", (16, 12), (200, 0, 0))).save(tmp_path / "p.heic")  # not registered
    x = load_image(tmp_path / "p.heic")
    assert x.shape == (12, 16, 3) and x[..., 0].mean() > 0.7 and x[..., 1:].max() < 0.1
    monkeypatch.setattr(io, "heif_opener", lambda: False)  # as without the plugin
    monkeypatch.setattr(io.Image, "open", lambda p: (_ for _ in ()).throw(io.UnidentifiedImageError("no plugin")))
    with pytest.raises(InputError, match=r"a HEIC/HEIF photo, which Pillow reads with the pillow-heif plugin"):
        load_image(tmp_path / "p.heic")
