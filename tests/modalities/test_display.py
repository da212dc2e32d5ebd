"""How a result shows in a notebook and a REPL: ``_repr_html_`` with the maps as inline PNGs, ``_repr_png_``, a
short ``repr``, ``figure()`` on matplotlib's object API (the backend a user set stays set), ``show()``."""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser

import matplotlib
import pytest
from PIL import Image
from tiny_inputs import INPUTS

import peephole


class Parsed(HTMLParser):
    """The tags of a page, with their attributes, and its text."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def explain(kind: str, **kw):
    model, x, extra = INPUTS[kind]
    return peephole.explain(model, x, "pami", top_k=2, class_names=["cat <b>", "dog"], **extra, **kw)


def pngs(page: str) -> list[Image.Image]:
    """The pictures a page holds inline (data URLs), decoded."""
    out = []
    for tag, attrs in Parsed(page).tags:
        if tag == "img":
            src = attrs["src"] or ""
            assert src.startswith("data:image/png;base64,"), src[:40]
            out.append(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))))
    return out


@pytest.mark.parametrize("kind", ["image", "sequence"])
def test_a_notebook_shows_the_maps_inline_with_targets_names_and_probabilities(kind):
    e = explain(kind)
    page = e._repr_html_()
    pictures = pngs(page)
    assert pictures and all(p.format == "PNG" and p.size[0] > 100 for p in pictures)
    assert len(pictures) == (1 if kind == "image" else 2)  # image: one figure of all targets; sequence: one per target
    text = " ".join(Parsed(page).text)
    for t in e.targets:
        assert f"{e.probabilities[t]:.3f}" in text
    assert "cat <b>" in text and "<b>cat" not in page  # a class name shows as text, escaped
    assert f"{e.n_queries} model queries" in text and "pami" in text
    png = e._repr_png_()
    assert Image.open(io.BytesIO(png)).format == "PNG"


def test_a_notebook_shows_a_texts_words_highlighted():
    e = explain("text")
    page = e._repr_html_()
    assert pngs(page) == [] and e._repr_png_() is None
    spans = [a for tag, a in Parsed(page).tags if tag == "span"]
    assert len(spans) == 2 * len(INPUTS["text"][1].split())  # every word, for both targets


@pytest.mark.parametrize("kind", ["image", "text", "sequence"])
def test_repr_is_one_short_line(kind):
    e = explain(kind)
    r = repr(e)
    assert len(r) < 500 and "\n" not in r
    assert r.startswith("Explanation(method='pami'") and f"n_queries={e.n_queries}" in r
    assert "array(" not in r


def test_repr_stays_short_with_many_targets_and_long_names():
    model, x, extra = INPUTS["image"]
    names = ["a class name that goes on and on " * 5 + str(i) for i in range(2)]
    e = peephole.explain(model, x, "pami", top_k=2, class_names=names, **extra)
    e.targets = list(range(2)) * 30  # as many targets as a wide run could ask for
    assert len(repr(e)) < 500 and "+56 more" in repr(e)


def test_figure_leaves_the_backend_and_pyplot_alone():
    import matplotlib.pyplot as plt

    before = matplotlib.get_backend()
    try:
        matplotlib.use("svg")
        figures = plt.get_fignums()
        e = explain("image")
        fig = e.figure()
        assert matplotlib.get_backend() == "svg"
        assert plt.get_fignums() == figures  # the figure is not one of pyplot's
        assert isinstance(fig, matplotlib.figure.Figure) and len(fig.axes) == 4
        explain("sequence").figure()
        assert matplotlib.get_backend() == "svg" and plt.get_fignums() == figures
        buf = io.BytesIO()
        fig.savefig(buf, format="png")  # savable without pyplot
        assert Image.open(buf).size[0] > 300
    finally:
        matplotlib.use(before)


def test_show_draws_with_pyplot(monkeypatch):
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append([plt.figure(n) for n in plt.get_fignums()]))
    e = explain("image")
    e.show()
    assert len(shown) == 1 and len(shown[0][-1].axes) == 4
    plt.close("all")


def test_show_prints_a_texts_words(capsys):
    e = explain("text")
    e.show()
    out = capsys.readouterr().out
    assert all(w in out for w in INPUTS["text"][1].split()) and re.search(r"\x1b\[", out)


def test_progress_is_on_by_default_only_where_someone_watches(monkeypatch, capsys):
    model, x, extra = INPUTS["image"]

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delitem(__import__("sys").modules, "ipykernel", raising=False)
    tty = Terminal()
    monkeypatch.setattr("sys.stderr", tty)
    peephole.explain(model, x, "pami", **extra)
    assert "PAMI run 1" in tty.getvalue()
    log = io.StringIO()
    monkeypatch.setattr("sys.stderr", log)
    peephole.explain(model, x, "pami", **extra)
    assert log.getvalue() == ""


def test_the_default_methods_progress_bars_finish(monkeypatch):
    """PAMI path's step bars (one per segmentation) counted to the number of parts and stopped part-way (16/47) when
    the budget ended."""
    import peephole.methods.pami_path as pami_path

    bars = []
    real = pami_path.tqdm

    def recording(*args, **kwargs):
        bars.append(real(*args, **kwargs))
        return bars[-1]

    monkeypatch.setattr(pami_path, "tqdm", recording)
    model, _, extra = INPUTS["image"]
    photo = peephole.load_image("skimage:chelsea", size=48)  # parts enough for a path the budget ends early
    e = peephole.explain(model, photo, "pami-path", progress=True, n_samples=20, max_queries=60, **extra)
    steps = e.params["path_steps"]  # per segmentation (two on images)
    assert len(steps) == 2 and min(steps) > 0 and sum(steps) < e.params["n_parts"] - 2  # stopped by the budget
    assert [(b.n, b.total) for b in bars] == [(s, s) for s in steps]


def test_an_input_agnostic_result_still_shows_its_summary():
    e = explain("image")
    e.input = None  # what the lab's input-agnostic systems return
    page = e._repr_html_()
    assert "input-agnostic" in page and pngs(page) == [] and e._repr_png_() is None
    assert "input=-" in repr(e)


def test_a_notebook_draws_the_first_35_maps_of_a_sequence_and_counts_the_rest():
    """A sequence's notebook view drew one picture per target: 40 targets (top_k=40) are 35 pictures and a line
    counting the other 5 (``figure(target)`` draws each)."""
    import numpy as np

    def model(b):
        z = np.asarray(b, np.float64).sum(axis=1, keepdims=True) * np.linspace(-1, 1, 40)[None, :]
        e = np.exp(z - z.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    e = peephole.explain(model, np.linspace(0, 1, 12), "pami", modality="sequence", top_k=40, output="probs")
    page = e._repr_html_()
    assert len(e.targets) == 40 and len(pngs(page)) == 35
    assert "the first 35 of 40 targets' maps: figure(target) draws each" in " ".join(Parsed(page).text)
