"""What every modality's dataset reader shares (peephole.modalities.items): which CSV column or .npz array holds the
inputs and the labels, and rows that hold no input."""

from __future__ import annotations

import numpy as np
import pytest
from runs_fixtures import write_images

from peephole.batch import open_dataset
from peephole.errors import InputError
from peephole.modalities import get_modality

IMAGE, TEXT, SEQ = (get_modality(m) for m in ("image", "text", "sequence"))


@pytest.mark.parametrize(
    ("modality", "header", "row"),
    [
        ("image", "image,file", "0001,d/img000.png"),  # an id column beside the paths: which is the image?
        ("image", "path,filename", "d/img000.png,d/img002.png"),
        ("text", "text,sentence", "a fine film,a poor film"),
        ("image", "path,label,class", "d/img000.png,red,blue"),  # which is the true label?
        ("text", "text,label,target", "a fine film,1,0"),
        ("sequence", "a,b,label,target", "1,2,0,1"),
    ],
)
def test_several_columns_that_could_hold_the_inputs_or_labels_are_one_error_naming_them(tmp_path, modality, header, row):
    write_images(tmp_path / "d", 3)
    (tmp_path / "t.csv").write_text(f"{header}\n{row}\n")
    with pytest.raises(InputError, match=r"could each hold the (inputs|labels); name the one to read with"):
        get_modality(modality).read_items(tmp_path / "t.csv", asked=True)


def test_the_column_named_is_read_when_several_could_be(tmp_path):
    write_images(tmp_path / "d", 3)
    (tmp_path / "t.csv").write_text("image,file,label,class\n0001,d/img000.png,red,3\n")
    (item,) = IMAGE.read_items(tmp_path / "t.csv", column="file", labels="class")
    assert item.source == str((tmp_path / "d/img000.png").resolve()) and item.label == "3"
    d = open_dataset(tmp_path / "t.csv", column="file", label_column="label")
    assert d.modality == "image" and d.items[0].label == "red"


def test_a_column_named_twice_in_the_header_is_one_error(tmp_path):
    """The csv module keeps the last of two same-named columns: the labels were silently the second 'label'."""
    write_images(tmp_path / "d", 3)
    (tmp_path / "t.csv").write_text("path,label,label\nd/img000.png,cat,dog\n")
    with pytest.raises(InputError, match="names column 'label' \\(labels\\) 2 times"):
        IMAGE.read_items(tmp_path / "t.csv")
    (tmp_path / "u.csv").write_text("text,text\na,b\n")
    with pytest.raises(InputError, match="names column 'text' \\(inputs\\) 2 times"):
        TEXT.read_items(tmp_path / "u.csv")
    (tmp_path / "v.csv").write_text("path,note,note\nd/img000.png,a,b\n")  # a column no one reads may repeat
    assert len(IMAGE.read_items(tmp_path / "v.csv")) == 1


def test_column_names_match_regardless_of_case_and_spaces(tmp_path):
    write_images(tmp_path / "d", 3)
    (tmp_path / "t.csv").write_text("Path, Label\nd/img000.png,red\n")
    (item,) = IMAGE.read_items(tmp_path / "t.csv")
    assert item.source == str((tmp_path / "d/img000.png").resolve()) and item.label == "red"
    (tmp_path / "s.csv").write_text("Review,SCORE\na fine film,5\n")
    (item,) = TEXT.read_items(tmp_path / "s.csv", column="review", labels="score")
    assert (item.source, item.label) == ("a fine film", "5")


@pytest.mark.parametrize("modality", ["image", "text"])
def test_a_row_of_more_fields_than_the_header_fails_its_own_item(tmp_path, modality):
    """An unquoted comma in a text or a file name: the row was cut at it and its tail read as the label."""
    write_images(tmp_path / "d", 3)
    first, bad = ("d/img000.png", "d/img001.png,x") if modality == "image" else ("a fine film", "loved it, really")
    (tmp_path / "t.csv").write_text(f"{'path' if modality == 'image' else 'text'},label\n{first},1\n{bad},1\n")
    mod = get_modality(modality)
    good, wrong = mod.read_items(tmp_path / "t.csv")
    assert mod.load_item(good.source) is not None
    with pytest.raises(InputError, match=r"t.csv, row 2: 3 fields for a header of 2 \(an unquoted comma\?"):
        mod.load_item(wrong.source)


def test_npz_arrays_are_picked_as_csv_columns_are(tmp_path):
    np.savez(tmp_path / "two.npz", x=np.zeros((2, 3)), inputs=np.ones((2, 3)))
    with pytest.raises(InputError, match="arrays 'x', 'inputs' could each hold the inputs"):
        SEQ.read_items(tmp_path / "two.npz")
    assert SEQ.read_items(tmp_path / "two.npz", column="inputs")[0].source.tolist() == [1.0, 1.0, 1.0]
    np.savez(tmp_path / "labels.npz", x=np.zeros((2, 3)), y=np.array([0, 1]), target=np.array([1, 0]))
    with pytest.raises(InputError, match="arrays 'y', 'target' could each hold the labels"):
        SEQ.read_items(tmp_path / "labels.npz")
    assert [i.label for i in SEQ.read_items(tmp_path / "labels.npz", labels="target")] == ["1", "0"]
    np.savez(tmp_path / "only.npz", target=np.zeros((2, 3)))  # one array: the inputs, not their own labels
    assert [i.label for i in SEQ.read_items(tmp_path / "only.npz")] == [None, None]
    np.savez(tmp_path / "none.npz", a=np.zeros((2, 3)), b=np.zeros(2))
    with pytest.raises(InputError, match="no array of sequences .* its arrays: \\['a', 'b'\\]"):
        SEQ.read_items(tmp_path / "none.npz")


@pytest.mark.parametrize(("suffix", "sep"), [(".csv", ";"), (".csv", "\t"), (".tsv", "\t")])
def test_tables_separated_by_semicolons_or_tabs_are_read(tmp_path, suffix, sep):
    """Excel's CSV in a locale whose decimal mark is a comma uses semicolons: the header was one column, 'path;label',
    so the file had no column of paths; a .tsv was no dataset at all."""
    write_images(tmp_path / "d", 2)
    (tmp_path / f"i{suffix}").write_text(f"path{sep}label\nd/img000.png{sep}red\n")
    (item,) = IMAGE.read_items(tmp_path / f"i{suffix}")
    assert item.source == str((tmp_path / "d/img000.png").resolve()) and item.label == "red"
    (tmp_path / f"t{suffix}").write_text(f"text{sep}label\na fine film, really{sep}1\n")
    (item,) = TEXT.read_items(tmp_path / f"t{suffix}")
    assert (item.source, item.label) == ("a fine film, really", "1")
    (tmp_path / f"s{suffix}").write_text(f"a{sep}b{sep}label\n1.5{sep}2{sep}x\n")
    (item,) = SEQ.read_items(tmp_path / f"s{suffix}", asked=True)
    assert item.source.tolist() == [1.5, 2.0] and item.label == "x"
    assert open_dataset(tmp_path / f"i{suffix}").modality == "image"


def test_a_semicolon_table_of_sequences_may_write_decimal_commas(tmp_path):
    (tmp_path / "s.csv").write_text("a;b;label\n1,5;-2,25e1;x\n3;4.5;y\n")
    first, second = SEQ.read_items(tmp_path / "s.csv", asked=True)
    assert first.source.tolist() == [1.5, -22.5] and second.source.tolist() == [3.0, 4.5]


def test_a_json_lines_table_is_read_as_a_csv_is_and_a_bad_line_fails_its_own_item(tmp_path):
    """``datasets``' ``to_json`` writes JSON Lines ({"text": ..., "label": 1} per line): no modality read it."""
    lines = [
        '{"text": "a fine film", "label": 1, "meta": {"source": "imdb"}}',
        "",
        '{"text": "a poor film, really", "label": 0}',
        '{"text": "unclosed',
        '["a", "list"]',
        '{"label": 2}',
        '{"text": "one", "text": "two"}',
    ]
    (tmp_path / "t.jsonl").write_text("\n".join(lines) + "\n")
    d = open_dataset(tmp_path / "t.jsonl")
    assert d.modality == "text" and len(d) == 6
    first, second, broken, listed, empty, twice = d.items
    assert (first.source, first.label, second.source, second.label) == ("a fine film", "1", "a poor film, really", "0")
    with pytest.raises(InputError, match=r"t.jsonl, row 3: line 4 is no JSON"):
        TEXT.load_item(broken.source)
    with pytest.raises(InputError, match=r"row 4: line 5 holds a JSON list, not an object"):
        TEXT.load_item(listed.source)
    with pytest.raises(InputError, match="empty"):
        TEXT.load_item(empty.source)
    with pytest.raises(InputError, match=r"line 7 is no JSON \(ValueError: its object names 'text' twice"):
        TEXT.load_item(twice.source)  # json keeps the last of two same keys without a word
    write_images(tmp_path / "d", 2)
    (tmp_path / "i.ndjson").write_text('{"image": "d/img000.png", "class": "red"}\n')
    (item,) = IMAGE.read_items(tmp_path / "i.ndjson")
    assert item.source == str((tmp_path / "d/img000.png").resolve()) and item.label == "red"


def test_a_parquet_table_is_read_as_a_csv_is(tmp_path, monkeypatch):
    """``datasets``' and pandas' ``to_parquet``: no modality read it. Its size is checked before it is read."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from peephole.modalities import tables

    pq.write_table(pa.table({"text": ["a fine film", None, "a poor one"], "label": [1, 0, None]}), tmp_path / "t.parquet")
    d = open_dataset(tmp_path / "t.parquet")
    assert d.modality == "text" and [(i.source, i.label) for i in d.items] == [
        ("a fine film", "1"),
        ("", "0"),
        ("a poor one", None),
    ]
    with pytest.raises(InputError, match="empty"):
        TEXT.load_item(d.items[1].source)
    pq.write_table(pa.table({"a": [1.5, 2.0], "b": [3, 4], "y": ["x", "z"]}), tmp_path / "s.parquet")
    first, _ = SEQ.read_items(tmp_path / "s.parquet", labels="y", asked=True)
    assert first.source.tolist() == [1.5, 3.0] and first.label == "x"
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match="not a readable Parquet file"):
        TEXT.read_items(tmp_path / "bad.parquet")
    monkeypatch.setattr(tables, "MAX_TABLE_BYTES", 10)  # as a table above 2 GiB uncompressed
    with pytest.raises(InputError, match="bytes uncompressed, more than Peephole reads"):
        TEXT.read_items(tmp_path / "t.parquet")


def test_images_embedded_in_a_parquet_table_are_explained(tmp_path):
    """A Hugging Face image dataset's Parquet holds each image's bytes ({"bytes": ..., "path": ...}); each was "no
    such file"."""
    pa = pytest.importorskip("pyarrow")
    import io

    import pyarrow.parquet as pq
    from PIL import Image
    from runs_fixtures import TOY, ToyImageModel

    import peephole
    from peephole.batch import open_run

    def png(colour):
        buf = io.BytesIO()
        Image.new("RGB", (40, 30), colour).save(buf, format="PNG")
        return buf.getvalue()

    images = [{"bytes": png((200, 0, 0)), "path": "red.png"}, {"bytes": png((0, 0, 0)), "path": None}]
    pq.write_table(pa.table({"image": images, "label": ["red", "dark"], "caption": [b"\x00", b"\x01"]}), tmp_path / "d.parquet")
    items = IMAGE.read_items(tmp_path / "d.parquet")
    assert [i.label for i in items] == ["red", "dark"] and items[0].id != items[1].id
    assert IMAGE.load_item(items[0].source, size=16)[..., 0].mean() > 0.7
    run = peephole.run(ToyImageModel(), tmp_path / "d.parquet", out=tmp_path / "run", targets="true", progress=False, **TOY)
    assert run.complete()["done"] == 2
    assert {r["source"] for r in open_run(tmp_path / "run").rows()} == {f"<image of {len(i['bytes']):,} bytes>" for i in images}
    with pytest.raises(InputError, match="column 'caption' holds bytes, not a text"):
        TEXT.load_item(TEXT.read_items(tmp_path / "d.parquet", column="caption")[0].source)
