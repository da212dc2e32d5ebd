"""The HTML report: contents, and every user-supplied string escaped (static checks; the browser test runs it)."""

from __future__ import annotations

import json
import re

import pytest
from runs_fixtures import EVIL, EVIL_NAME

from peephole.batch.report import write_report
from peephole.errors import InputError


def page_data(index):
    text = index.read_text()
    m = re.search(r'<script type="application/json" id="data">(.*?)</script>', text, re.S)
    return text, json.loads(m.group(1))


def test_report_holds_every_item_with_overlays_top_classes_and_a_summary(image_run):
    index = write_report(image_run)
    text, data = page_data(index)
    assert len(data["items"]) == 7 and sum(i["correct"] == 0 for i in data["items"]) >= 1
    done = [i for i in data["items"] if i["status"] == "done"]
    assert len(done) == 6 and all((index.parent / v["img"]).is_file() for i in done for v in i["views"])
    assert all((index.parent / i["input"]["img"]).is_file() for i in done)
    # classes offered: the 2 explained targets plus the third class (all 3 from the same queries)
    assert all(sorted(v["class"] for v in i["views"]) == [0, 1, 2] for i in done)
    assert all(len(i["top"]) == 3 and i["top"][0][2] >= i["top"][1][2] for i in done)
    assert data["summary"]["explained"] == 6 and data["summary"]["failed"] == 1
    assert "Failures (1)" in text and 'id="settings"' in text


def test_no_user_string_reaches_the_page_unescaped(image_run, text_run):
    for run in (image_run, text_run):
        text, data = page_data(write_report(run))
        script_blocks = re.findall(r"<script\b[^>]*>", text)
        assert len(script_blocks) == 2  # the data block and the report's own script, nothing injected
        assert "<script>window.__pwned" not in text and "<img src=x" not in text and "</table><script>" not in text
        assert "<b>plot</b>" not in text
    # the strings are still there, as data and as escaped text
    _, data = page_data(write_report(text_run))
    assert any(i["source"] == EVIL for i in data["items"])
    text, data = page_data(write_report(image_run))
    assert any(i["id"].endswith(EVIL_NAME) for i in data["items"])
    assert "\\u003cimg src=x onerror=window.__pwned=2\\u003e.png" in text  # JSON with '<' '>' escaped
    assert "accuracy on labelled items" in data["summary"]


def test_text_report_has_highlighted_words_per_class(text_run):
    _, data = page_data(write_report(text_run))
    item = next(i for i in data["items"] if i["source"] == "good good film")
    assert item["input"] == {}  # the words are in each class's fragment
    pos = next(v for v in item["views"] if v["name"] == "positive")
    spans = re.findall(r"rgba\(220,40,40,([0-9.]+)\)[^>]*>([^<]*)</span>", pos["html"])
    assert [w for _, w in spans] == ["good", "good", "film"] and spans[0][0] == "1.000"
    # one scale per item, shared by its classes: every word's highlight is its score placed on the item's range
    lo, hi = item["scale"]
    assert lo < hi
    for v in item["views"]:
        for alpha, score in re.findall(r"rgba\(220,40,40,([0-9.]+)\)[^>]*title=\"([-0-9.]+)\"", v["html"]):
            assert abs(float(alpha) - (float(score) - lo) / (hi - lo)) < 2e-3
    assert float(spans[2][0]) > 0  # film: not the item's lowest score (the negative class's 'good' is)
    evil = next(i for i in data["items"] if i["source"] == EVIL)
    assert all("<script" not in v["html"] and "&lt;" in v["html"] for v in evil["views"])  # the modality escaped the words


def test_an_items_maps_share_one_colour_scale(image_run):
    import numpy as np
    from PIL import Image

    from peephole.modalities.image.view import overlay
    from peephole.store.runs import Store

    index = write_report(image_run)
    _, data = page_data(index)
    item = next(i for i in data["items"] if i["status"] == "done")
    e = Store(image_run).load(item["id"])
    lo, hi = item["scale"]
    assert (lo, hi) == (
        min(float(e.map_of(v["class"]).min()) for v in item["views"]),
        max(float(e.map_of(v["class"]).max()) for v in item["views"]),
    )
    for v in item["views"]:
        shown = np.asarray(Image.open(index.parent / v["img"]))
        np.testing.assert_array_equal(shown, overlay(e.input, e.map_of(v["class"]), vmin=lo, vmax=hi))
    own = [overlay(e.input, e.map_of(v["class"])) for v in item["views"]]  # each on its own range: what it was
    assert any(not np.array_equal(np.asarray(Image.open(index.parent / v["img"])), o) for v, o in zip(item["views"], own))
    assert data["ramp"][0] == "#000080"  # jet, low to high: the overlays' colour map


def test_a_report_says_when_labels_are_needed(tmp_path):
    from runs_fixtures import TOY, ToyImageModel, write_images

    import peephole

    write_images(tmp_path / "flat", 2)  # one image at the top level: no class sub-folders, no labels
    run = peephole.run(ToyImageModel(), tmp_path / "flat", out=tmp_path / "r", progress=False, model_name="toy", **TOY)
    run.complete()
    text, _ = page_data(write_report(tmp_path / "r"))
    assert 'id="labels-note"' in text and "sub-folders named by class" in text
    text, _ = page_data(write_report(run.store, tmp_path / "again"))
    assert "no true labels" in text


def test_the_class_switchers_count_is_checked_and_zero_offers_the_targets_only(image_run, tmp_path):
    """``classes=-1`` would slice the top classes from the end (every class but the last): one InputError, no page;
    ``classes=0`` offers the explained targets only."""
    with pytest.raises(InputError, match="classes must be a whole number >= 0, got -1"):
        write_report(image_run, tmp_path / "neg", classes=-1)
    assert not (tmp_path / "neg").exists()
    _, data = page_data(write_report(image_run, tmp_path / "zero", classes=0))
    done = [i for i in data["items"] if i["status"] == "done"]
    assert done and all(len(i["views"]) == 2 for i in done)  # the 2 explained targets, not the third class
