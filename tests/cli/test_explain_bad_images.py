"""`peephole explain` over a batch holding inputs that used to stop it: a FIFO named like an image (hung
forever) and a 1×20000 strip (a 12 GB resize raised cv2.error and aborted the rest of the batch). Each bad
input is one `error:` line and the batch goes on."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
from onnx_fixtures import tiny_onnx
from PIL import Image

OPTIONS = ["--method", "pami", "--strategy", "window", "--radius", "20", "--stride", "28", "--top-k", "1"]


def test_a_fifo_is_one_error_line_and_a_thin_strip_is_explained_at_the_default_size(tmp_path):
    rng = np.random.default_rng(0)
    for name, shape in (("a.png", (40, 40, 3)), ("strip.png", (1, 20_000, 3)), ("b.png", (50, 30, 3))):
        Image.fromarray((rng.random(shape) * 255).astype(np.uint8)).save(tmp_path / name)
    os.mkfifo(tmp_path / "pipe.png")
    images = [str(tmp_path / n) for n in ("a.png", "pipe.png", "strip.png", "b.png")]
    model, out = str(tiny_onnx(tmp_path / "tiny.onnx")), tmp_path / "o"
    cmd = [sys.executable, "-m", "peephole", "explain", *images, "--model", model, *OPTIONS, "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env)  # the old code hung on the FIFO
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr[-3000:]
    assert len(errors) == 1 and "pipe.png" in errors[0] and "FIFO" in errors[0], run.stderr
    assert "1 of 4 images failed" in run.stderr
    assert sorted(p.name for p in out.glob("*.npz")) == ["a.npz", "b.npz", "strip.npz"]  # default --size 224: a 224×224 crop
