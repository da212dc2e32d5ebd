"""The Ray engine on a local 2-CPU Ray cluster started here: the same store, the same maps as the local engine."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from runs_fixtures import TOY, require, write_images

import peephole
from peephole.batch import open_run

TESTS = Path(__file__).resolve().parents[1] / "fixtures"
SRC = Path(peephole.__file__).resolve().parents[1]


def test_ray_run_equals_the_local_run_and_resumes(tmp_path, monkeypatch):
    require("ray")
    import ray

    write_images(tmp_path / "data", 6, seed=7)
    (tmp_path / "data" / "zz-broken.png").write_bytes(b"junk")
    # Ray's workers import the toy model factory and Peephole like this process does.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), str(SRC), os.environ.get("PYTHONPATH", "")]))
    kw = {**TOY, "progress": False, "seed": 3}
    local = peephole.run("runs_fixtures:make_toy", tmp_path / "data", out=tmp_path / "local", **kw).complete()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        first = list(peephole.run("runs_fixtures:make_toy", tmp_path / "data", out=tmp_path / "ray", engine="ray", **kw))
        assert sorted(r.id for r in first if r.ok) == sorted(f"{'sub/' if i % 2 else ''}img{i:03d}.png" for i in range(6))
        assert all(r.explanation is not None for r in first if r.ok)
        again = peephole.run("runs_fixtures:make_toy", tmp_path / "data", out=tmp_path / "ray", engine="ray", **kw)
        assert again.todo() == [(6, again.dataset.items[6])]  # only the failed item is retried
        s = again.complete()
    finally:
        ray.shutdown()
    assert s["done"] == local["done"] == 6 and s["failed"] == local["failed"] == 1
    a, b = open_run(tmp_path / "local"), open_run(tmp_path / "ray")
    assert [r["id"] for r in a.rows()] == [r["id"] for r in b.rows()]
    for r in a.rows("done"):
        ea, eb = a.load(r["id"]), b.load(r["id"])
        np.testing.assert_array_equal(ea.maps, eb.maps)
        np.testing.assert_array_equal(ea.scores, eb.scores)
        assert ea.targets == eb.targets
    assert b.rows("failed")[0]["error"] == a.rows("failed")[0]["error"]
    assert [s["engine"] for s in b.sessions()] == ["ray", "ray"]
