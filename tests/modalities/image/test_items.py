"""The image modality's dataset readers and item loading (Modality.read_items / holds / load_item)."""

from __future__ import annotations

import numpy as np
import pytest
from runs_fixtures import TOY, ToyImageModel, write_images

import peephole
from peephole.errors import InputError
from peephole.modalities import get_modality
from peephole.modalities.items import NotThisKind

IMAGE = get_modality("image")


def test_a_folder_and_a_csv_of_paths(tmp_path):
    write_images(tmp_path / "d", 3)
    assert [i.id for i in IMAGE.read_items(tmp_path / "d")] == ["img000.png", "img002.png", "sub/img001.png"]
    (tmp_path / "l.csv").write_text("file,class\nd/img000.png,red\n")
    (item,) = IMAGE.read_items(tmp_path / "l.csv")
    assert item.id == "000001:d/img000.png" and item.label == "red" and item.source == str((tmp_path / "d/img000.png").resolve())


def test_what_is_not_images_is_left_to_another_modality(tmp_path):
    (tmp_path / "s.csv").write_text("review\na fine film\n")
    with pytest.raises(NotThisKind, match="name the column"):
        IMAGE.read_items(tmp_path / "s.csv")
    with pytest.raises(NotThisKind, match="does not hold image paths"):
        IMAGE.read_items(tmp_path / "s.csv", column="review")
    assert len(IMAGE.read_items(tmp_path / "s.csv", column="review", asked=True)) == 1  # asked: read as paths
    with pytest.raises(NotThisKind, match="no images found"):
        IMAGE.read_items(tmp_path)
    with pytest.raises(InputError, match="no column 'nope'"):
        IMAGE.read_items(tmp_path / "s.csv", column="nope")


def test_items_are_loaded_at_the_work_size():
    assert IMAGE.resizes and IMAGE.holds(np.zeros((4, 5, 3))) and not IMAGE.holds("a.png") and not IMAGE.holds(np.zeros(5))
    x = IMAGE.load_item(np.full((40, 60, 3), 255, np.uint8), size=20)
    assert x.shape == (20, 20, 3) and x.dtype == np.float32 and x.max() == 1.0
    assert IMAGE.load_item(np.zeros((40, 60)), size=20, crop=False).shape == (20, 30, 3)
    assert IMAGE.load_item("skimage:chelsea", size=32).shape == (32, 32, 3)


def test_a_folder_of_class_sub_folders_is_labelled_by_them(tmp_path):
    for cls in ("red", "dark"):
        write_images(tmp_path / "d" / cls, 1, size=(16, 16))
    items = IMAGE.read_items(tmp_path / "d")
    assert [(i.id, i.label) for i in items] == [("dark/img000.png", "dark"), ("red/img000.png", "red")]
    write_images(tmp_path / "d", 1, size=(16, 16))  # one image outside a class folder: no labels at all
    assert all(i.label is None for i in IMAGE.read_items(tmp_path / "d"))


def test_a_folder_holds_every_picture_format_pillow_reads_and_counts_the_ones_it_cannot(tmp_path):
    """A browser's .jfif, an .avif or .jpe were left out of a folder without a word, as were camera raw files."""
    from PIL import Image

    (tmp_path / "d").mkdir()
    for name, fmt in (("a.jfif", "JPEG"), ("b.jpe", "JPEG"), ("c.avif", "AVIF"), ("d.tga", "TGA"), ("e.png", "PNG")):
        Image.new("RGB", (8, 6), (0, 90, 200)).save(tmp_path / "d" / name, format=fmt)
    (tmp_path / "d" / "raw.cr2").write_bytes(b"II*\x00raw")
    (tmp_path / "d" / "raw.nef").write_bytes(b"MM\x00*raw")
    with pytest.warns(UserWarning, match=r"left out 2 pictures Peephole cannot read \(1 .cr2, 1 .nef: camera raw"):
        items = IMAGE.read_items(tmp_path / "d")
    assert [i.id for i in items] == ["a.jfif", "b.jpe", "c.avif", "d.tga", "e.png"]
    assert all(IMAGE.load_item(i.source).shape == (6, 8, 3) for i in items)


def test_hidden_files_and_a_zips_macosx_folder_are_no_items(tmp_path):
    """A folder copied from a Mac holds ``._photo.jpg`` twins (Finder metadata, no picture) and a zip's ``__MACOSX``:
    each was an item that failed, half the run."""
    write_images(tmp_path / "d", 2)
    for junk in ("._img000.png", "sub/._img001.png", "__MACOSX/d/img000.png", ".ipynb_checkpoints/x.png"):
        (tmp_path / "d" / junk).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "d" / junk).write_bytes(b"\x00\x05\x16\x07Mac OS X        ")
    assert [i.id for i in IMAGE.read_items(tmp_path / "d")] == ["img000.png", "sub/img001.png"]


def test_links_to_class_folders_are_followed_once_and_a_link_above_cannot_loop(tmp_path):
    """A subset made of symbolic links to a dataset's class folders had "no images" (rglob does not follow them)."""
    write_images(tmp_path / "full" / "red", 2)
    (tmp_path / "subset").mkdir()
    (tmp_path / "subset" / "red").symlink_to(tmp_path / "full" / "red", target_is_directory=True)
    (tmp_path / "full" / "red" / "up").symlink_to(tmp_path / "subset", target_is_directory=True)  # a loop
    items = IMAGE.read_items(tmp_path / "subset")
    assert [(i.id, i.label) for i in items] == [("red/img000.png", "red"), ("red/sub/img001.png", "red")]


def test_a_csv_written_on_windows_names_its_images_with_backslashes(tmp_path):
    write_images(tmp_path / "d", 2)
    (tmp_path / "l.csv").write_text("path,label\nd\\sub\\img001.png,red\nd/img000.png,red\n")
    items = IMAGE.read_items(tmp_path / "l.csv")
    assert items[0].id == "000001:d/sub/img001.png" and items[0].source == str((tmp_path / "d/sub/img001.png").resolve())
    assert IMAGE.load_item(items[0].source).shape == (40, 48, 3)
    (tmp_path / "d" / "odd\\name.png").write_bytes((tmp_path / "d" / "img000.png").read_bytes())  # a real backslash
    (tmp_path / "m.csv").write_text("path\nd/odd\\name.png\n")
    assert IMAGE.read_items(tmp_path / "m.csv")[0].source == str((tmp_path / "d" / "odd\\name.png").resolve())


def test_an_array_of_images_is_a_dataset_when_images_are_asked_for(tmp_path):
    """CIFAR- or MNIST-style arrays (N×H×W×C, N×C×H×W, N×H×W) saved with their labels: an image model's run had
    "no image inputs"; unasked, an array stays a sequence dataset."""
    from peephole.batch import open_dataset

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "cifar.npz", x=(rng.random((3, 32, 32, 3)) * 255).astype(np.uint8), y=np.array([2.0, 0.0, 1.0]))
    items = IMAGE.read_items(tmp_path / "cifar.npz", asked=True)
    assert [i.label for i in items] == ["2", "0", "1"] and len({i.id for i in items}) == 3
    assert IMAGE.load_item(items[0].source, size=16).shape == (16, 16, 3)
    run = peephole.run(ToyImageModel(), tmp_path / "cifar.npz", out=tmp_path / "run", targets="true", progress=False, **TOY)
    assert run.complete()["done"] == 3  # an image model asks for images
    np.save(tmp_path / "chw.npy", rng.random((2, 3, 20, 24)).astype(np.float32))
    assert IMAGE.load_item(IMAGE.read_items(tmp_path / "chw.npy", asked=True)[1].source).shape == (20, 24, 3)
    np.save(tmp_path / "mnist.npy", (rng.random((4, 28, 28)) * 255).astype(np.uint8))
    assert open_dataset(tmp_path / "mnist.npy", modality="image").items[3].source.shape == (28, 28)
    assert open_dataset(tmp_path / "mnist.npy").modality == "sequence"  # not asked: a sequence dataset as before
    np.save(tmp_path / "flat.npy", np.zeros((4, 5)))
    with pytest.raises(InputError, match=r"shape \(4, 5\); images are N×H×W"):
        IMAGE.read_items(tmp_path / "flat.npy", asked=True)
    np.savez(tmp_path / "odd.npz", a=np.zeros((2, 8, 8)), b=np.zeros((2, 8, 8)))
    with pytest.raises(InputError, match="no array of images"):
        IMAGE.read_items(tmp_path / "odd.npz", asked=True)
