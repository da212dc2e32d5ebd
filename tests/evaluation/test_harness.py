"""The benchmark harness end to end on tiny synthetic folders and black boxes (no shared data needed)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from imagenet_fixtures import cat_dog_logits, write_coco_boxes, write_imagenet_sample
from PIL import Image

import peephole
from peephole.cli import main
from peephole.errors import InputError
from peephole.evaluation import COCO_TO_IMAGENET, MapMaker, run_insertion_deletion, run_pointing
from peephole.models.callable import CallableModel
from peephole.store.runs import Store

S = 32
REGION = (slice(8, 16), slice(16, 28))


def scores(out, keys=("id", "status", "metrics", "targets", "n_queries")):
    """The benchmark's stored items (its one format: the run store in ``out``), without timestamps."""
    with Store(out) as store:
        return [{k: r[k] for k in keys} for r in store.rows()]


def region_mean(batch):
    """p(class 1) = mean of channel 0 over REGION."""
    p = np.asarray(batch)[:, REGION[0], REGION[1], 0].mean(axis=(1, 2))
    return np.stack([1 - p, p], axis=1)


@pytest.fixture
def imagenet_dir(tmp_path):
    img = np.zeros((S, S, 3), np.uint8)
    img[..., 0] = 230  # 0.902: the model says class 1
    photos = [("a.png", img, 1), ("b.png", img, 0), ("c.png", img, 1)]  # b is misclassified
    return write_imagenet_sample(tmp_path, [(name, pic, label, f"thing {name}") for name, pic, label in photos])


def test_insertion_deletion_run_scores_correct_images_only(imagenet_dir, tmp_path):
    maker = MapMaker(
        options={"occlusion": {"radius": 4, "stride": 4, "masker": "grey"}, "lime": {"n_samples": 40}},
        _models={"onnx": CallableModel(region_mean, "probs")},
    )
    out = tmp_path / "out"
    table = run_insertion_deletion(
        imagenet_dir, ["occlusion", "lime", "random", "centre"], out, maker=maker, size=S, step=16, progress=False
    )
    by = {r["method"]: r for r in table}
    assert all(r["n"] == 2 for r in table)  # b.png skipped
    # the blur of a constant image is the image: every insertion curve is flat at p = 230/255
    for r in table:
        assert r["insertion mean"] == pytest.approx(230 / 255, abs=1e-4)
    # deleting the region first (occlusion found it) drops p faster than a random order
    assert by["occlusion"]["deletion mean"] < by["random"]["deletion mean"] - 0.1
    assert by["occlusion"]["queries/img"] > 1 and by["random"]["queries/img"] == 0
    for f in ("summary.md", "summary.csv", "items.csv", "run.sqlite", "curves.png", "grid.png", "curves.npz", "settings.json"):
        assert (out / f).is_file(), f
    assert not (out / "rows.csv").exists() and not (out / "maps").exists()  # one format: the run store
    stored = {r["id"]: r for r in scores(out)}
    (skipped,) = scores(out, ("id", "status", "error", "correct"))[4:5]
    why = "misclassified: the model predicts 1 (class 1), not 0"
    assert skipped == {"id": "b.png", "status": "skipped", "error": why, "correct": 0}
    assert set(stored) == {"a.png/occlusion", "a.png/lime", "a.png/random", "a.png/centre", "b.png"} | {
        f"c.png/{m}" for m in ("occlusion", "lime", "random", "centre")
    }
    e = peephole.load(out, item="a.png/occlusion")  # every saved map is an Explanation
    assert e.method == "occlusion" and e.targets == [1] and e.maps.shape == (1, S, S) and e.params["radius"] == 4
    assert e.n_queries == stored["a.png/occlusion"]["n_queries"] > 1
    assert set(stored["a.png/occlusion"]["metrics"]) == {"insertion", "deletion"}
    with np.load(out / "curves.npz") as z:
        np.testing.assert_array_equal(z["occlusion__deletion"][0], e.extras["deletion_curve"])
    with pytest.raises(InputError, match="skipped .misclassified"):
        peephole.load(out, item="b.png")
    md = (out / "summary.md").read_text()
    assert "2 correctly classified images scored (3 read, 1 misclassified skipped)" in md
    settings = json.loads((out / "settings.json").read_text())
    assert settings["n_misclassified"] == 1 and settings["methods"]["lime"] == {"n_samples": 40}
    with np.load(out / "curves.npz") as z:
        assert z["random__deletion"].shape == (2, S * S // 16 + 1)


def test_pointing_run_on_a_coco_folder(tmp_path):
    # cat box around the centre, person (no ImageNet counterpart), dog box in the top-left corner
    lines = "0 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.9 0.9\n2 0.1 0.1 0.1 0.1\n"
    write_coco_boxes(tmp_path, (80, 100), "0,cat\n1,person\n2,dog\n", {"x.jpg": lines}, empty=("no_objects.jpg",))
    maker = MapMaker(_models={"onnx": CallableModel(cat_dog_logits, "logits")})
    table = run_pointing(tmp_path, ["centre", "random"], tmp_path / "out", maker=maker, size=S, progress=False)
    centre = next(r for r in table if r["method"] == "centre")
    assert centre["trials"] == 2 and centre["overall %"] == pytest.approx(50.0)  # cat hit, dog missed
    (row,) = [r for r in scores(tmp_path / "out") if r["id"] == "x.jpg/centre"]
    assert row["metrics"] == {"pointing/cat": 1, "pointing/dog": 0} and row["targets"] == [283, 200]
    e = peephole.load(tmp_path / "out", item="x.jpg/centre")  # one map per trial, at the model's size
    assert e.targets == [283, 200] and e.maps.shape == (2, S, S) and e.params["coco_classes"] == ["cat", "dog"]
    assert 283 in COCO_TO_IMAGENET["cat"] and 200 in COCO_TO_IMAGENET["dog"]


def test_mapping_table_uses_valid_distinct_imagenet_indices():
    for cls, idx in COCO_TO_IMAGENET.items():
        assert idx and all(0 <= i < 1000 for i in idx) and len(set(idx)) == len(idx), cls
    assert "person" not in COCO_TO_IMAGENET and "giraffe" not in COCO_TO_IMAGENET


def test_cli_reports_bad_arguments_clearly(imagenet_dir, tmp_path, capsys):
    assert main(["benchmark", "--data", str(imagenet_dir), "--methods", "pami,nope", "--out", str(tmp_path / "o")]) == 2
    assert "unknown method 'pami'" in capsys.readouterr().err
    assert main(["benchmark", "--data", str(tmp_path / "o2"), "--out", str(tmp_path / "o")]) == 2
    assert "neither an ImageNet sample" in capsys.readouterr().err
    assert main(["benchmark", "--data", str(imagenet_dir), "--metrics", "pointing", "--out", str(tmp_path / "o")]) == 2
    assert "COCO" in capsys.readouterr().err


@pytest.mark.parametrize("substrates", [None, ("grey", "black")])
def test_a_crashed_insertion_deletion_run_resumes_from_its_store(imagenet_dir, tmp_path, substrates):
    calls = {"n": 0, "fail_at": None}

    def flaky(batch):
        calls["n"] += 1
        if calls["fail_at"] is not None and calls["n"] >= calls["fail_at"]:
            raise RuntimeError("the machine went away")
        return region_mean(batch)

    opts = {"occlusion": {"radius": 4, "stride": 4, "masker": "grey"}}

    def bench(out, fail_at=None):
        calls.update(n=0, fail_at=fail_at)
        maker = MapMaker(options=opts, _models={"onnx": CallableModel(flaky, "probs")})
        methods = ["occlusion", "random"]
        return run_insertion_deletion(
            imagenet_dir, methods, out, maker=maker, size=S, step=16, progress=False, substrates=substrates
        )

    straight = bench(tmp_path / "straight")
    per_image = calls["n"]
    with pytest.raises(Exception, match="went away"):
        bench(tmp_path / "crashed", fail_at=per_image - 2)  # dies while scoring the last image
    resumed = bench(tmp_path / "crashed")
    assert calls["n"] < per_image  # the images scored before the crash were not scored again
    strip = [{k: v for k, v in r.items() if k != "s/img"} for r in straight]
    assert [{k: v for k, v in r.items() if k != "s/img"} for r in resumed] == strip
    assert scores(tmp_path / "crashed") == scores(tmp_path / "straight")
    with np.load(tmp_path / "crashed" / "curves.npz") as a, np.load(tmp_path / "straight" / "curves.npz") as b:
        assert sorted(a.files) == sorted(b.files) and all(np.array_equal(a[k], b[k]) for k in a.files)


def test_a_finished_pointing_run_is_replayed_from_its_store_without_a_query(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    (tmp_path / "classes.csv").write_text("class_id,name\n0,cat\n2,dog\n")
    for name in ("x", "y"):
        Image.fromarray(np.full((80, 100, 3), 128, np.uint8)).save(tmp_path / "images" / f"{name}.jpg")
        (tmp_path / "labels" / f"{name}.txt").write_text("0 0.5 0.5 0.2 0.2\n2 0.1 0.1 0.1 0.1\n")

    def logits(batch):
        out = np.zeros((len(batch), 1000))
        out[:, 283], out[:, 200] = 5.0, 3.0
        return out

    def broken(batch):
        raise RuntimeError("no query may be made: every image is in the store")

    run = lambda fn: run_pointing(  # noqa: E731
        tmp_path,
        ["centre", "random"],
        tmp_path / "out",
        maker=MapMaker(_models={"onnx": CallableModel(fn, "logits")}),
        size=S,
        progress=False,
    )
    first = run(logits)
    stored = scores(tmp_path / "out")
    assert sum(r["trials"] for r in first) == 8
    assert run(broken) == first  # every image replayed from the store: no query
    assert scores(tmp_path / "out") == stored
    (tmp_path / "images" / "z.jpg").write_bytes((tmp_path / "images" / "x.jpg").read_bytes())
    (tmp_path / "labels" / "z.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    with pytest.raises(RuntimeError, match="no query"):  # a new image is scored: the model is asked
        run(broken)


def test_substrate_matrix_masks_and_scores_every_method_on_each_substrate(imagenet_dir, tmp_path):
    """Per substrate s: insertion starts from s, deletion ends at s, masking methods mask with s."""
    seen_maskers = []

    class Spy(MapMaker):
        def maps(self, method, image, targets, index=0, masker=None):
            seen_maskers.append((method, masker))
            return super().maps(method, image, targets, index, masker)

    textured = np.zeros((S, S, 3), np.uint8)
    textured[..., 0] = 230
    textured[::2, ::2, 0] = 130  # the blur of a textured image differs from it
    Image.fromarray(textured).save(imagenet_dir / "a.png")
    maker = Spy(options={"lime": {"n_samples": 30}}, _models={"onnx": CallableModel(region_mean, "probs")})
    out = tmp_path / "matrix"
    table = run_insertion_deletion(
        imagenet_dir, ["lime", "centre"], out, maker=maker, size=S, step=16, progress=False, substrates=["blur", "black"]
    )
    assert [r["method"] for r in table] == ["lime@blur", "centre@blur", "lime@black", "centre@black"]
    assert ("lime", "blur") in seen_maskers and ("lime", "black") in seen_maskers
    assert [m for m, _ in seen_maskers].count("centre") == 2  # once per image, reused on both substrates
    by = {r["method"]: r for r in table}
    # from black, the insertion curve starts at p = 0; from the blur, at the blurred image's p > 0
    assert by["centre@black"]["insertion mean"] < by["centre@blur"]["insertion mean"] - 0.1
    settings = json.loads((out / "settings.json").read_text())
    assert settings["substrates"] == ["blur", "black"]


def test_dev_and_test_splits_are_the_even_and_odd_rows(imagenet_dir):
    from peephole.errors import InputError
    from peephole.evaluation.data import read_imagenet_sample

    assert [s.path.name for s in read_imagenet_sample(imagenet_dir, "dev")] == ["a.png", "c.png"]
    assert [s.path.name for s in read_imagenet_sample(imagenet_dir, "test")] == ["b.png"]
    with pytest.raises(InputError, match="unknown split"):
        read_imagenet_sample(imagenet_dir, "train")


def test_cli_takes_method_options_substrates_and_split(imagenet_dir, tmp_path, monkeypatch):
    import peephole.evaluation.methods as bm

    monkeypatch.setattr(bm.MapMaker, "model", lambda self, backend: CallableModel(region_mean, "probs"))
    out = tmp_path / "cli"
    code = main(
        ["benchmark", "--data", str(imagenet_dir), "--methods", "kernel-shap,random", "--option", "kernel-shap.n_samples=20",
         "--substrates", "grey", "--split", "dev", "--step", "256", "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    settings = json.loads((out / "settings.json").read_text())
    assert settings["methods"]["kernel-shap"]["n_samples"] == 20 and settings["split"] == "dev"
    assert {r["id"].split("/")[1] for r in scores(out) if r["status"] == "done"} == {"kernel-shap@grey", "random@grey"}
    assert "kernel-shap@grey" in (out / "items.csv").read_text()
    assert main(["benchmark", "--data", str(imagenet_dir), "--option", "nodot=3", "--out", str(out)]) == 2


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("--rise-masks", "n_masks must be in [1, 4194304], got 0"),
        ("--lime-samples", "n_samples must be in [2, 4194304], got 0"),
    ],
)
def test_a_zero_sample_count_is_refused_not_read_as_unset(imagenet_dir, tmp_path, monkeypatch, capsys, flag, message):
    """``--rise-masks 0`` / ``--lime-samples 0`` reach the method and are refused there; they used to mean "unset" and
    run RISE with its default 8,000 masks (LIME with 1,000 samples) without a word."""
    import peephole.evaluation.methods as bm

    monkeypatch.setattr(bm.MapMaker, "model", lambda self, backend: CallableModel(region_mean, "probs"))
    method = "rise" if flag == "--rise-masks" else "lime"
    rc = main(["benchmark", "--data", str(imagenet_dir), "--methods", method, flag, "0", "--out", str(tmp_path / "o")])
    assert rc == 2 and message in capsys.readouterr().err


def test_ctrl_c_stops_the_cli_benchmark_with_130_and_the_same_command_resumes(imagenet_dir, tmp_path, monkeypatch, capsys):
    import peephole.evaluation.methods as bm

    calls = {"n": 0, "stop_at": None}

    def pressed(batch):
        calls["n"] += 1
        if calls["stop_at"] is not None and calls["n"] == calls["stop_at"]:
            raise KeyboardInterrupt  # Ctrl-C during a model call
        return region_mean(batch)

    monkeypatch.setattr(bm.MapMaker, "model", lambda self, backend: CallableModel(pressed, "probs"))
    cmd = ["benchmark", "--data", str(imagenet_dir), "--methods", "occlusion,random", "--step", "256"]
    assert main([*cmd, "--out", str(tmp_path / "straight")]) == 0
    per_run = calls["n"]
    capsys.readouterr()
    calls.update(n=0, stop_at=per_run - 3)  # while scoring the last image
    assert main([*cmd, "--out", str(tmp_path / "stopped")]) == 130
    assert "interrupted: the images scored so far are kept in" in capsys.readouterr().err
    calls.update(n=0, stop_at=None)
    assert main([*cmd, "--out", str(tmp_path / "stopped")]) == 0
    assert calls["n"] < per_run  # resumed: the image scored before Ctrl-C was not scored again
    assert scores(tmp_path / "stopped") == scores(tmp_path / "straight")


@pytest.mark.parametrize(
    "variant",
    [
        "lime-pami",
        "lime-500",
        "kernel-shap-500",
        "rise-500",
        "pami-adaptive",
        "pami-path-fills",
        "pami-path-seg2",
        "pami-path-seg2-fills",
        "pami-path-slic50",
    ],
)
def test_budget_variants_stay_within_their_query_budget_and_find_the_region(variant):
    """Every method of the matrix that is run at the default explainer's budget spends at most 500 queries
    (pami-adaptive: 114); its map still puts more weight on the one region the model reads."""
    from conftest import RegionModel, mass_inside, textured_image

    from peephole.evaluation.methods import VARIANTS

    region = (slice(20, 44), slice(24, 56))
    maker = MapMaker(_models={"onnx": CallableModel(RegionModel(region), "logits")})
    r = maker(variant, textured_image(64, 80), 1)
    budget = VARIANTS[variant][1].get("max_queries", 500)
    assert 2 <= r.n_queries <= budget + 1 and np.isfinite(r.map).all()  # + 1: the unperturbed input
    inside, outside = mass_inside(r.map, region)
    assert inside > outside


@pytest.mark.parametrize("variant", ["hsic-slic", "sobol-slic"])
def test_design_methods_over_superpixels_find_the_region(variant):
    """HSIC and Sobol over LIME's SLIC-50 superpixels (not their papers' grid): one value per superpixel (Sobol: 32
    designs × (parts + 1) queries), more weight on the region the model reads, and the item's params name the partition."""
    import skimage.data
    from conftest import RegionModel, mass_inside

    from peephole.modalities.image.modality import slic
    from peephole.modalities.image.superpixels import SlicOptions

    region, x = (slice(10, 50), slice(40, 80)), skimage.data.astronaut()[::4, ::4]
    maker = MapMaker(_models={"onnx": CallableModel(RegionModel(region), "logits")})
    r = maker(variant, x, 1)
    inside, outside = mass_inside(r.map, region)
    assert inside > 2 * outside and maker.params(variant)["partition"] == "slic"
    labels = slic(x, SlicOptions(), 0).label_maps[0]
    parts = np.unique(labels)
    assert 20 <= len(parts) <= 80 and all(np.ptp(r.map[labels == p]) == 0 for p in parts)  # not 8×8 grid cells
    assert r.n_queries - 1 == (32 * (len(parts) + 1) if variant == "sobol-slic" else 500)


def test_item_params_name_the_partition_and_masker_each_method_uses(monkeypatch):
    """A resumed card reuses an item only when its params match: they name the partition and masker a method uses by
    default, so changing a default (PAMI path's SLIC-50 to 'slics' on 2026-12-06) redoes that method's items."""
    from peephole.modalities.image.modality import ImageModality

    maker = MapMaker()
    assert maker.params("pami-path")["partition"] == "slics" and maker.params("lime")["masker"] == "grey"
    assert "partition" not in maker.params("rise") and set(maker.params("gradcam")) == {"code"}
    now = maker.params("pami-path")
    monkeypatch.setitem(ImageModality.method_defaults, "pami-path", {"partition": "slic"})
    assert maker.params("pami-path") != now and maker.params("pami-path") == maker.params("pami-path-slic50")


def test_item_params_name_the_partition_a_budget_chooses():
    """PAMI path's default partition depends on its budget (one SLIC-50 segmentation at max_queries <= 50): a budget
    card's items name the one each budget used, so a 50-query item is never reused for a 100-query one's settings."""
    at = {b: MapMaker(options={"pami-path": {"max_queries": b, "n_samples": b // 2}}).params("pami-path") for b in (50, 100)}
    assert at[50]["partition"] == "slic" and at[100]["partition"] == "slics"


def test_correctly_classified_yields_the_first_n_correct_images_of_a_split(imagenet_dir):
    from peephole.evaluation.data import correctly_classified

    model = CallableModel(region_mean, "probs")
    got = [(s.path.name, img.shape) for s, img in correctly_classified(model, imagenet_dir, limit=5, size=S)]
    assert got == [("a.png", (S, S, 3)), ("c.png", (S, S, 3))]  # b.png is misclassified
    assert [s.path.name for s, _ in correctly_classified(model, imagenet_dir, limit=1, size=S)] == ["a.png"]
    assert [s.path.name for s, _ in correctly_classified(model, imagenet_dir, "test", size=S)] == []  # b only


def test_resume_redoes_only_the_unfinished_items_of_an_image(imagenet_dir, tmp_path):
    """A finished (image, method) item is never redone, even when its image was cut short: only the rest is made."""
    made = []

    class Spy(MapMaker):
        def maps(self, method, image, targets, index=0, masker=None):
            made.append(method)
            if method == "centre" and fail["on"]:
                raise RuntimeError("killed while making the centre map")
            return super().maps(method, image, targets, index, masker)

    fail = {"on": True}
    maker = Spy(_models={"onnx": CallableModel(region_mean, "probs")})
    bench = lambda: run_insertion_deletion(  # noqa: E731
        imagenet_dir, ["random", "centre"], tmp_path / "out", maker=maker, size=S, step=256, progress=False
    )
    with pytest.raises(RuntimeError, match="killed"):
        bench()
    assert [r["id"] for r in scores(tmp_path / "out") if r["status"] == "done"] == ["a.png/random"]
    made.clear()
    fail["on"] = False
    table = bench()
    assert made == ["centre", "random", "centre"]  # a.png: only centre; c.png: both (b.png stays skipped)
    assert [r["n"] for r in table] == [2, 2]
    assert peephole.load(tmp_path / "out", item="a.png/random").maps.shape == (1, S, S)
