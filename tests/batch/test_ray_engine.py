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


def test_ray_runs_a_table_with_a_bad_row_and_images_embedded_in_parquet(tmp_path, monkeypatch):
    """A CSV row of more fields than its header, or an image embedded in a Parquet table, made the Ray engine refuse
    the whole run ("an in-memory array"); the bad row fails alone and the embedded images are explained."""
    require("ray")
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq
    import ray
    from PIL import Image

    write_images(tmp_path / "d", 2)
    (tmp_path / "l.csv").write_text("path,label\nd/img000.png,red\nd/sub/img001.png,red,extra\n")
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 0, 0)).save(buf, format="PNG")
    pq.write_table(pa.table({"image": [{"bytes": buf.getvalue(), "path": "a.png"}]}), tmp_path / "e.parquet")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), str(SRC), os.environ.get("PYTHONPATH", "")]))
    kw = {**TOY, "progress": False, "engine": "ray"}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        table = peephole.run("runs_fixtures:make_toy", tmp_path / "l.csv", out=tmp_path / "csv", **kw).complete()
        embedded = peephole.run("runs_fixtures:make_toy", tmp_path / "e.parquet", out=tmp_path / "pq", **kw).complete()
    finally:
        ray.shutdown()
    assert (table["done"], table["failed"], embedded["done"]) == (1, 1, 1)
    assert "row 2: 3 fields for a header of 2" in open_run(tmp_path / "csv").rows("failed")[0]["error"]
