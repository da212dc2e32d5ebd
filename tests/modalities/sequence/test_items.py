"""The sequence modality's dataset readers, item loading, report pictures and curve substrate."""

from __future__ import annotations

import numpy as np
import pytest

import peephole
from peephole.errors import InputError
from peephole.modalities import get_modality
from peephole.modalities.items import NotThisKind

SEQ = get_modality("sequence")


class Peak:
    output, class_names, preferred_batch_size, modality = "scores", ["peak"], 64, "sequence"

    def __call__(self, batch):
        return np.asarray(batch)[:, 3:5].sum(1, keepdims=True)


def test_arrays_folders_and_numeric_csvs(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(12.0).reshape(3, 4))
    items = SEQ.read_items(tmp_path / "a.npy")
    assert len(items) == 3 and items[0].id != items[1].id and np.array_equal(items[2].source, [8, 9, 10, 11])
    np.savez(tmp_path / "b.npz", inputs=np.zeros((2, 5, 2)), target=np.array([0, 1]))
    assert [i.label for i in SEQ.read_items(tmp_path / "b.npz")] == ["0", "1"]
    with pytest.raises(InputError, match="no array 'nope'"):
        SEQ.read_items(tmp_path / "b.npz", column="nope")
    (tmp_path / "r.csv").write_text("a,b,class\n1,2,x\n3,4,y\n")
    with pytest.raises(NotThisKind):
        SEQ.read_items(tmp_path / "r.csv")  # only when sequences are asked for
    rows = SEQ.read_items(tmp_path / "r.csv", asked=True)
    assert [i.label for i in rows] == ["x", "y"] and np.array_equal(rows[0].source, [1.0, 2.0])
    (tmp_path / "bad.csv").write_text("a,b\n1,two\n")
    with pytest.raises(InputError, match="bad.csv, row 1: a CSV of sequences holds numbers only"):
        SEQ.read_items(tmp_path / "bad.csv", asked=True)  # no row holds a sequence: one error
    (tmp_path / "one.csv").write_text("a,b\n1,two\n3,4\n")
    one_bad, good = SEQ.read_items(tmp_path / "one.csv", asked=True)
    np.testing.assert_array_equal(SEQ.load_item(good.source), [3.0, 4.0])
    with pytest.raises(InputError, match="one.csv, row 1: a CSV of sequences holds numbers only"):
        SEQ.load_item(one_bad.source)  # that item fails, the others run
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotThisKind, match="no .npy sequences"):
        SEQ.read_items(tmp_path / "empty")


def test_items_are_loaded_from_arrays_and_files(tmp_path):
    assert not SEQ.resizes and SEQ.holds(np.zeros(4)) and SEQ.holds([[1, 2], [3, 4]]) and not SEQ.holds("1 2")
    np.save(tmp_path / "one.npy", np.ones(6))
    (tmp_path / "one.csv").write_text("1,2,3\n")
    assert SEQ.load_item(str(tmp_path / "one.npy")).shape == (6,)
    assert SEQ.load_item(tmp_path / "one.csv").tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(InputError, match="no such file"):
        SEQ.load_item("missing.npy")


def test_report_picture_lines_and_curves():
    x = np.zeros(8)
    x[3:5] = 1
    e = peephole.explain(Peak(), x, partition="single")
    pic = SEQ.report_view(e, 0)
    assert pic.dtype == np.uint8 and pic.ndim == 3 and pic.shape[2] == 3 and SEQ.report_input(e) is None
    assert SEQ.detail_lines(e)[0].startswith("  peak: top positions 3 ")
    assert SEQ.map_shape(x) == (8,) and SEQ.curve_masker("deletion").bind(x)(np.zeros((1, 8), bool)).sum() == 0


def test_a_folder_of_sequences_leaves_hidden_files_out(tmp_path):
    np.save(tmp_path / "a.npy", np.ones(4))
    (tmp_path / "._a.npy").write_bytes(b"\x00\x05\x16\x07Mac OS X")  # a Mac's AppleDouble twin
    assert [i.id for i in SEQ.read_items(tmp_path)] == ["a.npy"]


def test_labels_saved_as_whole_floats_are_class_indices(tmp_path):
    """An .npz whose y was saved as floats gave labels '1.0', which name no class; images read them as 1 already."""
    np.savez(tmp_path / "f.npz", x=np.zeros((2, 4)), y=np.array([1.0, 0.0]))
    assert [i.label for i in SEQ.read_items(tmp_path / "f.npz")] == ["1", "0"]
    np.savez(tmp_path / "g.npz", x=np.zeros((2, 4)), y=np.array([0.5, 1.0]))  # not whole: kept as written
    assert [i.label for i in SEQ.read_items(tmp_path / "g.npz")] == ["0.5", "1.0"]
