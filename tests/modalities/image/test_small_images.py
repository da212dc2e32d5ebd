"""SEEDS and the default superpixel partition on small and thin images: OpenCV used to segfault or hang
(sides <= 3 hang; 8×9, 9×9, 11×8, 4×20 segfault), so each run is a subprocess with a time limit."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from peephole.errors import InputError
from peephole.modalities.image.segmenters import seeds

SIZES = [(1, 1), (2, 3), (3, 3), (8, 9), (9, 9), (11, 8), (4, 20), (3, 100), (24, 5)]


def run_isolated(code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout)


def test_seeds_survives_sizes_that_crashed_opencv() -> None:
    code = f"""
        import numpy as np
        from peephole.modalities.image.segmenters import seeds
        for h, w in {SIZES}:
            img = np.random.default_rng(h * w).random((h, w, 3))
            for n in (10, 20, 30):
                labels = seeds(img, num_superpixels=n)
                assert labels.shape == (h, w) and labels.min() == 0, (h, w, n)
        print("ok")
    """
    r = run_isolated(code)
    assert r.returncode == 0, f"exit {r.returncode}: {r.stderr[-2000:]}"
    assert r.stdout.strip() == "ok"


def test_default_partition_on_tiny_images_covers_every_pixel() -> None:
    code = """
        import numpy as np
        import peephole
        model = lambda b: np.stack([b.mean(axis=(1, 2, 3)), 1 - b.mean(axis=(1, 2, 3))], 1)
        for h, w in [(1, 1), (3, 3), (9, 9), (4, 20)]:
            img = np.random.default_rng(h * w).random((h, w, 3)).astype(np.float32)
            e = peephole.explain(model, img, output="probs")
            assert e.maps.shape == (1, h, w) and np.isfinite(e.maps).all(), (h, w)
        print("ok")
    """
    r = run_isolated(code, timeout=120)
    assert r.returncode == 0, f"exit {r.returncode}: {r.stderr[-2000:]}"


@pytest.mark.parametrize("params", [{"num_superpixels": 0}, {"num_superpixels": 10**6}, {"num_levels": 0}, {"num_levels": 9}])
def test_seeds_parameters_outside_the_checked_range_are_refused_before_opencv(params: dict) -> None:
    with pytest.raises(InputError, match="SEEDS"):
        seeds(__import__("numpy").zeros((80, 80, 3)), **params)


def test_ctrl_c_during_segmentation_stops_without_running_the_queued_settings() -> None:
    """A real SIGINT while 100 settings are queued on the thread pool: the queued ones are dropped (Executor.map
    cancels them), so Ctrl-C ends the call within seconds."""
    import signal
    import time

    code = """
        import signal
        import numpy as np
        from peephole.modalities.image.superpixels import PAPER_SEGMENTATIONS, Superpixels
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as at a terminal, even if launched with SIGINT ignored
        img = np.random.default_rng(0).random((400, 400, 3))
        print("start", flush=True)
        Superpixels.from_image(img, PAPER_SEGMENTATIONS * 5, workers=2)
        print("finished", flush=True)
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "start"
        time.sleep(1.5)
        proc.send_signal(signal.SIGINT)
        t0 = time.monotonic()
        out, err = proc.communicate(timeout=60)
        stopped_after = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "finished" not in out and "KeyboardInterrupt" in err
    assert stopped_after < 8, f"took {stopped_after:.1f} s to stop"
