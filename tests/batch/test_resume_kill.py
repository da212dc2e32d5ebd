"""A real `peephole run` subprocess killed with SIGKILL mid-run, then resumed: nothing lost, nothing twice."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from runs_fixtures import write_images

import peephole
from peephole.batch import open_run

TESTS = Path(__file__).resolve().parents[1] / "fixtures"
SRC = Path(peephole.__file__).resolve().parents[1]
N = 40  # packed runs commit a group of 16 items at a time: three groups, so a kill lands mid-run
MODEL = "runs_fixtures:make_slow_toy"


def handle_sigint() -> None:
    """In the child before exec: SIGINT handled, even when this test runs where it is ignored (a shell's
    background job), so that Python in the child installs its KeyboardInterrupt handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def done_count(db: Path, after_kill: bool = False) -> int:
    """Items done so far. While the run writes, a read-only look; after it was killed, a read-write connection, which
    recovers the dead writer's write-ahead log first (a read-only one may read the main file without its last commits:
    it once counted 24 of the 25 items the resumed run then found done)."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(str(db) if after_kill else f"file:{db}?mode=ro", uri=not after_kill, timeout=5) as con:
            return con.execute("SELECT COUNT(*) FROM items WHERE status = 'done'").fetchone()[0]
    except sqlite3.OperationalError:  # the table is not created yet
        return 0


def run_command(data: Path, out: Path) -> tuple[list[str], dict[str, str]]:
    """The `peephole run` command line both tests start (window PAMI on the slow toy model) and its env."""
    cmd = [sys.executable, "-m", "peephole", "run", str(data), "--out", str(out), "--model", MODEL]
    cmd += ["--method", "pami", "--size", "32", "--top-k", "2", "--quiet"]
    cmd += ["--option", "partition=window", "--option", "radius=8", "--option", "stride=6"]
    return cmd, {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(SRC), os.environ.get("PYTHONPATH", "")])}


def test_sigkill_mid_run_then_resume_equals_an_uninterrupted_run(tmp_path):
    write_images(tmp_path / "data", N, seed=3)
    run_dir = tmp_path / "killed"
    cmd, env = run_command(tmp_path / "data", run_dir)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    rng = random.Random(12)
    wait_for = rng.randint(2, N // 2)  # a random moment: after a random number of items, plus a random delay
    deadline = time.monotonic() + 120
    while done_count(run_dir / "run.sqlite") < wait_for:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.01)
    time.sleep(rng.uniform(0, 0.1))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    before = done_count(run_dir / "run.sqlite", after_kill=True)
    assert wait_for <= before < N, f"killed after {before} of {N} items: not mid-run"

    kw = {"method": "pami", "partition": "window", "radius": 8, "stride": 6, "size": 32, "top_k": 2, "progress": False}
    resumed = peephole.run(MODEL, tmp_path / "data", out=run_dir, **kw)
    s = resumed.complete()
    assert s["skipped"] == before and s["explained_now"] == N - before and s["done"] == N and s["failed"] == 0
    peephole.run(MODEL, tmp_path / "data", out=tmp_path / "straight", **kw).complete()

    a, b = open_run(run_dir), open_run(tmp_path / "straight")
    rows_a, rows_b = a.rows(), b.rows()
    assert [r["id"] for r in rows_a] == [r["id"] for r in rows_b] and len(rows_a) == N
    assert all(r["attempts"] == 1 for r in rows_a)  # nothing committed twice
    assert len(list((run_dir / "items").glob("*.npz"))) == N  # one result file per item, no debris
    assert not list((run_dir / "items").glob(".tmp-*"))
    for ra, rb in zip(rows_a, rows_b):
        ea, eb = a.load(ra["id"]), b.load(rb["id"])
        np.testing.assert_array_equal(ea.maps, eb.maps)
        np.testing.assert_array_equal(ea.scores, eb.scores)
        assert (ra["prediction"], ra["targets"], ra["n_queries"]) == (rb["prediction"], rb["targets"], rb["n_queries"])


def test_ctrl_c_mid_run_exits_130_without_a_traceback_and_the_same_command_resumes(tmp_path):
    """A real SIGINT to `peephole run`: one line saying how far it got (it used to print a KeyboardInterrupt
    traceback), exit code 130, every committed item kept; running the same command again finishes the run."""
    n = 60
    write_images(tmp_path / "data", n, seed=4)
    run_dir = tmp_path / "run"
    cmd, env = run_command(tmp_path / "data", run_dir)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=handle_sigint)
    deadline = time.monotonic() + 120
    while done_count(run_dir / "run.sqlite") < 3:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    before = done_count(run_dir / "run.sqlite", after_kill=True)
    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err and f"interrupted: {before} of {n} items done" in err
    assert 3 <= before < n, f"interrupted after {before} of {n} items: not mid-run"
    assert not list((run_dir / "items").glob(".tmp-*"))  # the commit in flight finished or left nothing

    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"{n} of {n} items explained, 0 failed ({before} done before this session" in again.stdout
    rows = open_run(run_dir).rows()
    assert len(rows) == n and all(r["status"] == "done" and r["attempts"] == 1 for r in rows)
