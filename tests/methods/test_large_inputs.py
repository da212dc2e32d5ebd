"""Every image method on a 640×640 input under an address-space cap: memory grows with the batch, not the parts.

The window partition at stride 12 has 2,916 parts; before coalition masks were built per batch, LIME,
KernelSHAP and pami-path held every part's mask at once (2,916 × 409,600 float32 = 4.8 GB) and failed
under this cap with MemoryError.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

CAP = 1_600_000_000  # bytes of address space: the imports take ~0.8 GB of it, a batch of 8 inputs and its masks the rest

SCRIPT = textwrap.dedent(
    """
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))
    import numpy as np
    import peephole
    from peephole.modalities.image.superpixels import Segmentation, Superpixels

    SIZE = 640
    rng = np.random.default_rng(0)
    # 80-pixel tiles of random colours under a little noise: SLIC finds segments (on plain noise it finds one)
    tiles = np.kron(rng.random((SIZE // 80, SIZE // 80, 3)), np.ones((80, 80, 1)))
    x = (0.8 * tiles + 0.2 * rng.random((SIZE, SIZE, 3))).astype(np.float32)

    def model(batch):
        b, h = np.asarray(batch), SIZE // 2
        s = np.stack([b[:, :h].mean((1, 2, 3), dtype=np.float32), b[:, h:].mean((1, 2, 3), dtype=np.float32)], 1)
        return (s + 0.1) / (s + 0.1).sum(1, keepdims=True)

    windows = {{"partition": "window", "radius": 40, "stride": 12}}  # 2,916 parts
    few = {{"partition": "window", "radius": 40, "stride": 56}}  # 169 parts: one query each
    # 2,809 squares that barely overlap: a surrogate's coalitions keep about half the image (over the overlapping
    # windows above every coalition covers it all, a degenerate fit that is refused)
    squares = {{"partition": "window", "radius": 6, "stride": 12, "window": "square"}}
    groups = {{"partition": Superpixels.from_image(x, [Segmentation("slic", {{"n_segments": n}}) for n in (10, 30, 60)])}}
    one = {{"partition": Superpixels.from_image(x, [Segmentation("slic", {{"n_segments": 50}})])}}
    cases = [
        ("pami", few), ("pami", groups), ("pami", {{**groups, "max_queries": 60}}),
        ("pami", {{**few, "max_queries": 200, "coarse_share": 1.0}}),
        ("pami-path", {{**windows, "n_samples": 12, "max_queries": 40}}),
        ("pami-path", {{**one, "n_samples": 12, "max_queries": 40}}),
        ("lime", {{**squares, "n_samples": 20}}), ("lime", {{**groups, "n_samples": 20}}),
        ("kernel-shap", {{**squares, "n_samples": 20}}), ("kernel-shap", {{**groups, "n_samples": 20}}),
        ("occlusion", few), ("occlusion", groups),
        ("rise", {{"n_masks": 20}}),
    ]
    for i, (method, opts) in enumerate(cases):
        try:
            e = peephole.explain(model, x, method, output="probs", batch_size=8, **opts)
            ok = e.maps.shape == (1, SIZE, SIZE) and bool(np.isfinite(e.maps).all()) and e.n_queries > 1
            print(i, method, "ok" if ok else f"wrong maps {{e.maps.shape}}", flush=True)
        except MemoryError:
            print(i, method, "MemoryError", flush=True)
    """
)


@pytest.mark.slow
def test_every_image_method_explains_640x640_in_memory_bounded_by_the_batch():
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(cap=CAP)], capture_output=True, text=True, timeout=600, env=env)
    lines = out.stdout.splitlines()
    assert out.returncode == 0 and len(lines) == 13, out.stdout + out.stderr[-3000:]
    assert all(line.endswith(" ok") for line in lines), out.stdout
