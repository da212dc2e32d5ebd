"""``--option KEY=VALUE`` sets method options only: a key that is the command's own argument (``out``, ``targets``,
``model``...) is one ``error:`` line saying which flag sets it — it used to be ``TypeError: got multiple values``."""

from __future__ import annotations

import inspect

import pytest

import peephole
from peephole.cli import main

RUN_ARGUMENTS = [n for n, p in inspect.signature(peephole.run).parameters.items() if p.kind != p.VAR_KEYWORD]
FLAGS = {"out": "--out", "targets": "--targets", "model": "--model", "retry_failed": "--no-retry", "progress": "--quiet"}


@pytest.mark.parametrize("key", RUN_ARGUMENTS)
def test_run_refuses_an_option_named_like_its_own_argument(tmp_path, capsys, key):
    argv = ["run", str(tmp_path), "--out", str(tmp_path / "run"), "--model", "runs_fixtures:make_toy", "--option", f"{key}=1"]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert err.startswith(f"error: {key!r} is not a method option but an argument of peephole.run: ") and err.count("\n") == 1
    if key in FLAGS:
        assert err.endswith(f"use {FLAGS[key]}\n")
    assert not (tmp_path / "run").exists()  # refused before anything was made


@pytest.mark.parametrize("key,how", [("seed", "use --seed"), ("model", "use --model"), ("targets", "the command line does not")])
def test_benchmark_refuses_an_option_named_like_an_argument_of_explain(tmp_path, capsys, key, how):
    argv = [
        "benchmark",
        "--data",
        str(tmp_path),
        "--methods",
        "random",
        "--option",
        f"random.{key}=1",
        "--out",
        str(tmp_path / "b"),
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {key!r} is not a method option but an argument of peephole.explain: {how}")


def test_a_method_option_still_goes_through(tmp_path, capsys):
    from runs_fixtures import write_images

    write_images(tmp_path / "data", 1)
    argv = ["run", str(tmp_path / "data"), "--out", str(tmp_path / "run"), "--model", "runs_fixtures:make_toy", "--quiet"]
    argv += ["--method", "pami", "--size", "32", "--option", "partition=window", "--option", "radius=8", "--option", "stride=6"]
    assert main(argv) == 0
    assert peephole.batch.open_run(tmp_path / "run").settings["options"] == {"partition": "window", "radius": 8, "stride": 6}
