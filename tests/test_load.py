"""``peephole.load`` opens every saved result — a ``.npz``, an item of a ``peephole run`` folder, an item of a
``peephole benchmark`` folder, what ``peephole explain`` writes — and says clearly what it cannot open.
Each kind is made here with a tiny synthetic black box, never the real model."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import RegionModel, textured_image
from imagenet_fixtures import cat_dog_logits, write_coco_boxes, write_imagenet_sample
from PIL import Image
from runs_fixtures import TOY, make_toy, write_images

import peephole
from peephole.errors import InputError
from peephole.models.callable import CallableModel

REGION = (slice(8, 20), slice(10, 24))
S = 32


def small_explanation() -> peephole.Explanation:
    return peephole.explain(
        RegionModel(REGION), textured_image(S, S), "pami", partition="window", radius=6, stride=6, targets=[1]
    )


def test_a_saved_npz(tmp_path):
    e = small_explanation()
    back = peephole.load(e.save(tmp_path / "e.npz"))
    np.testing.assert_array_equal(back.maps, e.maps)
    assert back.targets == [1] and back.method == "pami"
    with pytest.raises(InputError, match="one saved explanation; load it without item="):
        peephole.load(tmp_path / "e.npz", item="x")


def test_a_failed_save_leaves_the_older_file_whole(tmp_path, monkeypatch):
    """A write that fails half-way (a full disk) raised and left a truncated file in place of the good one."""
    e = small_explanation()
    path = e.save(tmp_path / "e.npz")
    good = path.read_bytes()

    def half_then_full(f, **arrays):
        f.write(good[: len(good) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", half_then_full)
    with pytest.raises(OSError, match="No space left"):
        e.save(path)
    assert path.read_bytes() == good and sorted(p.name for p in tmp_path.iterdir()) == ["e.npz"]


def test_an_item_of_a_peephole_run_folder(tmp_path):
    write_images(tmp_path / "data", 2)
    peephole.run(make_toy(), tmp_path / "data", out=tmp_path / "run", model_name="toy", progress=False, **TOY).complete()
    run = peephole.batch.open_run(tmp_path / "run")
    ids = [r["id"] for r in run.rows("done")]
    assert len(ids) == 2
    for item in ids:
        e = peephole.load(tmp_path / "run", item=item)
        assert e.maps.shape == (2, S, S) and e.method == "pami"
        np.testing.assert_array_equal(e.maps, run.load(item).maps)
    run.close()
    with pytest.raises(InputError, match=r"no item 'nope\.png' in this run; its items are named like 'img000\.png'"):
        peephole.load(tmp_path / "run", item="nope.png")


@pytest.fixture
def imagenet_folder(tmp_path):
    """Two photos labelled class 1 (the textured region: the model says 1) and one labelled 0 (misclassified)."""
    photos = (("cat.png", 1), ("dog.png", 0), ("owl.png", 1))
    return write_imagenet_sample(
        tmp_path / "imagenet",
        [
            (name, (textured_image(S, S, seed=i) * 255).astype(np.uint8), label, name[:3])
            for i, (name, label) in enumerate(photos)
        ],
    )


def test_an_item_of_a_peephole_benchmark_folder(imagenet_folder, tmp_path):
    from peephole.evaluation import MapMaker, run_insertion_deletion

    maker = MapMaker(
        options={"occlusion": {"radius": 4, "stride": 4}}, _models={"onnx": CallableModel(RegionModel(REGION), "logits")}
    )
    out = tmp_path / "bench"
    table = run_insertion_deletion(imagenet_folder, ["occlusion", "centre"], out, maker=maker, size=S, step=64, progress=False)
    assert [r["n"] for r in table] == [2, 2]
    for image in ("cat.png", "owl.png"):
        for method in ("occlusion", "centre"):
            e = peephole.load(out, item=f"{image}/{method}")
            assert e.method == method and e.targets == [1] and e.maps.shape == (1, S, S)
            assert e.extras["insertion_curve"].shape == e.extras["deletion_curve"].shape == (S * S // 64 + 1,)
    e = peephole.load(out, item="cat.png/occlusion")
    assert e.n_queries > 1 and e.input.shape == (S, S, 3) and e.overlay().shape == (S, S, 3)  # a whole Explanation
    from peephole.batch.report import write_report

    page = write_report(out).read_text()  # the run report reads a benchmark folder like any run
    assert "cat.png/occlusion" in page and "skipped: misclassified" not in page  # the skip is data, the script shows it
    assert '"status": "skipped"' in page and "Failures (" not in page
    with pytest.raises(InputError, match=r"item 'dog\.png' was skipped \(misclassified"):
        peephole.load(out, item="dog.png")
    with pytest.raises(InputError, match=r"no item 'cat\.png/lime' in this run; its items are named like 'cat\.png/"):
        peephole.load(out, item="cat.png/lime")


def test_an_item_of_a_pointing_benchmark_folder(tmp_path):
    from peephole.evaluation import MapMaker, run_pointing

    data = write_coco_boxes(tmp_path / "coco", (40, 50), "0,cat\n2,dog\n", {"x.jpg": "0 0.5 0.5 0.2 0.2\n2 0.1 0.1 0.1 0.1\n"})
    maker = MapMaker(_models={"onnx": CallableModel(cat_dog_logits, "logits")})
    run_pointing(data, ["centre"], tmp_path / "out", maker=maker, size=S, progress=False)
    e = peephole.load(tmp_path / "out", item="x.jpg/centre")
    assert e.targets == [283, 200] and e.maps.shape == (2, S, S) and e.params["coco_classes"] == ["cat", "dog"]


def test_the_files_peephole_explain_writes(tmp_path, monkeypatch):
    from peephole.cli import main
    from peephole.models import as_model

    monkeypatch.setattr(peephole, "load_model", lambda *a, **k: as_model(RegionModel(REGION)))
    photo = tmp_path / "cat.png"
    Image.fromarray((textured_image(S, S) * 255).astype(np.uint8)).save(photo)
    out = tmp_path / "out"
    args = ["explain", str(photo), str(tmp_path / "missing.png"), "--method", "pami", "--strategy", "window"]
    assert main([*args, "--radius", "6", "--stride", "6", "--size", "0", "--top-k", "1", "--out", str(out)]) == 1
    by_path = peephole.load(out / "cat.npz")
    assert by_path.method == "pami" and by_path.maps.shape == (1, S, S)
    for item in ("cat", str(photo)):  # the input's stem, or the input as given
        np.testing.assert_array_equal(peephole.load(out, item=item).maps, by_path.maps)
    with pytest.raises(InputError, match=r"input 'missing' failed \(.*no such file"):
        peephole.load(out, item="missing")
    with pytest.raises(InputError, match=r"no input 'dog' in this peephole explain folder; its items: 'cat'"):
        peephole.load(out, item="dog")


def test_clear_errors_for_what_is_not_a_saved_result(tmp_path):
    small_explanation().save(tmp_path / "run" / "x.npz")
    with pytest.raises(InputError, match=r"is a folder; for one result in it: peephole.load\(.*item=ITEM_ID\)"):
        peephole.load(tmp_path / "run")
    with pytest.raises(InputError, match="neither a run folder .run.sqlite. nor a peephole explain folder"):
        peephole.load(tmp_path / "run", item="x")
    np.savez(tmp_path / "plain.npz", maps=np.zeros((1, 4, 4)))
    with pytest.raises(InputError, match="an .npz file but not a saved Peephole explanation"):
        peephole.load(tmp_path / "plain.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="cannot read .*not a saved explanation"):
        peephole.load(tmp_path / "junk.npz")
    with pytest.raises(InputError, match="no such file or folder"):
        peephole.load(tmp_path / "absent.npz")
