"""`peephole run` and `peephole report`: exit codes, resume, export, the report folder."""

from __future__ import annotations

import csv

from runs_fixtures import write_images

from peephole.cli import main

MODEL = ["--model", "runs_fixtures:make_toy", "--size", "32", "--top-k", "2", "--quiet"]
WINDOW = ["--method", "pami", "--option", "partition=window", "--option", "radius=8", "--option", "stride=6"]


def test_run_resume_export_and_report(tmp_path, capsys):
    write_images(tmp_path / "d", 3)
    (tmp_path / "d" / "bad.png").write_bytes(b"junk")
    out = tmp_path / "run"
    assert main(["run", str(tmp_path / "d"), "--out", str(out), *MODEL, *WINDOW, "--export", str(tmp_path / "t.csv")]) == 1
    first = capsys.readouterr().out
    assert "3 of 4 items explained, 1 failed (0 done before this session" in first
    rows = list(csv.DictReader((tmp_path / "t.csv").open()))
    assert sorted(r["status"] for r in rows) == ["done", "done", "done", "failed"]
    (tmp_path / "d" / "bad.png").unlink()
    assert main(["run", str(tmp_path / "d"), "--out", str(out), *MODEL, *WINDOW]) == 0
    assert "3 of 3 items explained, 0 failed (3 done before this session" in capsys.readouterr().out
    assert main(["report", str(out), "--classes", "3"]) == 0
    assert "index.html" in capsys.readouterr().out
    assert (out / "report" / "index.html").is_file() and len(list((out / "report" / "img").glob("*.png"))) == 3 * 4


def test_run_refuses_other_settings_and_bad_input_with_exit_code_2(tmp_path, capsys):
    write_images(tmp_path / "d", 1)
    out = str(tmp_path / "run")
    assert main(["run", str(tmp_path / "d"), "--out", out, *MODEL, *WINDOW]) == 0
    capsys.readouterr()
    assert main(["run", str(tmp_path / "d"), "--out", out, *MODEL, "--option", "partition=window"]) == 2
    err = capsys.readouterr().err
    assert "other settings" in err and "options.radius: run has 8, this call None" in err
    assert main(["run", str(tmp_path / "nothing"), "--out", out, *MODEL]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "d")]) == 2
    assert "not a Peephole run" in capsys.readouterr().err
