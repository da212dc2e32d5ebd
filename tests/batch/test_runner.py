from __future__ import annotations

import json

import numpy as np
import pytest
from runs_fixtures import TOY, ToyImageModel, make_text_toy, write_images

import peephole
from peephole.batch import SettingsMismatch, open_run
from peephole.errors import InputError


def toy_run(model, data, out, **kw):
    return peephole.run(model, data, out=out, progress=False, **{**TOY, **kw})


def test_a_corrupt_item_is_recorded_and_the_rest_explained_as_single_calls_would(tmp_path):
    paths = write_images(tmp_path / "data", 4)
    (tmp_path / "data" / "broken.png").write_bytes(b"\x89PNG not really")
    model = ToyImageModel()
    run = toy_run(model, tmp_path / "data", tmp_path / "run")
    results = []
    for r in run:  # each result is committed before it is handed out
        assert open_run(tmp_path / "run").status()[r.id] == ("done" if r.ok else "failed")
        results.append(r)
    assert run.summary["done"] == 4 and run.summary["failed"] == 1 and run.summary["total"] == 5
    bad = [r for r in results if not r.ok]
    assert [r.id for r in bad] == ["broken.png"] and "not an image" in bad[0].error
    store = open_run(tmp_path / "run")
    assert store.status()["broken.png"] == "failed"
    for p in paths:  # the same maps as explaining the image alone
        item = p.relative_to(tmp_path / "data").as_posix()
        img = peephole.load_image(p, size=32)
        alone = peephole.explain(model, img, "pami", top_k=2, partition="window", radius=8, stride=6)
        got = store.load(item)
        np.testing.assert_array_equal(got.maps, alone.maps)
        assert got.targets == alone.targets
        row = next(r for r in store.rows() if r["id"] == item)
        assert row["prediction"] == alone.prediction and row["n_queries"] == alone.n_queries


def test_rerunning_resumes_skipping_done_items_and_retrying_failed_ones(tmp_path):
    write_images(tmp_path / "data", 3)
    (tmp_path / "data" / "broken.png").write_bytes(b"junk")
    toy_run(ToyImageModel(), tmp_path / "data", tmp_path / "run").complete()
    again = ToyImageModel()
    r = toy_run(again, tmp_path / "data", tmp_path / "run", retry_failed=False)
    assert r.complete()["skipped"] == 3 and again.calls == 0 and r.summary["failed"] == 1
    (tmp_path / "data" / "broken.png").unlink()
    write_images(tmp_path / "fixed", 1, seed=5)
    (tmp_path / "fixed" / "img000.png").rename(tmp_path / "data" / "broken.png")  # the file is repaired
    r = toy_run(again, tmp_path / "data", tmp_path / "run")
    s = r.complete()
    assert s == {**s, "done": 4, "failed": 0, "skipped": 3, "explained_now": 1}
    (row,) = [x for x in open_run(tmp_path / "run").rows() if x["id"] == "broken.png"]
    assert (
        row["status"] == "done" and row["attempts"] == 2
    )  # the failed first try, then the repaired file (not retried in between)


def test_true_targets_from_csv_labels_and_accuracy_columns(tmp_path):
    write_images(tmp_path / "p", 3)
    (tmp_path / "l.csv").write_text("path,label\np/img000.png,red\np/sub/img001.png,0\np/img002.png,unicorn\n")
    r = toy_run(ToyImageModel(), tmp_path / "l.csv", tmp_path / "run", targets="true", top_k=1)
    s = r.complete()
    assert s["done"] == 2 and s["failed"] == 1
    rows = {x["id"].split(":")[0]: x for x in open_run(tmp_path / "run").rows()}
    assert rows["000001"]["targets"] == [2] and rows["000001"]["true_class"] == 2
    assert rows["000002"]["targets"] == [0]
    assert rows["000001"]["correct"] == int(rows["000001"]["prediction"] == 2)
    assert "unicorn" in rows["000003"]["error"]
    with pytest.raises(InputError, match="no true labels: .*an image at its top level leaves it unlabelled"):
        toy_run(ToyImageModel(), tmp_path / "p", tmp_path / "run2", targets="true")  # img000.png sits at the top


def test_a_number_label_is_an_index_with_a_warning_when_classes_are_named_by_other_numbers(tmp_path):
    """A model trained on folders 1, 10, 2 (sorted as text) calls class 0 '1': a label '1' read as the index was
    class 1 (named '10') without a word. It still is (a number is an index), and the run says so once."""
    import warnings

    class ByText(ToyImageModel):
        class_names = ["1", "10", "2"]

    class ByIndex(ToyImageModel):
        class_names = ["0", "1", "2"]

    write_images(tmp_path / "p", 2)
    (tmp_path / "l.csv").write_text("path,label\np/img000.png,1\np/sub/img001.png,2\n")
    with pytest.warns(UserWarning, match="class 0 is named '1'.*a label that is a number is read as a class index"):
        toy_run(ByText(), tmp_path / "l.csv", tmp_path / "run", targets="true", top_k=1).complete()
    rows = {x["id"].split(":")[0]: x for x in open_run(tmp_path / "run").rows()}
    assert (rows["000001"]["true_class"], rows["000002"]["true_class"]) == (1, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numbers that are their own indices: nothing to say
        toy_run(ByIndex(), tmp_path / "l.csv", tmp_path / "run2", targets="true", top_k=1).complete()


def test_a_true_label_naming_classes_that_share_it_is_no_true_class(tmp_path):
    """A label that is the name of several of the model's classes (ImageNet's two 'crane's) was taken as the first:
    the item explained and scored against a class the label may not mean. With targets='true' the item fails saying
    so; with the predicted targets it has no true class (no accuracy), and a label naming one class still has one."""

    class Shared(ToyImageModel):
        class_names = ["dark", "red", "red"]

    write_images(tmp_path / "p", 2)
    (tmp_path / "l.csv").write_text("path,label\np/img000.png,red\np/sub/img001.png,Dark\n")  # any case
    r = toy_run(Shared(), tmp_path / "l.csv", tmp_path / "run", targets="true", top_k=1)
    assert r.complete()["failed"] == 1
    rows = {x["id"].split(":")[0]: x for x in open_run(tmp_path / "run").rows()}
    assert "'red' names classes 1, 2: write its index" in rows["000001"]["error"]
    assert rows["000002"]["true_class"] == 0
    toy_run(Shared(), tmp_path / "l.csv", tmp_path / "run2", targets="predicted").complete()
    rows = {x["id"].split(":")[0]: x for x in open_run(tmp_path / "run2").rows()}
    assert rows["000001"]["status"] == "done" and rows["000001"]["true_class"] is None


def test_a_text_run_explains_each_sentence(tmp_path):
    (tmp_path / "s.txt").write_text("good good film\nbad plot but good good cast\n")
    r = peephole.run(make_text_toy(), tmp_path / "s.txt", out=tmp_path / "run", progress=False, model_name="toy-text")
    results = list(r)
    assert [x.ok for x in results] == [True, True]
    e = results[1].explanation
    assert e.input == ["bad", "plot", "but", "good", "good", "cast"] and e.targets == [1]
    assert set(np.argsort(-e.maps[0])[:2]) == {3, 4}  # the two 'good's carry the positive class


def test_settings_are_checked_before_anything_runs(tmp_path):
    write_images(tmp_path / "d", 2)
    toy_run(ToyImageModel(), tmp_path / "d", tmp_path / "run").complete()
    with pytest.raises(SettingsMismatch, match="options.radius: run has 8, this call 12"):
        toy_run(ToyImageModel(), tmp_path / "d", tmp_path / "run", radius=12)
    with pytest.raises(InputError, match="unknown option 'radiuss'"):
        toy_run(ToyImageModel(), tmp_path / "d", tmp_path / "run3", radiuss=3)
    with pytest.raises(InputError, match="takes text inputs"):
        peephole.run(make_text_toy(), tmp_path / "d", out=tmp_path / "run4")
    assert not (tmp_path / "run3").exists()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"top_k": 0}, "top_k must be >= 1"),
        ({"batch_size": -1}, r"batch_size must be in \[1, 4194304\]"),
        ({"size": -3}, "size must be a whole number >= 1, got -3"),
        ({"seed": -1}, "seed must be an integer"),
        ({"targets": []}, "targets is empty"),
        ({"targets": [-1]}, "target class -1 is negative"),
    ],
)
def test_run_wide_arguments_are_one_error_not_a_failed_item_each(tmp_path, setting, message):
    """An argument every item passes on (top_k, batch_size, size, seed, a list of targets) is refused before the run
    folder exists, instead of failing each of the dataset's items with the same error."""
    write_images(tmp_path / "d", 2)
    with pytest.raises(InputError, match=message):
        toy_run(ToyImageModel(), tmp_path / "d", tmp_path / "run", **setting)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"num_actors": 0}, "num_actors must be a whole number >= 1"),  # ran anyway
        ({"num_cpus": -1.0}, "num_cpus must be a finite number > 0"),  # Ray's ValueError traceback, run folder made
        ({"num_gpus": float("nan")}, "num_gpus must be a finite number >= 0"),
    ],
)
def test_ray_resources_are_checked_before_ray_starts_or_the_folder_exists(tmp_path, setting, message):
    write_images(tmp_path / "d", 2)
    with pytest.raises(InputError, match=message):
        toy_run(ToyImageModel(), tmp_path / "d", tmp_path / "run", engine="ray", **setting)
    assert not (tmp_path / "run").exists()


def test_stopping_early_keeps_what_was_handed_out(tmp_path):
    write_images(tmp_path / "d", 5)
    run = toy_run(ToyImageModel(), tmp_path / "d", tmp_path / "run")
    got = []
    for r in run:
        got.append(r.id)
        if len(got) == 2:
            break
    status = open_run(tmp_path / "run").status()
    assert set(got) <= set(status) and len(status) <= 3  # the two handed out, at most the one in flight besides
    s = toy_run(ToyImageModel(), tmp_path / "d", tmp_path / "run").complete()
    assert s["done"] == 5 and s["skipped"] == len(status)


def test_per_item_insertion_and_deletion(tmp_path):
    write_images(tmp_path / "d", 2)
    r = toy_run(ToyImageModel(), tmp_path / "d", tmp_path / "run", metrics=["insertion", "deletion"])
    for res in r:
        assert set(res.row["metrics"]) == {"insertion", "deletion"}
        assert all(0 <= v <= 1 for v in res.row["metrics"].values())


def test_a_local_run_packs_the_queries_of_several_items_into_shared_model_calls(tmp_path):
    paths = write_images(tmp_path / "data", 6)
    packed = ToyImageModel()
    toy_run(packed, tmp_path / "data", tmp_path / "run").complete()
    alone = ToyImageModel()
    for p in paths:
        peephole.explain(alone, peephole.load_image(p, size=32), "pami", top_k=2, partition="window", radius=8, stride=6)
    store = open_run(tmp_path / "run")
    parts = sum(store.load(p.relative_to(tmp_path / "data").as_posix()).n_queries - 1 for p in paths)
    # alone: each item's f(x), then its parts (49 < 64: one call); packed: every f(x) in one call, then 64 parts a call
    assert alone.calls == 12 and packed.calls == 1 + -(-parts // 64) == 6


def test_a_file_whose_name_is_no_utf8_is_explained_and_stored_under_a_printable_id(tmp_path):
    """A file name of bytes that are no UTF-8 (from another system's archive) reached SQLite as a lone surrogate:
    UnicodeEncodeError, a traceback that stopped the whole run. Its id and stored source write the bytes as ``\\xff``;
    the file itself is read, the report and the export hold the id, and a resumed run skips it."""
    import os

    from peephole.batch.report import write_report

    write_images(tmp_path / "data", 2)
    odd = tmp_path / "data" / os.fsdecode(b"caf\xe9-\xff.png")
    (tmp_path / "data" / "img000.png").rename(odd)
    run = toy_run(ToyImageModel(), tmp_path / "data", tmp_path / "run")
    assert run.complete()["done"] == 2
    store = open_run(tmp_path / "run")
    assert store.status()["caf\\xe9-\\xff.png"] == "done" and len(store.status()) == 2
    row = next(r for r in store.rows() if r["id"] == "caf\\xe9-\\xff.png")
    assert row["source"].endswith("caf\\xe9-\\xff.png")
    img = peephole.load_image(odd, size=32)
    alone = peephole.explain(ToyImageModel(), img, "pami", top_k=2, partition="window", radius=8, stride=6)
    np.testing.assert_array_equal(store.load("caf\\xe9-\\xff.png").maps, alone.maps)
    page = write_report(tmp_path / "run")
    assert json.dumps("caf\\xe9-\\xff.png") in page.read_text(encoding="utf-8")  # the page's data, as JSON
    again = ToyImageModel()
    assert toy_run(again, tmp_path / "data", tmp_path / "run").complete()["skipped"] == 2 and again.calls == 0


class ImagenetToy(ToyImageModel):
    """ToyImageModel's three scores in the first three of ImageNet-1k's 1000 classes (the others near 0)."""

    def __init__(self) -> None:
        super().__init__()
        from peephole.models.imagenet import imagenet_class_names

        self.class_names = list(imagenet_class_names())

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        out = np.full((len(batch), 1000), 1e-6)
        out[:, :3] = super().__call__(batch)
        return out / out.sum(axis=1, keepdims=True)


def test_an_imagenet_folder_labelled_by_wordnet_ids_gives_the_true_classes(tmp_path):
    """ImageNet's own folders are named by WordNet id (``val/n01440764/x.JPEG``): every item of such a folder failed
    under --targets true ("no true label the model knows ('n01440764')"). A WordNet id names its ImageNet-1k class for
    a 1000-class model, as a target too."""
    for wnid, n in (("n01440764", 1), ("n02124075", 1)):
        write_images(tmp_path / "val" / wnid, n, seed=len(wnid) + n)
    toy_run(ImagenetToy(), tmp_path / "val", tmp_path / "run", targets="true").complete()
    rows = {x["id"].split("/")[0]: x for x in open_run(tmp_path / "run").rows()}
    assert rows["n01440764"]["true_class"] == 0 and rows["n02124075"]["true_class"] == 285
    assert rows["n02124075"]["targets"] == [285] and rows["n02124075"]["status"] == "done"
    img = peephole.load_image(next((tmp_path / "val" / "n02124075").glob("*.png")), size=32)
    e = peephole.explain(ImagenetToy(), img, "pami", targets="n02124075", partition="window", radius=8, stride=6)
    assert e.targets == [285]
    with pytest.raises(InputError, match="unknown class 'n02124075'"):  # a model of other classes: no such name
        peephole.explain(ToyImageModel(), img, "pami", targets="n02124075", partition="window", radius=8, stride=6)


def test_a_file_changed_since_it_was_explained_is_explained_again_on_resume(tmp_path):
    """A folder's ids are paths: a picture replaced by another under the same name kept its old map on resume (the
    run reported a map of a picture it no longer holds). Its size and content are recorded with its row; a file whose
    content changed is explained again, one only touched (or copied: a new modification time) is not, and a store
    made before the record existed resumes as it did."""
    import os
    import sqlite3

    paths = write_images(tmp_path / "data", 3)
    toy_run(ToyImageModel(), tmp_path / "data", tmp_path / "run").complete()
    store = open_run(tmp_path / "run")
    before = {r["id"]: r for r in store.rows()}
    first = paths[0].relative_to(tmp_path / "data").as_posix()
    write_images(tmp_path / "other", 1, seed=9)
    (tmp_path / "other" / "img000.png").replace(paths[0])  # another picture, the same name
    os.utime(paths[1], ns=(1, 1))  # the same picture, another modification time
    again = ToyImageModel()
    s = toy_run(again, tmp_path / "data", tmp_path / "run").complete()
    assert s["explained_now"] == 1 and s["skipped"] == 2
    after = {r["id"]: r for r in open_run(tmp_path / "run").rows()}
    assert after[first]["attempts"] == 2 and after[first]["stamp"] != before[first]["stamp"]
    img = peephole.load_image(paths[0], size=32)
    alone = peephole.explain(ToyImageModel(), img, "pami", top_k=2, partition="window", radius=8, stride=6)
    np.testing.assert_array_equal(open_run(tmp_path / "run").load(first).maps, alone.maps)
    # a store of an earlier Peephole: no stamp column; it resumes (rows without a stamp are not compared)
    db = sqlite3.connect(tmp_path / "run" / "run.sqlite")
    kept = ("id", "seq", "source", "label", "status", "file", "attempts")
    db.executescript(
        f"CREATE TABLE old (id TEXT PRIMARY KEY, seq INTEGER, source TEXT, label TEXT, status TEXT, file TEXT, "
        f"attempts INTEGER); INSERT INTO old SELECT {', '.join(kept)} FROM items; DROP TABLE items; "
        "ALTER TABLE old RENAME TO items;"
    )
    db.close()
    old = ToyImageModel()
    assert toy_run(old, tmp_path / "data", tmp_path / "run").complete()["skipped"] == 3 and old.calls == 0
    assert {r["stamp"] for r in open_run(tmp_path / "run").rows()} == {None}
