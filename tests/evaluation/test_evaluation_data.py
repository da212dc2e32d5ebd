"""The benchmark's folder readers on a user's own folders: a damaged row, line, label file or photo leaves that item
out with a warning naming it, and the others are scored; a table that cannot be read is one InputError. Each of these
stopped ``peephole benchmark`` with a traceback (ValueError, KeyError, UnicodeDecodeError) or its first missing photo's
error."""

from __future__ import annotations

import numpy as np
import pytest
from imagenet_fixtures import cat_dog_logits, write_coco_boxes, write_imagenet_sample

from peephole.errors import InputError
from peephole.evaluation import MapMaker, run_insertion_deletion, run_pointing
from peephole.evaluation.card import coco_samples, folder_samples
from peephole.evaluation.data import read_coco_boxes, read_imagenet_sample
from peephole.models.callable import CallableModel

S = 32


def region_mean(batch):
    p = np.asarray(batch)[:, 8:16, 16:28, 0].mean(axis=(1, 2))
    return np.stack([1 - p, p], axis=1)


@pytest.fixture
def folder(tmp_path):
    """Four rows: a.png (class 1), a row with class 'x', a missing photo, c.png (class 1); with a byte-order mark."""
    img = np.zeros((S, S, 3), np.uint8)
    img[..., 0] = 230
    root = write_imagenet_sample(tmp_path / "inet", [("a.png", img, 1, "thing"), ("c.png", img, 1, "thing")])
    (root / "labels.csv").write_text(
        "\ufefffile,class_index,wnid,name\na.png,1,n0,thing\nb.png,x,n0,thing\nmissing.png,1,n0,thing\nc.png,1,n0,thing\n",
        encoding="utf-8",
    )
    return root


def test_a_bad_row_is_left_out_by_line_and_the_splits_keep_their_rows(folder):
    with pytest.warns(UserWarning, match=r"labels.csv:3: left out: file 'b.png', class_index 'x'"):
        rows = read_imagenet_sample(folder)
    assert [(r.path.name, r.label) for r in rows] == [("a.png", 1), ("missing.png", 1), ("c.png", 1)]
    assert [r.path.name for r in read_imagenet_sample(folder, "dev")] == ["a.png", "missing.png"]  # rows 1 and 3
    with pytest.warns(UserWarning, match="labels.csv:3"):
        assert [r.path.name for r in read_imagenet_sample(folder, "test")] == ["c.png"]  # row 4 (row 2 was b.png)


def test_a_table_that_cannot_be_read_or_lacks_a_column_is_one_input_error(folder):
    (folder / "labels.csv").write_bytes(b"file,class_index\n\xff\xfe.png,1\n")
    with pytest.raises(InputError, match=r"labels.csv: cannot be read as UTF-8 \(byte 0xff at offset 17\)"):
        read_imagenet_sample(folder)
    (folder / "labels.csv").write_text("path,label\na.png,1\n")
    with pytest.raises(InputError, match="needs the columns file, class_index; it has path, label"):
        read_imagenet_sample(folder)


def test_a_missing_photo_is_left_out_and_the_others_are_scored(folder, tmp_path):
    maker = MapMaker(options={"occlusion": {"radius": 4, "stride": 4}}, _models={"onnx": CallableModel(region_mean, "probs")})
    with pytest.warns(UserWarning, match=r"missing.png: left out: no such file"):
        table = run_insertion_deletion(folder, ["occlusion"], tmp_path / "out", maker=maker, size=S, step=16, progress=False)
    assert table[0]["n"] == 2  # a.png and c.png
    with pytest.warns(UserWarning, match=r"missing.png: left out"):
        assert [s.name for s in folder_samples(folder, None, size=S)] == ["a.png", "c.png"]


def test_coco_labels_read_yolo_outlines_as_boxes_and_leave_out_photos_with_bad_lines(tmp_path):
    """A YOLO segment's outline is its bounding box; a line of another form, a class not in classes.csv or a label
    file that is not UTF-8 leaves its photo out (named by file and line); the other photos are read."""
    lines = {
        "box.jpg": "0 0.5 0.5 0.2 0.2\n",
        "outline.jpg": "0 0.1 0.2 0.3 0.2 0.2 0.6\n",
        "short.jpg": "0 0.5 0.5\n",
        "unknown.jpg": "7 0.5 0.5 0.2 0.2\n",
        "words.jpg": "0 0.5 half 0.2 0.2\n",
    }
    root = write_coco_boxes(tmp_path, (40, 40), "0,cat\n", lines)
    (root / "images" / "binary.jpg").write_bytes((root / "images" / "box.jpg").read_bytes())
    (root / "labels" / "binary.txt").write_bytes(b"\xff\xfe0 0.5")
    with pytest.warns(UserWarning) as caught:
        photos = {p.path.name: p.boxes for p in read_coco_boxes(root)}
    assert photos == {"box.jpg": {"cat": [pytest.approx((0.4, 0.4, 0.6, 0.6))]},
                      "outline.jpg": {"cat": [pytest.approx((0.1, 0.2, 0.3, 0.6))]}}  # fmt: skip
    said = " ".join(str(w.message) for w in caught)
    for name in ("short.txt:1", "unknown.txt:1", "words.txt:1", "binary.txt:1: left out: cannot be read"):
        assert name in said
    (root / "classes.csv").write_text("class_id,name\n0,cat\n0,dog\n")
    with pytest.raises(InputError, match=r"classes.csv:3: class_id '0' is no integer or repeats one"):
        read_coco_boxes(root)


def test_an_unreadable_coco_photo_is_left_out_of_the_pointing_game(tmp_path):
    root = write_coco_boxes(tmp_path, (40, 40), "0,cat\n", {"x.jpg": "0 0.5 0.5 0.2 0.2\n", "y.jpg": "0 0.5 0.5 0.2 0.2\n"})
    (root / "images" / "y.jpg").write_bytes(b"not a jpeg")
    maker = MapMaker(_models={"onnx": CallableModel(cat_dog_logits, "logits")})
    with pytest.warns(UserWarning, match=r"y.jpg: left out"):
        table = run_pointing(root, ["centre"], tmp_path / "out", maker=maker, size=S, progress=False)
    assert table[0]["trials"] == 1  # x.jpg's cat
    with pytest.warns(UserWarning, match=r"y.jpg: left out"):
        assert [s.name for s in coco_samples(root, CallableModel(cat_dog_logits, "logits"), None, size=S)] == ["x.jpg:cat"]
