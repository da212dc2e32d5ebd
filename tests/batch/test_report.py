"""The HTML report: contents, and every user-supplied string escaped (static checks; the browser test runs it)."""

from __future__ import annotations

import json
import re

from runs_fixtures import EVIL, EVIL_NAME

from peephole.batch.report import write_report


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
    assert spans == [("1.000", "good"), ("1.000", "good"), ("0.000", "film")]
    evil = next(i for i in data["items"] if i["source"] == EVIL)
    assert all("<script" not in v["html"] and "&lt;" in v["html"] for v in evil["views"])  # the modality escaped the words
