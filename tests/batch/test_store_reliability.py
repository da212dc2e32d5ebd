"""The run store under hostile conditions: a damaged ``run.sqlite`` is one clear error (library and command line), a
result file that cannot be written fails only its item, and concurrent runs over one folder share the items."""

from __future__ import annotations

import errno
import os
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from runs_fixtures import TOY, make_toy, write_images

import peephole
from peephole.batch import Store, open_run
from peephole.cli import main
from peephole.errors import InputError
from peephole.result import Explanation
from peephole.store import runs
from peephole.store.runs import StoreError

TESTS = Path(__file__).resolve().parents[1] / "fixtures"
SRC = Path(peephole.__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(SRC), os.environ.get("PYTHONPATH", "")])}
FLAGS = ["--method", "pami", "--top-k", "2", "--quiet", "--option", "partition=window"]


def toy_run(tmp_path: Path, n: int = 3) -> Path:
    write_images(tmp_path / "data", n)
    run = peephole.run(make_toy(), tmp_path / "data", out=tmp_path / "run", model_name="toy", progress=False, **TOY)
    run.complete()
    run.store.close()  # as a finished process leaves it: no WAL beside the file
    return tmp_path / "run"


def flip(offset: int):
    def damage(db: Path) -> None:
        data = bytearray(db.read_bytes())
        data[offset] ^= 0xFF
        db.write_bytes(bytes(data))

    return damage


DAMAGE = {
    "random bytes": lambda db: db.write_bytes(np.random.default_rng(0).bytes(20_000)),
    "truncated to half": lambda db: db.write_bytes(db.read_bytes()[: db.stat().st_size // 2]),
    "truncated to 100 bytes": lambda db: db.write_bytes(db.read_bytes()[:100]),
    "header bit flip": flip(0),
    "a table page bit flip": flip(2 * 4096),
}


@pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
def test_a_damaged_run_store_is_one_clear_error_saying_what_to_do(tmp_path, capsys, damage):
    """It used to be a sqlite3.DatabaseError traceback from peephole report, peephole run and open_run."""
    run = toy_run(tmp_path)
    DAMAGE[damage](run / "run.sqlite")
    with pytest.raises(StoreError, match="is damaged .*Move the run folder aside and start a new --out folder"):
        open_run(run)
    capsys.readouterr()
    assert main(["report", str(run)]) == 2
    _, err = capsys.readouterr()
    assert err.startswith("error: ") and err.count("\n") == 1 and "Move the run folder aside" in err
    model = ["--model", "runs_fixtures:make_toy", "--size", "32", "--option", "radius=8", "--option", "stride=6"]
    assert main(["run", str(tmp_path / "data"), "--out", str(run), *FLAGS, *model]) == 2
    _, err = capsys.readouterr()
    assert err.startswith("error: ") and err.count("\n") == 1 and "is damaged" in err


def test_a_store_that_is_not_a_run_or_cannot_be_opened_is_named(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "run.sqlite").write_bytes(b"")  # zero bytes: an empty database, no run in it
    with pytest.raises(StoreError, match="not a Peephole run store"):
        open_run(tmp_path / "empty")
    with Store(tmp_path / "empty", {"method": "pami"}) as s:  # a run into it starts afresh
        assert s.settings == {"method": "pami"} and s.rows() == []
    (tmp_path / "dir" / "run.sqlite").mkdir(parents=True)  # a folder where the store should be
    with pytest.raises(StoreError, match="run.sqlite is not a regular file: move it aside"):
        Store(tmp_path / "dir", {"method": "pami"})
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="cannot create the run folder"):
        Store(tmp_path / "file", {"method": "pami"})


def test_a_result_file_that_cannot_be_written_fails_only_its_item_and_a_rerun_redoes_it(tmp_path, monkeypatch):
    """A write error used to abort the run at that item; now the item is failed with the reason and the rest go on."""
    write_images(tmp_path / "data", 4)
    dump = Explanation.dump  # what the store writes its items with
    calls = []

    def failing_dump(self, f, *args, **kwargs):
        calls.append(f)
        if len(calls) == 2:
            f.write(b"PK\x03\x04 half a file")
            raise OSError(errno.ENOSPC, "No space left on device")
        return dump(self, f, *args, **kwargs)

    monkeypatch.setattr(Explanation, "dump", failing_dump)
    kw = {"model_name": "toy", "progress": False, **TOY}
    s = peephole.run(make_toy(), tmp_path / "data", out=tmp_path / "run", **kw).complete()
    assert s["done"] == 3 and s["failed"] == 1 and s["explained_now"] == 3
    rows = open_run(tmp_path / "run").rows()
    (bad,) = [r for r in rows if r["status"] == "failed"]
    assert bad["error"] == "cannot write its result file: [Errno 28] No space left on device" and bad["file"] is None
    assert not list((tmp_path / "run" / "items").glob(".tmp-*"))  # the half-written file is removed
    monkeypatch.setattr(Explanation, "dump", dump)
    again = peephole.run(make_toy(), tmp_path / "data", out=tmp_path / "run", **kw).complete()
    assert again["explained_now"] == 1 and again["done"] == 4


def test_a_file_size_limit_fails_the_large_items_and_the_run_commits_the_rest(tmp_path):
    """`peephole run` under RLIMIT_FSIZE (Python ignores SIGXFSZ: writes fail with EFBIG): the 256×256 item's
    result file is over the limit, the 80×80 items' are not. It used to stop at the first item with 0 rows."""
    write_images(tmp_path / "data" / "small", 2, size=(80, 80))
    write_images(tmp_path / "data" / "large", 1, seed=1, size=(256, 256))
    limit = 200_000

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    cmd = [sys.executable, "-m", "peephole", "run", str(tmp_path / "data"), "--out", str(tmp_path / "run"), *FLAGS]
    cmd += ["--model", "runs_fixtures:make_toy", "--size", "0", "--option", "radius=32", "--option", "stride=32"]
    done = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=300, preexec_fn=cap)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "2 of 3 items explained, 1 failed" in done.stdout
    rows = {r["id"]: r for r in open_run(tmp_path / "run").rows()}
    assert rows["large/img000.png"]["status"] == "failed"
    assert rows["large/img000.png"]["error"] == "cannot write its result file: [Errno 27] File too large"
    assert all(rows[f"small/{p}"]["status"] == "done" for p in ("img000.png", "sub/img001.png"))


def test_claims_of_dead_processes_or_past_their_lease_are_taken_over_and_renewed_ones_hold(tmp_path):
    with Store(tmp_path, {"method": "pami"}) as s:
        assert s.claim("a", "me", None) and s.claim("a", "me", None)  # one's own claim holds
        assert not s.claim("a", "other", None)  # a live claim (this process) is refused
        sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        try:
            s._db.execute("UPDATE claims SET pid = ?, owner = 'p' WHERE id = 'a'", (sleeper.pid,))
            assert not s.claim("a", "other", None)  # another live process holds it
            s._db.execute("UPDATE claims SET since = ? WHERE id = 'a'", (time.time() - runs.LEASE - 1,))
            assert s.claim("a", "other", None)  # past its lease: taken over
        finally:
            sleeper.kill()
            sleeper.wait()
        s._db.execute("UPDATE claims SET pid = ?, owner = 'p', since = ? WHERE id = 'a'", (sleeper.pid, time.time()))
        assert s.claim("a", "third", None)  # its process is dead: taken over
        s._db.execute("UPDATE claims SET pid = ?, owner = 'ghost' WHERE id = 'a'", (os.getpid(),))
        assert s.claim("a", "me", None)  # this pid, but no session of this process: a restarted container's reused pid
        s._db.execute("UPDATE claims SET since = ? WHERE id = 'a'", (time.time() - runs.LEASE - 1,))
        s.renew("me")  # the heartbeat of a running session keeps its claims alive past the lease
        assert not s.claim("a", "other", None)
        assert not s.claim("b", "me", 1)  # committed by another run since it was seen (no row: None)
        s.commit({"id": "a", "seq": 0, "status": "failed", "error": "x"})
        assert s._read("SELECT COUNT(*) FROM claims") == [(0,)]  # the commit released the claim
        assert not s.claim("a", "me", None) and s.claim("a", "me", 1)


def test_two_concurrent_runs_over_one_folder_explain_each_item_once(tmp_path):
    """Two `peephole run` processes on one folder, started together: they used to explain every item twice. Each
    claims a packed group of items (PACK_WORKERS, 16) at a time, so 40 items leave work for both."""
    n = 40
    write_images(tmp_path / "data", n, seed=5)
    (tmp_path / "gate").mkdir()
    env = {**ENV, "PEEPHOLE_TEST_GATE": str(tmp_path / "gate"), "PEEPHOLE_TEST_PARTIES": "2"}
    cmd = [sys.executable, "-m", "peephole", "run", str(tmp_path / "data"), "--out", str(tmp_path / "run"), *FLAGS]
    cmd += ["--model", "runs_fixtures:make_gated_toy", "--size", "32", "--option", "radius=8", "--option", "stride=6"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _, err in outs]
    rows = open_run(tmp_path / "run").rows()
    assert len(rows) == n and all(r["status"] == "done" and r["attempts"] == 1 for r in rows)
    now = [int(out.split("; ")[1].split(" items in")[0]) for out, _ in outs]  # "...; K items in S s ..."
    assert sum(now) == n and min(now) >= 1, outs  # the work was shared, none of it twice
    for (out, _), k in zip(outs, now):
        assert f"{n - k} items left to another run over" in out
    assert len(list((tmp_path / "run" / "items").glob("*.npz"))) == n
    with sqlite3.connect(tmp_path / "run" / "run.sqlite") as con:
        assert con.execute("SELECT COUNT(*) FROM claims").fetchone() == (0,)  # every claim released


OPEN_TOGETHER = """
import sys, time
from pathlib import Path
from peephole.store.runs import Store
root, start, rounds = Path(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
for r in range(rounds):
    while time.time() < start + 0.4 * r:
        pass
    with Store(root / str(r), {"method": "pami"}, total=3):
        pass
"""


def test_processes_creating_one_store_together_all_open_it(tmp_path):
    """Processes switching a new run.sqlite to WAL at the same moment deadlock in SQLite, which answers 'database
    is locked' at once without waiting: one of two concurrent runs failed in CI. Four processes, eight new stores."""
    start = time.time() + 6  # after every process's imports, even on a loaded machine
    cmd = [sys.executable, "-c", OPEN_TOGETHER, str(tmp_path), str(start), "8"]
    procs = [subprocess.Popen(cmd, env=ENV, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    errs = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [e[-1000:] for e in errs]
    for r in range(8):
        assert open_run(tmp_path / str(r)).settings == {"method": "pami"}


def test_report_of_a_run_folder_without_a_store_is_one_error(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "not a Peephole run" in capsys.readouterr().err
    with pytest.raises(InputError, match="not a Peephole run"):
        open_run(tmp_path)


def test_special_files_in_a_run_folder_or_as_a_dataset_never_hang(tmp_path, capsys):
    """A FIFO where run.sqlite, an item's .npz or a dataset file should be: opening it would wait forever."""
    run = toy_run(tmp_path)
    first = open_run(run).rows()[0]
    npz = run / first["file"]
    npz.unlink()
    os.mkfifo(npz)
    (run / "items" / ".tmp-notes").write_text("not ours")  # not a temporary file of a killed writer: kept
    with Store(run) as s:
        assert first["id"] not in s.status(check_files=True)  # redone on resume
    assert main(["report", str(run)]) == 0
    capsys.readouterr()
    again = peephole.run(make_toy(), tmp_path / "data", out=run, model_name="toy", progress=False, **TOY).complete()
    assert again["explained_now"] == 1 and npz.is_file() and (run / "items" / ".tmp-notes").exists()
    (tmp_path / "fifo-run").mkdir()
    os.mkfifo(tmp_path / "fifo-run" / "run.sqlite")
    with pytest.raises(StoreError, match="is not a regular file"):
        Store(tmp_path / "fifo-run", {"method": "pami"})
    os.mkfifo(tmp_path / "list.csv")
    with pytest.raises(InputError, match="not a folder or a regular file"):
        peephole.batch.open_dataset(tmp_path / "list.csv")


def test_export_and_report_write_errors_are_one_error_line(tmp_path, capsys):
    write_images(tmp_path / "data", 1)
    args = ["run", str(tmp_path / "data"), "--model", "runs_fixtures:make_toy", "--size", "32", *FLAGS]
    args += ["--option", "radius=8", "--option", "stride=6"]
    assert main([*args, "--out", str(tmp_path / "a"), "--export", str(tmp_path / "t.xlsx")]) == 2  # refused before the run
    assert "export to a .csv or .parquet file" in capsys.readouterr().err and not (tmp_path / "a").exists()
    assert main([*args, "--out", str(tmp_path / "b"), "--export", str(tmp_path / "no" / "t.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot write") and "No such file or directory" in err and err.count("\n") == 1
    assert open_run(tmp_path / "b").status() == {"img000.png": "done"}  # the run itself is kept
    (tmp_path / "taken").write_text("a file")
    assert main(["report", str(tmp_path / "b"), "--out", str(tmp_path / "taken")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_bit_flips_anywhere_in_the_store_are_read_or_one_store_error(tmp_path):
    """Every 211th byte of a real store flipped (two masks): reading it (rows, status, sessions, the report) either
    works — a damaged cell reads as None, a damaged text with U+FFFD — or is one StoreError. Before: a JSONDecodeError,
    UnicodeDecodeError or TypeError traceback for 23 of 2,658 flips (every 37th byte, 3 masks)."""
    from peephole.batch.report import write_report

    run = toy_run(tmp_path)
    original = (run / "run.sqlite").read_bytes()
    outcomes = {"read": 0, "error": 0}
    for offset in range(0, len(original), 211):
        for mask in (0x01, 0x80):
            data = bytearray(original)
            data[offset] ^= mask
            (run / "run.sqlite").write_bytes(bytes(data))
            try:
                with Store(run) as s:
                    s.rows(), s.status(check_files=True), s.sessions()
                    write_report(s, tmp_path / "report")
                outcomes["read"] += 1
            except StoreError as exc:
                assert "Move the run folder aside" in str(exc) or "not a Peephole run store" in str(exc), exc
                outcomes["error"] += 1
    assert outcomes["read"] > 0 and outcomes["error"] > 0, outcomes
