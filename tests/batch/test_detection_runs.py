"""Dataset runs of a detector: every item's boxes, labels and scores stored and loadable, one map per box,
resumable; the built-in Haar face detector end to end from the command line; a real-photo check on ../shared/data."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from runs_fixtures import SQUARES, make_square_detector, squares, write_squares

import peephole
from peephole.cli import main
from peephole.errors import InputError
from peephole.tasks.detection import iou

WINDOW = {"method": "pami", "size": 32, "partition": "window", "radius": 4, "stride": 4, "window": "square"}
ITEMS = {"both.png": (0, 1), "square.png": (0,), "block.png": (1,), "none.png": ()}


def rows(out: Path) -> dict[str, dict]:
    with sqlite3.connect(out / "run.sqlite") as db:
        db.row_factory = sqlite3.Row
        return {r["id"]: dict(r) for r in db.execute("SELECT * FROM items")}


def test_a_detector_run_stores_every_items_boxes_and_one_map_per_box(tmp_path):
    write_squares(tmp_path / "d", ITEMS)
    run = peephole.run(make_square_detector(), tmp_path / "d", out=tmp_path / "run", progress=False, model_name="sq", **WINDOW)
    s = run.complete()
    assert (s["done"], s["failed"], s["nothing_to_explain"]) == (3, 0, 1)
    table = rows(tmp_path / "run")
    assert table["none.png"]["status"] == "skipped" and "found no boxes" in table["none.png"]["error"]
    again = peephole.run(make_square_detector(), tmp_path / "d", out=tmp_path / "run", progress=False, model_name="sq", **WINDOW)
    assert [r.id for r in again] == [] and again.summary["nothing_to_explain"] == 1  # not retried
    for name, ks in ITEMS.items():
        if not ks:
            continue
        e = peephole.load(tmp_path / "run", item=name)
        assert e.task == "detection" and e.targets == list(range(len(ks)))
        np.testing.assert_array_equal(e.extras["boxes"], np.array([SQUARES[k] for k in ks], np.float32))
        np.testing.assert_array_equal(e.extras["labels"], list(ks))
        truth = squares(e.input[None])[0]["scores"]  # the detector's scores on the stored (work-size) input
        np.testing.assert_allclose(e.extras["box_scores"], truth, rtol=1e-5)
        assert e.maps.shape == (len(ks), 32, 32)
        for m, k in zip(e.maps, ks):  # each box's map is highest inside its own box
            x0, y0, x1, y1 = SQUARES[k]
            inside = np.zeros((32, 32), bool)
            inside[y0:y1, x0:x1] = True
            assert m[inside].mean() > m[~inside].mean()
        row = table[name]
        assert row["status"] == "done" and json.loads(row["targets"]) == list(range(len(ks)))
        assert row["prediction_name"] == e.name(int(np.argmax(e.probabilities))) and row["correct"] is None
        assert [t[1] for t in json.loads(row["top"])] == [e.name(int(i)) for i in np.argsort(-e.probabilities, kind="stable")]


def test_a_detector_run_resumes_and_a_plain_callable_takes_task_detection(tmp_path):
    write_squares(tmp_path / "d", {"both.png": (0, 1), "square.png": (0,)})
    out = tmp_path / "run"
    first = peephole.run(squares, tmp_path / "d", out=out, task="detection", progress=False, model_name="sq", **WINDOW)
    assert first.complete()["done"] == 2
    before = peephole.load(out, item="both.png")
    write_squares(tmp_path / "d", {"block.png": (1,)}, seed=3)
    again = peephole.run(squares, tmp_path / "d", out=out, task="detection", progress=False, model_name="sq", **WINDOW)
    explained = [r.id for r in again]
    assert explained == ["block.png"] and again.summary["skipped"] == 2
    np.testing.assert_array_equal(peephole.load(out, item="both.png").maps, before.maps)  # not redone
    np.testing.assert_array_equal(peephole.load(out, item="block.png").extras["labels"], [1])
    # the task is part of the run's settings: resuming as classification is refused, as is targets='true'
    with pytest.raises(InputError, match="other settings"):
        peephole.run(squares, tmp_path / "d", out=out, progress=False, model_name="sq", output="probs", **WINDOW)
    write_squares(tmp_path / "labelled" / "square", {"a.png": (0,)})  # labelled by its sub-folder
    with pytest.raises(InputError, match="targets='true' is for classification"):
        peephole.run(make_square_detector(), tmp_path / "labelled", out=tmp_path / "r2", targets="true", progress=False, **WINDOW)


def astronauts(folder: Path) -> None:
    """The astronaut photo, mirrored, and a flat grey image (no face): generated from scikit-image's data."""
    from PIL import Image
    from skimage.data import astronaut

    folder.mkdir(parents=True)
    Image.fromarray(astronaut()).save(folder / "astronaut.png")
    Image.fromarray(astronaut()[:, ::-1].copy()).save(folder / "mirrored.png")
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(folder / "flat.png")


SLIC = ["--method", "pami", "--option", "partition=slic", "--option", "n_segments=8", "--quiet"]


def test_peephole_run_with_the_haar_face_detector_end_to_end(tmp_path, capsys):
    astronauts(tmp_path / "photos")
    out = tmp_path / "run"
    cmd = ["run", str(tmp_path / "photos"), "--out", str(out), "--model", "haar-face", "--task", "detection", *SLIC]
    assert main(cmd) == 0  # the flat image has no face: skipped (not a failure), the others explained
    assert "2 of 3 items explained, 0 failed, 1 with nothing to explain (no boxes found)" in capsys.readouterr().out
    face = peephole.load(out, item="astronaut.png")
    mirrored = peephole.load(out, item="mirrored.png")
    assert face.task == mirrored.task == "detection" and face.class_names == ["face 0"]
    # the face of the 512-pixel photo (177, 66, 272, 161) at the run's 224 pixels, and mirrored
    expected = np.array([[177, 66, 272, 161]]) * 224 / 512
    assert iou(face.extras["boxes"], expected)[0, 0] > 0.6
    assert (
        iou(mirrored.extras["boxes"], np.array([[224 - expected[0, 2], expected[0, 1], 224 - expected[0, 0], expected[0, 3]]]))[
            0, 0
        ]
        > 0.6
    )
    assert face.extras["box_scores"][0] > 1 and face.extras["labels"][0] == 0
    assert main([*cmd, "--report"]) == 0  # resumed: nothing left to explain (the flat image is not retried)
    printed = capsys.readouterr().out
    assert "2 of 3 items explained, 0 failed, 1 with nothing to explain (no boxes found)" in printed
    assert "(2 done before this session; 0 items" in printed
    assert (out / "report" / "index.html").is_file()


def test_a_failed_items_line_names_its_file_once(tmp_path, capsys):
    write_squares(tmp_path / "d", {"square.png": (0,)})
    (tmp_path / "d" / "broken.png").write_bytes(b"junk")
    out = tmp_path / "run"
    assert (
        main(
            ["run", str(tmp_path / "d"), "--out", str(out), "--model", "runs_fixtures:make_square_detector", "--size", "32"]
            + ["--method", "pami", "--option", "partition=window", "--option", "radius=4"]
        )
        == 1
    )
    printed = capsys.readouterr()
    line = next(ln for ln in (printed.out + printed.err).replace("\r", "\n").splitlines() if ln.startswith("failed:"))
    assert line == "failed: broken.png: not an image file (or an unsupported format)"
    assert str(tmp_path) in rows(out)["broken.png"]["error"]  # the stored error keeps the full path


#: The shared real photos: ../shared/data from the project root, or $PEEPHOLE_DATA.
COCO = Path(os.environ.get("PEEPHOLE_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data")) / "coco-boxes"


#: COCO photos on which the face cascade finds a face at the run's 224 pixels, and one on which it finds none.
FACES, NO_FACE = ("000000000165", "000000000294", "000000000389", "000000000459"), "000000000036"


@pytest.mark.skipif(not COCO.is_dir(), reason="../shared/data/coco-boxes is absent (real photos are not in the repository)")
def test_a_haar_face_run_on_real_photos(tmp_path):
    """Real COCO photos: the faces found are explained with their boxes stored; a photo without one is skipped."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for stem in (*FACES, NO_FACE):
        (photos / f"{stem}.jpg").symlink_to(COCO / "images" / f"{stem}.jpg")
    run = peephole.run("haar-face", photos, "pami", out=tmp_path / "run", progress=False, partition="slic", n_segments=8)
    results = {r.id: r for r in run}
    assert len(results) == 5 and "found no boxes" in results[f"{NO_FACE}.jpg"].error
    assert results[f"{NO_FACE}.jpg"].row["status"] == "skipped"
    done = [r for r in results.values() if r.ok]
    assert len(done) >= 3  # the cascade's hits at this size (4 with OpenCV 4.x here); one may move with its version
    for r in done:
        e = peephole.load(tmp_path / "run", item=r.id)
        assert e.task == "detection" and len(e.extras["boxes"]) == len(e.maps) == len(e.extras["box_scores"]) >= 1
        boxes = e.extras["boxes"]
        assert (boxes[:, 2:] > boxes[:, :2]).all() and (boxes >= 0).all() and (boxes <= 224).all()
        np.testing.assert_array_equal(e.extras["box_scores"], r.explanation.extras["box_scores"])


def test_threshold_sets_the_score_a_runs_reference_boxes_need_and_is_recorded(tmp_path, capsys):
    """``--threshold`` is the detection task's: above every face's score no item has a box to explain; the threshold
    is part of the recorded task, so a resume with another is refused; with another task, one error."""
    astronauts(tmp_path / "photos")
    out = tmp_path / "run"
    cmd = ["run", str(tmp_path / "photos"), "--out", str(out), "--model", "haar-face", *SLIC]
    assert main([*cmd, "--threshold", "1000"]) == 0
    assert "0 of 3 items explained, 0 failed, 3 with nothing to explain (no boxes found)" in capsys.readouterr().out
    assert main([*cmd, "--threshold", "2"]) == 2
    err = capsys.readouterr().err
    assert "Detection(threshold=1000.0)" in err and "Detection(threshold=2.0)" in err
    assert main([*cmd, "--task", "classification", "--threshold", "2", "--out", str(tmp_path / "other")]) == 2
    assert "--threshold is the detection task's" in capsys.readouterr().err
