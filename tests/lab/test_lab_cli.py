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
    fig = tmp_path / "b.png"
    args = ["backdoor", str(model_file), "--detector", "input-agnostic", "--n-iter", "2", "--samples", "mnist"]
    assert main([*args, "--figure", str(fig)]) == 0
    out = capsys.readouterr().out
    assert "flagged:" in out and "concentration" in out and fig.exists()
    args = ["backdoor", str(model_file), "--detector", "combined", "--n-iter", "2", "--epochs", "1", "--figure", str(fig)]
    assert main(args) == 0  # both detectors' columns
    assert "input_agnostic" in capsys.readouterr().out
    assert main(["backdoor", str(model_file), "--epochs", "1", "--figure", str(tmp_path / "t.png")]) == 0  # the default
    out = capsys.readouterr().out
    assert (
        "tabor_score" in out and "tabor_index" in out and "concentration" not in out and (tmp_path / "t.png").stat().st_size > 0
    )
    assert main(["fill-in", str(model_file), "--n", "20", "--figure", str(tmp_path / "f.png")]) == 0
    assert "prototypes classified as their class" in capsys.readouterr().out and (tmp_path / "f.png").exists()


@pytest.fixture(scope="module")
def torchscript_file(tmp_path_factory):
    """A TorchScript classifier of an architecture the lab does not know (tanh, average pooling, no config)."""
    import torch

    nn = torch.nn
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(4 * 13 * 13, 10)).eval()
    path = tmp_path_factory.mktemp("ts") / "scripted.pt"
    torch.jit.save(torch.jit.script(net), path)
    return path


def test_saliency_backdoor_and_fill_in_read_torchscript_without_a_shape(torchscript_file, tmp_path, capsys):
    """They used to fail on TorchScript files (the API read them); the input shape is probed (1×28×28)."""
    assert main(["saliency", str(torchscript_file), "--classes", "0", "1", "--n-iter", "2", "--out", str(tmp_path)]) == 0
    assert "class 1: fidelity" in capsys.readouterr().out and (tmp_path / "saliency_class1.npy").exists()
    assert main(["backdoor", str(torchscript_file), "--detector", "input-agnostic", "--n-iter", "2"]) == 0
    captured = capsys.readouterr()
    assert "flagged:" in captured.out and "noise" not in captured.err  # 1×28×28 probed: MNIST samples, no noise warning
    assert main(["backdoor", str(torchscript_file), "--epochs", "1"]) == 0  # the default scan (TABOR) too
    assert "tabor_score" in capsys.readouterr().out
    assert main(["fill-in", str(torchscript_file), "--n", "10"]) == 0
    assert "blank canvases filled into their class" in capsys.readouterr().out


def test_a_pickled_module_needs_trust_pickle_on_the_command_line(tmp_path, capsys):
    import torch

    torch.save(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10)), tmp_path / "m.pt")
    assert main(["saliency", str(tmp_path / "m.pt"), "--classes", "0", "--n-iter", "1"]) == 2
    assert "--trust-pickle" in capsys.readouterr().err
    assert main(["saliency", str(tmp_path / "m.pt"), "--classes", "0", "--n-iter", "1", "--trust-pickle"]) == 0
    assert "class 0: fidelity" in capsys.readouterr().out


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


def test_zoo_and_backdoor_eval_commands(tmp_path, capsys):
    root = tmp_path / "zoo"
    assert main(["zoo", "--root", str(root), "--pairs", "2", "--n-train", "300", "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "00-cnn-checker-trojan" in out and "clean models kept" in out and (root / "manifest.json").exists()
    res = tmp_path / "res"
    args = ["backdoor-eval", "--zoo", str(root), "--split", "all", "--out", str(res)]
    lofo = ["--leave-one-out", "arch", "--calibrate", "reference"]
    assert main([*args, "--detector", "neural-cleanse", "--epochs", "1", "--steps", "1", *lofo]) == 0
    out = capsys.readouterr().out
    assert "neural-cleanse" in out and "false alarms" in out and "AUC" in out
    assert "leave one arch family out:" in out and "  cnn: detection" in out and "  pooled: detection" in out
    lofo_js = json.loads((res / "neural-cleanse_all_lofo-arch-calibrated.json").read_text())
    assert set(lofo_js["folds"]) == {"cnn", "mlp"} and lofo_js["pooled"]["n_clean"] == 2
    payload = json.loads((res / "neural-cleanse_all.json").read_text())
    assert payload["rates"]["n_clean"] == 2 and (res / "neural-cleanse_all_roc.csv").exists()
    assert main([*args, "--detector", "tabor-calibrated", "--epochs", "1", "--steps", "1"]) == 0  # the previous default
    assert "tabor-calibrated" in capsys.readouterr().out
    tabor_js = json.loads((res / "tabor-calibrated_all.json").read_text())
    assert len(tabor_js["models"]) == len(payload["models"]) and "tabor_score" in tabor_js["models"][0]["measures"]
    assert main([*args, "--n-iter", "2", "--samples", "mnist", "--window", "2", "3"]) == 0
    assert (res / "input-agnostic_all_window2_roc.png").exists() and (res / "input-agnostic_all_window3.json").exists()
    assert main(["backdoor-eval", "--zoo", str(tmp_path / "none")]) == 2
    assert "no zoo manifest" in capsys.readouterr().err


def test_backdoor_on_a_non_mnist_model_takes_images_from_a_file(tmp_path, capsys):
    """A 3×16×16 classifier has no MNIST fallback: one clear error naming the scans and the flag, then --images."""
    import numpy as np
    import torch

    nn = torch.nn
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 14 * 14, 3)).eval()
    path = tmp_path / "rgb.pt"
    torch.jit.save(torch.jit.script(net), path)
    assert main(["backdoor", str(path), "--epochs", "1"]) == 2  # 16×16 is not a shape the probe tries
    assert "cannot tell the model's input shape" in capsys.readouterr().err
    assert main(["backdoor", str(path), "--epochs", "1", "--shape", "3", "16", "16"]) == 2
    err = capsys.readouterr().err
    assert "(Neural Cleanse, TABOR) need clean images of the model's input shape (3, 16, 16)" in err and "--images" in err
    np.save(tmp_path / "clean.npy", np.random.default_rng(0).random((40, 3, 16, 16), dtype=np.float32))
    assert main(["backdoor", str(path), "--epochs", "1", "--images", str(tmp_path / "clean.npy")]) == 0  # shape from them
    assert "tabor_score" in capsys.readouterr().out
    args = ["saliency", str(path), "--classes", "0", "--n-iter", "1", "--shape", "3", "16", "16", "--out", str(tmp_path)]
    assert main(args) == 0 and np.load(tmp_path / "saliency_class0.npy").shape == (16, 16)
    (tmp_path / "bad.npy").write_bytes(b"junk")
    assert main(["backdoor", str(path), "--images", str(tmp_path / "bad.npy")]) == 2
    assert "not a readable .npy array" in capsys.readouterr().err
