"""Fixtures of the report tests: an image run (labels, a corrupt file, a file named like HTML), a text run and a
detection run."""

from __future__ import annotations

import pytest
from runs_fixtures import EVIL, EVIL_NAME, TOY, ToyImageModel, make_square_detector, make_text_toy, write_images, write_squares

import peephole


@pytest.fixture
def image_run(tmp_path):
    write_images(tmp_path / "data", 5)
    (tmp_path / "data" / "broken.png").write_bytes(b"junk </table><script>x</script>")
    write_images(tmp_path / "x", 1, seed=9)
    (tmp_path / "x" / "img000.png").rename(tmp_path / "data" / EVIL_NAME)
    names = ["img000.png", "sub/img001.png", "img002.png", "sub/img003.png", "img004.png", "broken.png", EVIL_NAME]
    labels = ["red", "0", "1", "2", "bright", "dark", "red"]
    (tmp_path / "labels.csv").write_text("path,label\n" + "".join(f"data/{p},{c}\n" for p, c in zip(names, labels)))
    run = peephole.run(ToyImageModel(), tmp_path / "labels.csv", out=tmp_path / "run", progress=False, model_name="toy", **TOY)
    run.complete()
    return tmp_path / "run"


@pytest.fixture
def text_run(tmp_path):
    (tmp_path / "s.txt").write_text(f"good good film\n{EVIL}\nbad & worse <b>plot</b>\n")
    peephole.run(make_text_toy(), tmp_path / "s.txt", out=tmp_path / "trun", progress=False, model_name="toy-text").complete()
    return tmp_path / "trun"


@pytest.fixture
def folder_run(tmp_path):
    """A folder of class sub-folders (the ImageFolder convention): labelled by them, some items misclassified."""
    for k, cls in enumerate(ToyImageModel.class_names):
        write_images(tmp_path / "classes" / cls, 2, seed=k)
    run = peephole.run(ToyImageModel(), tmp_path / "classes", out=tmp_path / "frun", progress=False, model_name="toy", **TOY)
    run.complete()
    return tmp_path / "frun"


@pytest.fixture
def detection_run(tmp_path):
    """A toy detector's run: one image with two boxes, one with one."""
    write_squares(tmp_path / "boxes", {"both.png": (0, 1), "block.png": (1,)})
    settings = {**TOY, "radius": 4, "stride": 4, "window": "square", "top_k": 1}
    peephole.run(
        make_square_detector(), tmp_path / "boxes", out=tmp_path / "drun", progress=False, model_name="sq", **settings
    ).complete()
    return tmp_path / "drun"
