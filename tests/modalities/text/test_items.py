"""The text modality's dataset readers, item loading, report fragments and terminal lines."""

from __future__ import annotations

import pytest

import peephole
from peephole.errors import InputError
from peephole.modalities import get_modality
from peephole.modalities.items import NotThisKind

TEXT = get_modality("text")


class Words:
    output, class_names, preferred_batch_size, modality = "scores", ["good?"], 8, "text"

    def __call__(self, texts):
        return [[t.split().count("good")] for t in texts]


def test_a_text_file_and_a_csv_column(tmp_path):
    (tmp_path / "s.txt").write_text("one\n\nthree\n")
    items = TEXT.read_items(tmp_path / "s.txt")
    assert [i.source for i in items] == ["one", "three"] and items[1].id.startswith("000003:")
    (tmp_path / "s.csv").write_text("sentence,target\nhi there,1\n")
    (item,) = TEXT.read_items(tmp_path / "s.csv")
    assert item.source == "hi there" and item.label == "1"
    with pytest.raises(NotThisKind):
        TEXT.read_items(tmp_path)
    with pytest.raises(NotThisKind, match="no column of texts"):
        (tmp_path / "p.csv").write_text("path\na.png\n")
        TEXT.read_items(tmp_path / "p.csv")


def test_items_views_and_lines():
    assert not TEXT.resizes and TEXT.holds("a b") and not TEXT.holds(["a"])
    with pytest.raises(InputError, match="empty"):
        TEXT.load_item("   ")
    e = peephole.explain(Words(), "good <b>x</b> good", modality="text")
    assert TEXT.report_input(e) is None
    fragment = TEXT.report_view(e, 0)
    assert "&lt;b&gt;x&lt;/b&gt;" in fragment and "<b>x" not in fragment
    lines = TEXT.detail_lines(e, colour=False)
    assert lines[0].startswith("  good?: good[") and lines[1].startswith("    top words: good")
    assert TEXT.input_title("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert TEXT.map_shape(["a", "b", "c"]) == (3,)
