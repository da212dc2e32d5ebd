"""The commands' rough edges, each fixed once: a headless-safe --open, the cost of --metrics said, a hint for a
folder given to explain, error lines naming the input once, readable rates, the right Ctrl-C count, no '%%' in
help, one top-k default, and keep-one word scores shown as the change from the text with no words."""

from __future__ import annotations

import argparse
import inspect
import re

import pytest
from runs_fixtures import TOY, ToyImageModel, write_images

import peephole
from peephole.batch.runner import rate
from peephole.cli import COMMANDS, main
from peephole.pipeline import DEFAULT_TOP_K

MODEL = ["--model", "runs_fixtures:make_toy", "--size", "32", "--quiet"]
WINDOW = ["--method", "pami", "--option", "partition=window", "--option", "radius=8", "--option", "stride=6"]


@pytest.fixture
def run_dir(tmp_path):
    write_images(tmp_path / "d", 2)
    out = tmp_path / "run"
    assert main(["run", str(tmp_path / "d"), "--out", str(out), *MODEL, *WINDOW]) == 0
    return out


def test_open_on_a_headless_machine_prints_the_path_and_never_fails(run_dir, capsys, monkeypatch):
    import webbrowser

    opened = []
    monkeypatch.setattr(webbrowser, "open", lambda uri: opened.append(uri) or True)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    capsys.readouterr()
    assert main(["report", str(run_dir), "--open"]) == 0
    out = capsys.readouterr().out
    assert opened == [] and f"open it in a browser: {(run_dir / 'report' / 'index.html').resolve().as_uri()}" in out

    monkeypatch.setenv("DISPLAY", ":0")  # a display: the browser is asked
    assert main(["report", str(run_dir), "--open"]) == 0
    assert opened == [(run_dir / "report" / "index.html").resolve().as_uri()] and "opened in a browser" in capsys.readouterr().out

    def broken(uri):
        raise OSError("no browser")

    monkeypatch.setattr(webbrowser, "open", broken)  # a browser that cannot start: still the path, exit 0
    assert main(["report", str(run_dir), "--open"]) == 0
    assert "open it in a browser: file://" in capsys.readouterr().out


def test_run_open_writes_the_report(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    write_images(tmp_path / "d", 1)
    assert main(["run", str(tmp_path / "d"), "--out", str(tmp_path / "r"), *MODEL, *WINDOW, "--open"]) == 0
    assert (tmp_path / "r" / "report" / "index.html").is_file()
    assert "open it in a browser: file://" in capsys.readouterr().out


def commands() -> dict[str, argparse.ArgumentParser]:
    """Every command's parser, plug-in commands included, as ``peephole`` builds them."""
    from peephole.plugins import add_commands

    sub = argparse.ArgumentParser(prog="peephole").add_subparsers(dest="command")
    for cmd in COMMANDS:
        cmd.add_parser(sub)
    add_commands(sub)
    return sub.choices


def test_metrics_help_says_what_the_curves_cost():
    text = " ".join(commands()["run"].format_help().split())
    assert "about 450 per item" in text and "225 per 224x224 image" in text


def test_no_help_shows_a_doubled_percent_sign():
    helps = {name: p.format_help() for name, p in commands().items()}
    assert len(helps) >= len(COMMANDS)
    assert [name for name, h in helps.items() if "%%" in h] == []


def test_explain_on_a_folder_points_to_run_before_loading_a_model(tmp_path, capsys, monkeypatch):
    import peephole.batch.work as work

    def never(*a, **k):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(work, "model_and_modality", never)
    write_images(tmp_path / "photos", 1)
    assert main(["explain", str(tmp_path / "photos")]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'photos'} is a folder" in err and f"peephole run {tmp_path / 'photos'} --out RUN" in err


def test_an_error_line_names_the_input_once(tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"junk")
    fast = ["--model", "runs_fixtures:make_toy", "--size", "32", "--method", "pami", "--strategy", "window", "--radius", "6"]
    assert main(["explain", str(bad), str(tmp_path / "missing.png"), *fast, "--out", str(tmp_path / "o")]) == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(lines) == 2 and all(line.count(str(tmp_path)) == 1 for line in lines), lines


def test_rates_read_as_items_per_second_or_seconds_per_item():
    assert rate(2.5) == "2.50 items/s" and rate(1.0) == "1.00 items/s"
    assert rate(0.01) == "100.0 s/item" and rate(0.5) == "2.0 s/item"
    assert rate(0.0) == "no items"


def test_stopping_a_run_counts_every_item_it_committed(tmp_path):
    """Ctrl-C while item k is handed out: item k+1's commit, in flight, finishes and must count (it said 4 of 5)."""
    write_images(tmp_path / "d", 6)
    r = peephole.run(ToyImageModel(), tmp_path / "d", out=tmp_path / "run", progress=False, model_name="toy", **TOY)
    items = iter(r)
    for _ in range(3):
        next(items)
    items.close()  # what the command does on Ctrl-C
    s = r.summary
    assert s["done"] == s["explained_now"] == len(r.store.rows()) == 4  # 3 handed out + 1 committed in flight


def test_one_top_k_default_everywhere():
    from peephole.batch.runner import run

    assert DEFAULT_TOP_K == 1
    assert inspect.signature(peephole.explain).parameters["top_k"].default == DEFAULT_TOP_K
    assert inspect.signature(run).parameters["top_k"].default == DEFAULT_TOP_K
    parsers = commands()
    for command, args in {"explain": ["x"], "explain-text": ["x"], "run": ["d", "--out", "o"]}.items():
        assert parsers[command].parse_args(args).top_k == DEFAULT_TOP_K, command


def test_keep_one_word_scores_show_the_change_from_no_words(capsys):
    assert main(["explain-text", "a good film", "--model", "runs_fixtures:make_text_toy", "--no-color", "--target", "1"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"positive: a\[0\.00\] good\[0\.\d\d\] film\[0\.00\]", out), out  # neutral words at 0
    assert re.search(r"top words \(change from no words, 0\.475\): good \+0\.\d{3}\n", out), out  # only what raises it
