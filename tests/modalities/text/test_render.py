"""Rendering of per-word importance: HTML, terminal, ranking, and the views of a text explanation."""

from __future__ import annotations

import re

import numpy as np
import pytest

from peephole.errors import InputError
from peephole.modalities.text import html_page, ranking, to_html, to_terminal


def test_html_highlights_by_importance_and_escapes() -> None:
    ws = ["<b>bold</b>", "plain", "key"]
    out = to_html(ws, [0.2, 0.1, 0.9], title="pos & neg")
    assert "&lt;b&gt;bold&lt;/b&gt;" in out and "<b>bold</b>" not in out.replace("<b>pos &amp; neg</b>", "")
    alphas = [float(a) for a in re.findall(r"rgba\(\d+,\d+,\d+,([0-9.]+)\)", out)]
    assert alphas == pytest.approx([0.125, 0.0, 1.0])
    assert 'title="0.9000"' in out
    page = html_page([out])
    assert page.startswith("<!DOCTYPE html>") and 'charset="utf-8"' in page


def test_terminal_and_ranking() -> None:
    ws = ["a", "b", "c"]
    plain = to_terminal(ws, [0.1, 0.5, 0.3], colour=False)
    assert plain == "a[0.10] b[0.50] c[0.30]"
    coloured = to_terminal(ws, [0.1, 0.5, 0.3])
    codes = [int(c) for c in re.findall(r"\x1b\[48;5;(\d+)m", coloured)]
    assert codes[0] == 231 and codes[1] == 196  # weakest white, strongest red
    assert ranking(ws, [0.1, 0.5, 0.3]) == [(1, "b", 0.5), (2, "c", 0.3), (0, "a", 0.1)]
    assert to_terminal(["x"], [0.4], colour=False) == "x[0.40]"
    with pytest.raises(InputError, match="2 scores for 3 words"):
        to_html(ws, [0.1, 0.2])
    assert np.allclose(ranking(["x", "y"], [0.5, 0.5])[0][2], 0.5)


def test_text_explanation_renders_and_saves(tmp_path) -> None:
    from peephole import Explanation, explain, load

    def fn(batch: list[str]) -> np.ndarray:
        p = np.array([0.9 if "key" in t.split() else 0.2 for t in batch])
        return np.stack([1 - p, p], axis=1)

    e = explain(fn, "a b key c", modality="text", output="probs", class_names=["no", "yes"], targets=[1, 0])
    assert isinstance(e, Explanation)
    assert e.ranking(k=1) == [(2, "key", pytest.approx(0.9))]
    assert e.ranking(0, k=1)[0][1] != "key"
    assert ">key</span>" in e.html() and "yes (" in e.html()
    assert e.terminal(colour=False) == "a[0.20] b[0.20] key[0.90] c[0.20]"
    paths = e.write(tmp_path, "s")
    assert [p.name for p in paths] == ["s_top1_1_yes.html", "s_top2_0_no.html", "s.npz"]
    assert np.allclose(load(paths[-1]).maps[0], e.maps[0])
    with pytest.raises(AttributeError, match=r"a text explanation has no 'overlay'; its views: .*html.*ranking.*terminal"):
        e.overlay()
