"""The report card (``peephole benchmark --card``): columns, paired differences, leaders, budget, resume."""

from __future__ import annotations

import csv
import threading
import time

import numpy as np
import pytest
from imagenet_fixtures import cat_dog_logits, write_coco_boxes, write_imagenet_sample

from peephole.cli import main
from peephole.errors import InputError
from peephole.evaluation import MapMaker
from peephole.evaluation.card import (
    _defaults,
    budget_options,
    common_masker,
    fill_text,
    folder_samples,
    make_card,
    own_fill,
    paired_card,
    run_card,
)
from peephole.evaluation.methods import code_version
from peephole.models.callable import CallableModel
from peephole.store.runs import ClaimSession, Store

S = 32
REGION = (slice(8, 16), slice(16, 28))


def region_mean(batch):
    """p(class 1) = mean of channel 0 over REGION."""
    p = np.asarray(batch)[:, REGION[0], REGION[1], 0].mean(axis=(1, 2))
    return np.stack([1 - p, p], axis=1)


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    photos = []
    for i in range(4):
        img = (rng.random((S, S, 3)) * 80).astype(np.uint8)
        img[REGION[0], REGION[1], 0] = 200 + 10 * i  # the model says class 1
        photos.append((f"p{i}.png", img, 1, "thing"))
    return write_imagenet_sample(tmp_path / "data", photos)


def test_paired_differences_and_leads_match_a_hand_computation():
    values = {
        "a": {"insertion": [0.5, 0.7, 0.9], "deletion": [0.2, 0.3, 0.1]},
        "b": {"insertion": [0.4, 0.6, 0.9], "deletion": [0.1, 0.4, 0.0]},
    }
    card = {(r["column"], r["method"]): r for r in paired_card(values, "a")}
    assert {c for c, _ in card} == {"insertion", "deletion"}  # columns without scores are left out
    b = card["insertion", "b"]
    d = np.array([-0.1, -0.1, 0.0])
    assert b["mean"] == pytest.approx(19 / 30)
    assert b["delta"] == pytest.approx(d.mean())
    assert b["se"] == pytest.approx(d.std(ddof=1) / np.sqrt(3))
    assert card["insertion", "a"]["lead"] and not b["lead"]  # b trails by 2 paired s.e.
    assert card["insertion", "a"]["delta"] == 0.0
    # deletion: lower is better; b's mean 0.1667 < a's 0.2 but d = (-.1, +.1, -.1): within one s.e. -> tied-first
    dd = np.array([-0.1, 0.1, -0.1])
    assert card["deletion", "b"]["delta"] == pytest.approx(dd.mean())
    assert card["deletion", "b"]["se"] == pytest.approx(dd.std(ddof=1) / np.sqrt(3))
    assert card["deletion", "b"]["lead"] and card["deletion", "a"]["lead"]


def test_pairs_use_only_the_images_both_methods_scored():
    values = {"a": {"seed ρ": [0.5, np.nan, 0.9]}, "b": {"seed ρ": [0.7, 0.1, 0.8]}}
    b = {r["method"]: r for r in paired_card(values, "a")}["b"]
    assert b["delta"] == pytest.approx(((0.7 - 0.5) + (0.8 - 0.9)) / 2)
    assert b["n"] == 3 and b["mean"] == pytest.approx(1.6 / 3)


def test_budget_sets_each_methods_query_option():
    got = budget_options(["rise", "lime", "hsic", "gradcam", "random"], 100)
    assert got == {"rise": {"n_masks": 100}, "lime": {"n_samples": 100}, "hsic": {"n_designs": 100}}
    # PAMI path: max_queries is the whole call's; its surrogate's n_samples (default 200) must leave room for the path
    assert budget_options(["pami-path", "pami-adaptive"], 100) == {
        "pami-path": {"max_queries": 100, "n_samples": 50},
        "pami-adaptive": {"max_queries": 100},
    }
    assert budget_options(["pami-path"], 1000) == {"pami-path": {"max_queries": 1000, "n_samples": 200}}
    # Sobol: N·(64 + 1) queries, N a power of two: 500 -> 4 (260 queries), 2080 -> 32 (the paper's default)
    assert budget_options(["sobol"], 500) == {"sobol": {"n_designs": 4}}
    assert budget_options(["sobol"], 2080) == {"sobol": {"n_designs": 32}} and budget_options(["sobol"], 100)["sobol"] == {
        "n_designs": 2
    }
    assert budget_options(["sobol"], 500, {"sobol": {"cells": 4}}) == {"sobol": {"n_designs": 16}}  # 16 × 17 = 272
    with pytest.raises(InputError, match="positive"):
        budget_options(["rise"], 0)


def test_card_has_every_column_and_resume_redoes_nothing(folder, tmp_path, monkeypatch):
    maker = MapMaker(options={"rise": {"n_masks": 40, "masker": "grey"}}, _models={"onnx": CallableModel(region_mean, "probs")})
    out = tmp_path / "card"
    card = run_card(
        folder_samples(folder, None, size=S), ["rise", "random"], out, maker, "random", {"data": "t"}, stability=2, mu_samples=16
    )
    columns = {r["column"] for r in card if r["method"] == "rise"}
    assert columns == {"insertion", "deletion", "µFidelity", "seed ρ", "insertion (self-graded)", "deletion (self-graded)"}
    assert {r["column"] for r in card if r["method"] == "random"} == {"insertion", "deletion", "µFidelity"}  # no fill, no seeds
    rise = {r["column"]: r for r in card if r["method"] == "rise"}
    assert rise["seed ρ"]["n"] == 2 and rise["insertion"]["n"] == 4
    assert rise["deletion"]["mean"] < {r["column"]: r for r in card if r["method"] == "random"}["deletion"]["mean"]
    md = (out / "card.md").read_text()
    assert "insertion (self-graded)" in md and "self-graded: scored with the fill the method searched with" in md
    assert "| fill (made → scored) |" in md and "| grey → blur |" in md and "| — → blur |" in md
    assert "<table" in (out / "card.html").read_text()
    with (out / "card.csv").open() as f:
        rows = list(csv.DictReader(f))
        assert len(rows) == len(card) and {r["fill"] for r in rows if r["method"] == "rise"} == {"grey → blur"}
    with Store(out) as store:
        params = store.load("p0.png/rise").params
        assert params["n_masks"] == 40 and params["masker"] == "grey" and params["code"] == code_version("rise")
        # rise searched with grey: its held-out curves are on blur, its self-graded ones on grey (different numbers)
        m = next(r for r in store.rows() if r["id"] == "p0.png/rise")["metrics"]
        assert m["insertion"] != m["insertion (self-graded)"]

    calls = []
    monkeypatch.setattr(MapMaker, "maps", lambda self, *a, **k: calls.append(a))
    again = run_card(
        folder_samples(folder, None, size=S), ["rise", "random"], out, maker, "random", {"data": "t"}, stability=2, mu_samples=16
    )
    assert calls == [] and again == card


def counted_maps(monkeypatch):
    """The (method, index) of every map MapMaker makes from now on (it still makes them)."""
    calls = []
    maps = MapMaker.maps

    def spy(self, method, *a, **k):
        calls.append(method)
        return maps(self, method, *a, **k)

    monkeypatch.setattr(MapMaker, "maps", spy)
    return calls


def test_resume_redoes_only_the_items_whose_method_changed(folder, tmp_path, monkeypatch):
    out, samples = tmp_path / "card", lambda: folder_samples(folder, None, size=S)
    fast = {"rise": {"n_masks": 20}, "lime": {"n_samples": 20}}
    kw = {"stability": 0, "mu_samples": 8}
    model = {"onnx": CallableModel(region_mean, "probs")}
    run_card(samples(), ["rise", "random"], out, MapMaker(options=fast, _models=dict(model)), "random", {"data": "t"}, **kw)
    calls = counted_maps(monkeypatch)

    def again(methods, options=fast, **extra):
        calls.clear()
        maker = MapMaker(options=options, _models=dict(model))
        card = run_card(samples(), methods, out, maker, "random", {"data": "t"}, **kw, **extra)
        return card, list(calls)

    # a method added to the run: only its items are made; the stored ones are read back
    card, made = again(["rise", "random", "lime"])
    assert made == ["lime"] * 4 and {r["method"] for r in card} == {"rise", "random", "lime"}
    # an option of one method changed: that method's items are redone, not mixed with the old ones
    card, made = again(["rise", "random", "lime"], {**fast, "rise": {"n_masks": 30}})
    assert made == ["rise"] * 4
    with Store(out) as store:
        assert store.load("p3.png/rise").params["n_masks"] == 30 and store.load("p3.png/lime").params["n_samples"] == 20
        assert {r["id"]: r["attempts"] for r in store.rows()}["p0.png/rise"] == 2
    # the method's code changed (its version hash): redone too
    monkeypatch.setattr("peephole.evaluation.methods.code_version", lambda m: "edited" if m == "lime" else code_version(m))
    card, made = again(["rise", "random", "lime"], {**fast, "rise": {"n_masks": 30}})
    assert made == ["lime"] * 4 and "4 stored items redone by this process" in (out / "card.md").read_text()
    # --redo recomputes one method's items although nothing changed; a later resume reads them back
    assert again(["rise", "random", "lime"], {**fast, "rise": {"n_masks": 30}}, redo=["rise"])[1] == ["rise"] * 4
    assert again(["rise", "random", "lime"], {**fast, "rise": {"n_masks": 30}})[1] == []
    with pytest.raises(InputError, match="--redo names hsic, not among --methods"):
        again(["rise", "random"], redo=["hsic"])


def test_a_failing_map_is_recorded_and_the_card_goes_on(folder, tmp_path, monkeypatch):
    """One map raises: its item is stored as failed with the error, every other item is made, the card leaves that
    map out of its columns and says so; a resume tries only that item again."""
    out, samples = tmp_path / "card", lambda: folder_samples(folder, None, size=S)
    first = next(iter(samples())).image
    kw = {"stability": 0, "mu_samples": 8}
    maps = MapMaker.maps

    def flaky(self, method, image, *a, **k):
        if method == "rise" and np.array_equal(image, first):
            raise InputError("the ground-truth region is empty")
        return maps(self, method, image, *a, **k)

    def card(methods=("rise", "random")):
        maker = MapMaker(options={"rise": {"n_masks": 20}}, _models={"onnx": CallableModel(region_mean, "probs")})
        rows = run_card(samples(), list(methods), out, maker, "random", {"data": "t"}, **kw)
        return {(r["method"], r["column"]): r for r in rows}

    monkeypatch.setattr(MapMaker, "maps", flaky)
    got = card()
    assert got["rise", "insertion"]["n"] == 3 and got["random", "insertion"]["n"] == 4
    with Store(out) as store:
        status = store.status()
        assert status["p0.png/rise"] == "failed" and sum(v == "done" for v in status.values()) == 7
        error = next(r for r in store.rows() if r["id"] == "p0.png/rise")["error"]
        assert error == "InputError: the ground-truth region is empty"
    assert "1 maps failed and are left out of their columns" in (out / "card.md").read_text()
    monkeypatch.setattr(MapMaker, "maps", maps)
    calls = counted_maps(monkeypatch)  # every map succeeds now: only the failed one is made again
    assert card()["rise", "insertion"]["n"] == 4 and calls == ["rise"]
    assert "failed" not in (out / "card.md").read_text()


def test_two_processes_fill_one_card_and_make_each_item_once(folder, tmp_path):
    out, fast = tmp_path / "card", {"rise": {"n_masks": 20}, "lime": {"n_samples": 20}}
    model = {"onnx": CallableModel(region_mean, "probs")}
    cards: dict[int, list] = {}

    def worker(k: int) -> None:  # its own store connection and claim owner, as a second process has
        maker = MapMaker(options=fast, _models=dict(model))
        samples = folder_samples(folder, None, size=S)
        cards[k] = run_card(samples, ["rise", "lime", "random"], out, maker, "random", {"data": "t"}, stability=2, mu_samples=8)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cards[0] == cards[1] and {r["method"] for r in cards[0]} == {"rise", "lime", "random"}
    with Store(out) as store:
        rows = store.rows()
    assert len(rows) == 12 and {r["attempts"] for r in rows} == {1}  # 4 photos × 3 methods, each made once


def test_a_card_waits_for_items_another_process_holds_and_makes_them_if_it_stops(folder, tmp_path, monkeypatch):
    monkeypatch.setattr("peephole.evaluation.card.CLAIM_POLL_S", 0.05)
    out, log = tmp_path / "card", []
    maker = MapMaker(options={"rise": {"n_masks": 20}}, _models={"onnx": CallableModel(region_mean, "probs")})

    def card(methods: list[str]) -> None:
        samples = folder_samples(folder, None, size=S)
        run_card(samples, methods, out, maker, "random", {"data": "t"}, stability=0, mu_samples=8, log=log.append)

    card(["random"])  # the run store exists
    made = counted_maps(monkeypatch)
    done = threading.Event()
    with Store(out) as store:
        other = ClaimSession(store)  # another live run holds one item
        assert other.claim("p2.png/rise", None)
        t = threading.Thread(target=lambda: (card(["rise", "random"]), done.set()))
        t.start()
        waiting = "waiting for the items of 1 images that another process is making"
        for _ in range(600):  # its first pass over the photos (the machine may be slow)
            if waiting in log or done.is_set():
                break
            time.sleep(0.1)
        assert waiting in log and not done.wait(1)  # it waits: the card needs every item
        assert "| rise |" not in (out / "card.md").read_text()
        assert made.count("rise") == 3  # every rise item but the held one
        other.close()  # that run stops without storing it: its claim is released
        t.join(20)
    assert done.is_set() and made.count("rise") == 4 and "| rise |" in (out / "card.md").read_text()


def test_code_version_follows_the_modules_a_method_uses(monkeypatch):
    import inspect

    before = {m: code_version(m) for m in ("lime", "kernel-shap", "pami-path", "rise")}
    assert len(set(before.values())) == 4
    getsource = inspect.getsource
    # an edit to methods.surrogate (the coalitions and fits LIME, KernelSHAP and PAMI path share), RISE untouched
    monkeypatch.setattr(
        inspect, "getsource", lambda obj: getsource(obj) + ("# edited" if obj.__name__ == "peephole.methods.surrogate" else "")
    )
    after = {m: code_version(m) for m in before}
    assert after["rise"] == before["rise"]
    assert all(after[m] != before[m] for m in ("lime", "kernel-shap", "pami-path"))


def test_the_split_is_row_parity(folder):
    assert [s.name for s in folder_samples(folder, "dev", size=S)] == ["p0.png", "p2.png"]
    assert [s.name for s in folder_samples(folder, "test", size=S)] == ["p1.png", "p3.png"]
    shuffled = [s.name for s in folder_samples(folder, None, size=S, shuffle=0)]
    assert sorted(shuffled) == ["p0.png", "p1.png", "p2.png", "p3.png"] and shuffled != sorted(shuffled)
    assert shuffled == [s.name for s in folder_samples(folder, None, size=S, shuffle=0)]  # the same seed, the same order


def test_the_card_explains_the_top1_class_of_every_photo_unless_told_the_true_one(tmp_path):
    rng = np.random.default_rng(1)
    photos = []
    for i, label in enumerate((1, 0, 1)):  # the model says class 1 on every photo: p1 is misclassified
        img = (rng.random((S, S, 3)) * 80).astype(np.uint8)
        img[REGION[0], REGION[1], 0] = 220
        photos.append((f"p{i}.png", img, label, "thing"))
    data = write_imagenet_sample(tmp_path / "data", photos)
    maker = MapMaker(_models={"onnx": CallableModel(region_mean, "probs")})
    kw = {"stability": 0, "mu_samples": 8}
    lines = []
    card = run_card(
        folder_samples(data, None, size=S), ["centre"], tmp_path / "top1", maker, "centre", {}, log=lines.append, **kw
    )
    assert {r["column"]: r["n"] for r in card}["insertion"] == 3
    assert [line.split(":")[0] for line in lines] == ["1 p0.png/centre", "2 p1.png/centre", "3 p2.png/centre"]
    with Store(tmp_path / "top1") as store:
        rows = {r["id"]: r for r in store.rows()}
    assert rows["p1.png/centre"]["targets"] == [1] and rows["p1.png/centre"]["true_class"] == 0
    assert not rows["p1.png/centre"]["correct"]
    assert "the top-1 class is the item's class on 2" in (tmp_path / "top1" / "card.md").read_text()
    card = run_card(folder_samples(data, None, size=S), ["centre"], tmp_path / "true", maker, "centre", {}, target="true", **kw)
    assert {r["column"]: r["n"] for r in card}["insertion"] == 2
    assert "1 misclassified images skipped" in (tmp_path / "true" / "card.md").read_text()
    with pytest.raises(InputError, match="unknown --target 'label'"):
        run_card(folder_samples(data, None, size=S), ["centre"], tmp_path / "x", maker, "centre", {}, target="label")


def test_cli_card_errors_name_the_problem(folder, tmp_path, capsys):
    out = tmp_path / "cli"
    rc = main(["benchmark", "--card", "--methods", "rise", "--reference", "lime", "--out", str(out), "--data", str(folder)])
    assert rc == 2 and "reference method 'lime' is not among --methods" in capsys.readouterr().err
    rc = main(["benchmark", "--card", "--budget", "0", "--methods", "rise", "--out", str(out), "--data", str(folder)])
    assert rc == 2 and "--budget must be a positive" in capsys.readouterr().err


def synthetic_card(out, *args):
    """``peephole benchmark --card --synthetic ...`` on one torch thread (it trains a small CNN); its exit code."""
    torch = pytest.importorskip("torch", reason="the synthetic card trains a CNN with torch (the models or lab extra)")
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return main(["benchmark", "--card", "--synthetic", *args, "--out", str(out)])
    finally:
        torch.set_num_threads(n)


def test_synthetic_card_adds_the_ground_truth_columns(tmp_path, capsys):
    out = tmp_path / "syn"
    methods = "rise,random,occlusion"  # occlusion's windows: counted on the 32×32 inputs, sized by them
    rc = synthetic_card(out, "3", "--methods", methods, "--budget", "300", "--reference", "random", "--stability", "1")
    assert rc == 0
    rows = {(r["column"], r["method"]): r for r in csv.DictReader((out / "card.csv").open())}
    for m in ("rise", "occlusion"):
        assert float(rows["mask AUC", m]["mean"]) > float(rows["mask AUC", "random"]["mean"]) + 0.2, m
    assert ("relevance mass", "random") in rows and ("seed ρ", "rise") in rows
    assert ("insertion (self-graded)", "rise") in rows and ("insertion (self-graded)", "random") not in rows
    assert "synthetic" in capsys.readouterr().out


def test_common_masker_gives_every_masking_method_one_fill_unless_given_its_own():
    methods = ["rise", "lime", "pami-path", "random", "gradcam"]
    options = common_masker(methods, "blur", {"lime": {"masker": "black"}, "rise": {"n_masks": 40}})
    assert options["rise"] == {"masker": "blur", "n_masks": 40} and options["lime"] == {"masker": "black"}
    assert not {"pami-path", "random", "gradcam"} & set(options)  # blur is pami-path's own; the others hide nothing
    maker = MapMaker(options=options)
    assert [fill_text(maker, m) for m in methods] == ["blur → grey", "black → blur", "blur → grey", "— → blur", "— → blur"]
    assert fill_text(MapMaker(), "rise") == "grey → blur"  # its own default otherwise
    assert common_masker(methods, "grey", {}) == {"pami-path": {"masker": "grey"}}  # the others' own: their items reused
    with pytest.raises(InputError, match="unknown --masker 'fog'"):
        common_masker(methods, "fog", {})


def test_make_card_names_an_unknown_method_before_any_work(tmp_path):
    with pytest.raises(InputError, match="unknown method 'nope'"):
        make_card(["nope", "random"], tmp_path / "c", synthetic=2, masker="blur")
    assert not (tmp_path / "c").exists()


def test_cli_card_masker_sets_every_rows_fill(tmp_path, capsys):
    out = tmp_path / "syn"
    rc = synthetic_card(out, "2", "--methods", "rise,hsic,random", "--budget", "60", "--masker", "blur", "--stability", "0")
    assert rc == 0
    fills = {r["method"]: r["fill"] for r in csv.DictReader((out / "card.csv").open())}
    assert fills == {"rise": "blur → grey", "hsic": "blur → grey", "random": "— → blur"}  # hsic's own fill is black
    with Store(out) as store:
        assert store.load("synthetic-0000/hsic").params["masker"] == "blur"
    assert "masker: every method that hides pixels searched with blur" in capsys.readouterr().out
    rc = synthetic_card(tmp_path / "x", "2", "--methods", "rise", "--masker", "fog")
    assert rc == 2 and "unknown --masker 'fog'" in capsys.readouterr().err


def test_the_card_names_its_curves_step(tmp_path):
    assert synthetic_card(tmp_path / "a", "2", "--methods", "random", "--stability", "0", "--step", "100") == 0
    assert "curves at 100 px per step" in (tmp_path / "a" / "card.md").read_text()
    assert synthetic_card(tmp_path / "b", "2", "--methods", "random", "--stability", "0") == 0
    assert "curves at pixel granularity" in (tmp_path / "b" / "card.md").read_text()


def test_own_fill_is_the_setting_else_the_modality_default():
    maker = MapMaker(options={"lime": {"masker": "blur"}})
    assert own_fill(maker, "lime") == "blur"
    assert own_fill(MapMaker(), "lime") == "grey" and own_fill(MapMaker(), "rise") == "grey"
    assert own_fill(MapMaker(), "pami-path") == "blur" and own_fill(MapMaker(), "hsic") == "black"
    assert own_fill(MapMaker(), "random") is None and own_fill(MapMaker(), "gradcam") is None


def test_a_coco_folder_adds_pointing_and_energy_pointing(tmp_path):
    from peephole.evaluation.card import coco_samples

    # cat box around the centre, dog box in the top-left corner
    write_coco_boxes(tmp_path, (80, 100), "0,cat\n2,dog\n", {"x.jpg": "0 0.5 0.5 0.2 0.2\n2 0.1 0.1 0.1 0.1\n"})
    model = CallableModel(cat_dog_logits, "logits")
    samples = list(coco_samples(tmp_path, model, None, size=S))
    assert [(s.name, s.label) for s in samples] == [("x.jpg:cat", 283), ("x.jpg:dog", 200)]
    maker = MapMaker(_models={"onnx": model})
    card = run_card(samples, ["centre", "random"], tmp_path / "out", maker, "random", {"data": "coco"}, mu_samples=8)
    centre = {r["column"]: r for r in card if r["method"] == "centre"}
    assert centre["pointing"]["mean"] == 0.5 and centre["pointing"]["n"] == 2  # cat hit, dog missed
    random = {r["column"]: r for r in card if r["method"] == "random"}
    # the centred Gaussian puts more of its mass in the central cat box than a random map does
    assert centre["energy pointing"]["mean"] > random["energy pointing"]["mean"] and centre["energy pointing"]["lead"]
    assert "insertion" in centre and "seed ρ" not in centre


def test_a_coco_class_under_a_pixel_wide_is_no_item(tmp_path):
    """A dog box 0.01 of the image wide (15.84-16.16 px at 32) covers no pixel centre at 32×32: no pointing trial there."""
    from peephole.evaluation.card import coco_samples
    from peephole.evaluation.data import class_regions, read_coco_boxes

    write_coco_boxes(tmp_path, (80, 100), "0,cat\n2,dog\n", {"x.jpg": "0 0.5 0.5 0.2 0.2\n2 0.5 0.5 0.01 0.01\n"})
    model = CallableModel(cat_dog_logits, "logits")
    assert [s.name for s in coco_samples(tmp_path, model, None, size=S)] == ["x.jpg:cat"]
    photo = read_coco_boxes(tmp_path)[0]
    assert list(class_regions(photo, (S, S))) == ["cat"] and list(class_regions(photo, (320, 320))) == ["cat", "dog"]
    assert class_regions(photo, (320, 320))["dog"].sum() == 16  # 158.4-161.6 px: four pixel centres each way


def test_coco_shuffle_permutes_the_split_photos_keeping_each_photos_classes_together(tmp_path):
    from peephole.evaluation.card import coco_samples

    names = [f"p{i}.jpg" for i in range(8)]
    write_coco_boxes(tmp_path, (40, 40), "0,cat\n2,dog\n", {n: "0 0.5 0.5 0.2 0.2\n2 0.1 0.1 0.1 0.1\n" for n in names})
    model = CallableModel(cat_dog_logits, "logits")
    plain = [s.name for s in coco_samples(tmp_path, model, "test", size=S)]
    mixed = [s.name for s in coco_samples(tmp_path, model, "test", size=S, shuffle=0)]
    assert sorted(mixed) == sorted(plain) and mixed != plain  # the same test-split items, another order
    assert [n.split(":")[0] for n in mixed[::2]] == [n.split(":")[0] for n in mixed[1::2]]  # cat and dog of a photo adjacent
    assert mixed == [s.name for s in coco_samples(tmp_path, model, "test", size=S, shuffle=0)]  # seeded
    assert mixed != [s.name for s in coco_samples(tmp_path, model, "test", size=S, shuffle=1)]


def test_budget_sets_keep_one_pami_segmentations_and_occlusion_windows():
    from peephole.modalities.image.windows import uncovered_gap, window_centres

    got = budget_options(["pami-superpixels", "pami", "pami-adaptive", "occlusion"], 100)
    segs = _defaults("pami")["segmentations"]
    # keep-one PAMI stays keep-one (no max_queries: that would make it adaptive): 100 // 23 = 4 segmentations, spread
    assert got["pami-superpixels"] == {"segmentations": (segs[0], segs[6], segs[13], segs[19])} == got["pami"]
    assert got["pami-adaptive"] == {"max_queries": 100}
    assert len(budget_options(["pami"], 10)["pami"]["segmentations"]) == 1
    assert budget_options(["pami"], 5000)["pami"]["segmentations"] == tuple(segs)
    for budget in (9, 25, 50, 100, 500):
        w = budget_options(["occlusion"], budget)["occlusion"]
        assert len(window_centres(224, w["stride"])) ** 2 <= budget < len(window_centres(224, w["stride"] - 1)) ** 2
        assert not uncovered_gap(w["radius"], w["stride"]) and (w["radius"] == 40 or uncovered_gap(w["radius"] - 1, w["stride"]))
    assert budget_options(["occlusion"], 25)["occlusion"] == {"stride": 56, "radius": 40}  # 5 × 5 windows
    small = budget_options(["occlusion"], 100, size=32)["occlusion"]  # the unset radius by the image's size: 6 at 32
    assert len(window_centres(32, small["stride"])) ** 2 <= 100 and not uncovered_gap(small["radius"], small["stride"])
    assert small["radius"] == 6 or uncovered_gap(small["radius"] - 1, small["stride"])


def test_the_budget_table_is_one_card_per_budget_with_the_overhead(folder, tmp_path, monkeypatch, capsys):
    import peephole

    monkeypatch.setattr(peephole, "load_model", lambda name, backend: CallableModel(region_mean, "probs"))
    out = tmp_path / "budgets"
    args = ["benchmark", "--card", "--data", str(folder), "--methods", "occlusion,rise,random", "--budgets", "9,25",
            "--stability", "0", "--limit", "2", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    rows = list(csv.DictReader((out / "budgets.csv").open()))
    assert {(r["budget"], r["method"]) for r in rows} == {(b, m) for b in ("9", "25") for m in ("occlusion", "rise", "random")}
    assert {r["column"] for r in rows} == {"insertion", "deletion", "µFidelity"}
    q = {(r["budget"], r["method"]): float(r["queries"]) for r in rows}
    # the budget's masked queries and the unperturbed input
    assert q["9", "rise"] == 10 and q["25", "rise"] == 26 and q["9", "occlusion"] == 10 and q["25", "occlusion"] == 26
    over = {(r["budget"], r["method"]): float(r["overhead"]) for r in rows}
    assert over["25", "rise"] > 1 and np.isnan(over["25", "random"])  # a reference map makes no queries
    md = (out / "budgets.md").read_text()
    assert "| 25 | rise | 26 |" in md and md in capsys.readouterr().out
    assert "overhead" in (out / "budget-9" / "card.md").read_text()
    with Store(out / "budget-25") as store:
        assert store.load(next(r["id"] for r in store.rows() if r["id"].endswith("/rise"))).params["n_masks"] == 25
    calls = counted_maps(monkeypatch)
    assert main(args) == 0 and calls == []  # resumed: every card read back
    assert "Earlier calls" not in (out / "budgets.md").read_text()
    assert main([*args[:7], "25", *args[8:]]) == 0 and calls == []  # one budget again: the other card is named
    assert "left the cards of budgets 9 in this folder" in (out / "budgets.md").read_text()
    assert main([*args[:-2], "--budget", "9", "--out", str(out)]) == 2
    assert "not both" in capsys.readouterr().err
    assert main([*args[:7], "9,x", *args[8:]]) == 2 and "whole numbers" in capsys.readouterr().err


def test_road_columns_are_opt_in_curves_with_roads_imputation(folder, tmp_path):
    maker = MapMaker(options={"rise": {"n_masks": 20}}, _models={"onnx": CallableModel(region_mean, "probs")})
    kw = {"stability": 0, "mu_samples": 8}
    samples = lambda: folder_samples(folder, None, size=S)  # noqa: E731
    card = run_card(samples(), ["rise", "random"], tmp_path / "road", maker, "random", {}, road=4, **kw)
    road = {(r["column"], r["method"]): r for r in card if "ROAD" in r["column"]}
    assert set(road) == {(c, m) for c in ("insertion (ROAD)", "deletion (ROAD)") for m in ("rise", "random")}
    with Store(tmp_path / "road") as store:
        assert store.settings["road"] == 4
        m = next(r for r in store.rows("done") if r["id"] == "p0.png/rise")["metrics"]
    # ROAD's fill is neither of the others: its curve differs from the held-out and the self-graded ones
    assert m["insertion (ROAD)"] not in (m["insertion"], m["insertion (self-graded)"])
    assert "ROAD's noisy linear imputation" in (tmp_path / "road" / "card.md").read_text()
    plain = run_card(samples(), ["rise", "random"], tmp_path / "plain", maker, "random", {}, **kw)
    assert not any("ROAD" in r["column"] for r in plain)
    with pytest.raises(InputError, match="--road takes a number of curve steps"):
        run_card(samples(), ["random"], tmp_path / "bad", maker, "random", {}, road=-1, **kw)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--card", "--limit", "0"], "--limit must be a whole number >= 1, got 0"),
        (["--card", "--stability", "-1"], "--stability must be a whole number >= 0, got -1"),
        (["--card", "--step", "0"], "--step must be a whole number >= 1, got 0"),
        (["--limit", "-2"], "--limit must be a whole number >= 1, got -2"),  # would have dropped the last 2 images
        (["--skip", "-1"], "--skip must be a whole number >= 0, got -1"),  # would have started at the last image
    ],
)
def test_counts_that_would_count_from_the_end_or_score_nothing_are_refused_before_any_work(
    folder, tmp_path, capsys, args, message
):
    """A zero or negative count is one clear error (once an empty card of NaNs, or a slice from the end), and nothing
    is written."""
    out = tmp_path / "out"
    rc = main(["benchmark", "--methods", "random", "--data", str(folder), "--out", str(out), *args])
    assert rc == 2 and message in capsys.readouterr().err and not out.exists()


def test_the_pointing_game_refuses_a_negative_limit(tmp_path):
    from peephole.evaluation.runner import run_pointing

    with pytest.raises(InputError, match="--limit must be a whole number >= 1, got -2"):
        run_pointing(tmp_path / "no-such-folder", ["random"], tmp_path / "out", limit=-2)
    assert not (tmp_path / "out").exists()
