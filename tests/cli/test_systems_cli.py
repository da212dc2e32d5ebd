"""The systems' commands end to end on tiny settings: train-mnist, saliency, backdoor, fill-in, explainer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from systems_fixtures import single_thread  # noqa: F401

from peephole.cli import main

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "trojan.pt"
    assert main(["train-mnist", str(path), "--trojan", "--n", "300", "--epochs", "1"]) == 0
    return path


def test_saliency_backdoor_and_fill_in_commands(model_file, tmp_path, capsys):
    fig = tmp_path / "s.png"
    assert (
        main(["saliency", str(model_file), "--classes", "0", "7", "--n-iter", "3", "--figure", str(fig), "--out", str(tmp_path)])
        == 0
    )
    assert fig.stat().st_size > 0 and (tmp_path / "saliency_class7.npy").exists()
    assert main(["backdoor", str(model_file), "--n-iter", "2", "--samples", "mnist", "--figure", str(tmp_path / "b.png")]) == 0
    out = capsys.readouterr().out
    assert "flagged:" in out and "concentration" in out and (tmp_path / "b.png").exists()
    assert main(["fill-in", str(model_file), "--n", "20", "--figure", str(tmp_path / "f.png")]) == 0
    assert "prototypes classified as their class" in capsys.readouterr().out and (tmp_path / "f.png").exists()


def test_explainer_command(tmp_path, capsys):
    out = tmp_path / "ex"
    assert (
        main(
            [
                "explainer",
                "--out",
                str(out),
                "--n-train",
                "64",
                "--epochs",
                "1",
                "--colour-coded",
                "--figure",
                str(tmp_path / "e.png"),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    report = json.loads(text[text.index("{") : text.rindex("}") + 1])
    assert set(report["soft_iou"]) == {"explainer", "all-0", "all-0.5", "all-1"} and report["epochs_run"] == 1
    assert (out / "explainer.pt").exists() and (out / "classifier.pt").exists() and (out / "checkpoints" / "best.pt").exists()
    assert report["figure"] == str(tmp_path / "e.png") and Path(report["figure"]).stat().st_size > 0


def test_missing_model_file_is_a_clear_error(tmp_path, capsys):
    assert main(["saliency", str(tmp_path / "nope.pt")]) == 2
    assert "no such model file" in capsys.readouterr().err
