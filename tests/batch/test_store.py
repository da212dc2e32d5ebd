from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest
from runs_fixtures import require
from threads import errors_of_threads

import peephole
from peephole.batch import SettingsMismatch, Store
from peephole.errors import InputError

SETTINGS = {"method": "pami", "model": "toy", "options": {"partition": "window"}, "peephole": "0.1.0"}


def explanation(seed: int = 0) -> peephole.Explanation:
    rng = np.random.default_rng(seed)
    img = rng.random((16, 16, 3)).astype(np.float32)
    return peephole.explain(
        lambda b: b.reshape(len(b), -1, 3).mean(1), img, partition="window", radius=4, stride=4, output="scores", top_k=2
    )


def test_round_trip_of_rows_and_results(tmp_path):
    e = explanation()
    with Store(tmp_path / "run", SETTINGS, total=3) as s:
        s.commit({"id": "a/1.png", "seq": 0, "status": "done", "targets": e.targets, "top": [[1, "x", 0.5]]}, e)
        s.commit({"id": "b.png", "seq": 1, "status": "failed", "error": "corrupt <file>"})
    with Store(tmp_path / "run") as s:  # reopened read-only
        assert s.settings == SETTINGS and s.total == 3
        assert s.status() == {"a/1.png": "done", "b.png": "failed"}
        back = s.load("a/1.png")
        np.testing.assert_array_equal(back.maps, e.maps)
        np.testing.assert_array_equal(back.scores, e.scores)
        assert back.targets == e.targets
        np.testing.assert_array_equal(peephole.load(s.file_of("a/1.png")).map_for(0), e.map_for(0))
        np.testing.assert_array_equal(peephole.load(tmp_path / "run", item="a/1.png").maps, e.maps)
        with pytest.raises(InputError, match="item=ITEM_ID"):
            peephole.load(tmp_path / "run")
        rows = s.rows()
        assert [r["id"] for r in rows] == ["a/1.png", "b.png"]
        assert rows[0]["top"] == [[1, "x", 0.5]] and rows[1]["error"] == "corrupt <file>"
        with pytest.raises(InputError, match="failed"):
            s.load("b.png")
        with pytest.raises(InputError, match="no item"):
            s.load("c.png")


def test_a_retried_item_replaces_its_row_and_counts_attempts(tmp_path):
    with Store(tmp_path, SETTINGS) as s:
        s.commit({"id": "x", "seq": 0, "status": "failed", "error": "boom"})
        s.commit({"id": "x", "seq": 0, "status": "done", "error": None}, explanation())
        (row,) = s.rows()
        assert row["status"] == "done" and row["error"] is None and row["attempts"] == 2
        assert len(list((tmp_path / "items").glob("*.npz"))) == 1


def test_other_settings_are_refused_with_each_difference_named(tmp_path):
    Store(tmp_path, SETTINGS).close()
    other = {**SETTINGS, "method": "lime", "options": {"partition": "superpixels"}}
    with pytest.raises(SettingsMismatch) as err:
        Store(tmp_path, other)
    msg = str(err.value)
    assert "method: run has 'pami', this call 'lime'" in msg and "options.partition:" in msg and "model" not in msg.split("—")[1]
    Store(tmp_path, dict(SETTINGS)).close()  # the same settings resume


def test_an_unfinished_write_leaves_no_row_and_is_cleaned_up(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with Store(tmp_path, SETTINGS) as s:
            killed = tmp_path / "items" / f".tmp-abc-{int(dead.stdout)}.npz"
            killed.write_bytes(b"half a file")
            busy = tmp_path / "items" / f".tmp-def-{running.pid}.npz"
            busy.write_bytes(b"being written")
            reused = tmp_path / "items" / f".tmp-ghi-{os.getpid()}.npz"  # an earlier process had this one's pid
            reused.write_bytes(b"half a file")
        Store(tmp_path).close()  # a reader (a report, an export) removes nothing
        assert killed.exists() and reused.exists()
        with Store(tmp_path, SETTINGS) as s:  # a writer removes the debris of a killed writer only
            assert not killed.exists() and not reused.exists() and busy.exists() and s.rows() == []
    finally:
        running.kill()
        running.wait()


def test_two_writers_of_one_item_in_one_process_never_share_a_temporary_file(tmp_path, monkeypatch):
    """Two sessions of one process (threads, each its own connection) committing the same item at once: each writes its
    own temporary file, so neither rename finds the other's gone; the item ends with one file and two attempts."""
    import threading

    written = threading.Barrier(2)
    dump = peephole.Explanation.dump  # what the store writes its items with

    def dump_then_wait(self, f):  # both files written before either is renamed
        dump(self, f)
        written.wait(timeout=20)

    monkeypatch.setattr(peephole.Explanation, "dump", dump_then_wait)
    Store(tmp_path, SETTINGS).close()

    def commit() -> None:
        with Store(tmp_path, SETTINGS) as s:
            s.commit({"id": "a", "seq": 0, "status": "done"}, explanation())

    assert errors_of_threads(commit, 2) == []
    with Store(tmp_path) as s:
        assert s.attempts() == {"a": 2} and s.load("a").method == explanation().method
    assert not list((tmp_path / "items").glob(".tmp-*"))


def test_a_store_opened_while_another_thread_writes_an_item_leaves_its_temporary_file(tmp_path, monkeypatch):
    """A writer's clean-up of a killed writer's debris (a temporary file whose process is gone) spares the files this
    process is writing now: a second session opening the store mid-commit once removed the first's file (CI on
    2026-12-07: FileNotFoundError at the rename)."""
    import threading

    dump = peephole.Explanation.dump  # what the store writes its items with

    def dump_then_open_another(self, f):  # the file is written, not yet renamed: another session starts
        dump(self, f)
        opener = threading.Thread(target=lambda: Store(tmp_path, SETTINGS).close())
        opener.start()
        opener.join()
        assert Path(f.name).exists()

    monkeypatch.setattr(peephole.Explanation, "dump", dump_then_open_another)
    with Store(tmp_path, SETTINGS) as s:
        s.commit({"id": "a", "seq": 0, "status": "done"}, explanation())
    with Store(tmp_path) as s:
        assert s.attempts() == {"a": 1} and s.load("a").method == explanation().method
    assert not list((tmp_path / "items").glob(".tmp-*"))


def test_export_csv_and_parquet(tmp_path):
    e = explanation()
    with Store(tmp_path / "run", SETTINGS) as s:
        s.commit({"id": "a", "seq": 0, "status": "done", "prediction": 1, "confidence": 0.7, "metrics": {"deletion": 0.2}}, e)
        s.commit({"id": "b", "seq": 1, "status": "failed", "error": 'bad, "quoted"\nline'})
        rows = list(csv.DictReader(s.export(tmp_path / "t.csv").open()))
        assert [r["id"] for r in rows] == ["a", "b"]
        assert json.loads(rows[0]["metrics"]) == {"deletion": 0.2} and rows[1]["error"] == 'bad, "quoted"\nline'
        with pytest.raises(InputError, match=r"\.csv or \.parquet"):
            s.export(tmp_path / "t.xlsx")
        require("pyarrow")
        import pyarrow.parquet as pq

        table = pq.read_table(s.export(tmp_path / "t.parquet")).to_pylist()
        assert table[0]["prediction"] == 1 and table[0]["confidence"] == pytest.approx(0.7)
        assert table[1]["status"] == "failed" and table[1]["prediction"] is None


def damaged_run(tmp_path):
    """A finished run of 3 items, then item 0's file cut short and item 1's file deleted."""
    from runs_fixtures import TOY, make_toy, write_images

    write_images(tmp_path / "data", 3)
    peephole.run(make_toy(), tmp_path / "data", out=tmp_path / "run", model_name="toy", progress=False, **TOY).complete()
    with Store(tmp_path / "run") as store:
        rows = store.rows("done")
    assert len(rows) == 3
    cut = tmp_path / "run" / rows[0]["file"]
    cut.write_bytes(cut.read_bytes()[:200])
    (tmp_path / "run" / rows[1]["file"]).unlink()
    return [r["id"] for r in rows]


def test_the_report_marks_damaged_and_deleted_item_files_and_shows_the_rest(tmp_path, capsys):
    from peephole.cli import main

    ids = damaged_run(tmp_path)
    assert main(["report", str(tmp_path / "run")]) == 0
    text = (tmp_path / "run" / "report" / "index.html").read_text()
    data = json.loads(text.split('<script type="application/json" id="data">')[1].split("</script>")[0])
    items = {i["id"]: i for i in data["items"]}
    for bad in ids[:2]:
        assert items[bad]["status"] == "failed" and "its result file cannot be read" in items[bad]["error"]
    assert "missing" in items[ids[1]]["error"]
    assert items[ids[2]]["status"] == "done" and items[ids[2]]["views"]
    assert data["summary"]["explained"] == 1 and data["summary"]["failed"] == 2


def test_resuming_redoes_items_whose_file_is_missing_or_damaged(tmp_path):
    from runs_fixtures import TOY, make_toy

    ids = damaged_run(tmp_path)
    with Store(tmp_path / "run") as store:
        assert store.status() == dict.fromkeys(ids, "done")
        assert store.status(check_files=True) == {ids[2]: "done"}
    rerun = peephole.run(make_toy(), tmp_path / "data", out=tmp_path / "run", model_name="toy", progress=False, **TOY)
    summary = rerun.complete()
    assert summary["explained_now"] == 2 and summary["done"] == 3 and summary["skipped"] == 1
    for item in ids:
        assert peephole.load(tmp_path / "run", item=item).maps.shape[0] == 2
