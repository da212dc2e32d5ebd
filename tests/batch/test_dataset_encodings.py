"""Dataset files in the encodings people save them in, and CSV lines the csv module refuses: read right, or one
InputError naming the file (never a UnicodeDecodeError or ``_csv.Error`` traceback)."""

from __future__ import annotations

import codecs
import csv

import pytest
from runs_fixtures import make_text_toy, write_images

import peephole
from peephole.batch import open_dataset
from peephole.cli import main
from peephole.errors import InputError

ROWS = [("Très bon café, déjà vu", "positive"), ("naïve — mauvais", "negative")]
CSV = "text,label\n" + "".join(f'"{t}",{lab}\n' for t, lab in ROWS)


@pytest.mark.parametrize(
    "encoding,bom",
    [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE)],
    ids=["utf-8", "utf-8-sig", "utf-16-le", "utf-16-be"],
)
def test_utf_encodings_with_or_without_a_byte_order_mark_read_the_same_items(tmp_path, encoding, bom):
    (tmp_path / "s.csv").write_bytes(bom + CSV.encode(encoding))
    ds = open_dataset(tmp_path / "s.csv")
    assert [(i.source, i.label) for i in ds] == ROWS
    (tmp_path / "ref.csv").write_text(CSV, encoding="utf-8")
    assert [i.id for i in ds] == [i.id for i in open_dataset(tmp_path / "ref.csv")]  # the same items, resumable
    (tmp_path / "s.txt").write_bytes(bom + "\n".join(t for t, _ in ROWS).encode(encoding))
    assert [i.source for i in open_dataset(tmp_path / "s.txt")] == [t for t, _ in ROWS]


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_a_latin_1_or_windows_1252_file_is_read_with_a_warning_naming_it(tmp_path, encoding):
    """It used to be a UnicodeDecodeError traceback."""
    text = CSV.replace(" — ", " - ") if encoding == "latin-1" else CSV  # latin-1 has no em dash
    (tmp_path / "s.csv").write_bytes(text.encode(encoding))
    with pytest.warns(UserWarning, match=r"s\.csv is not UTF-8 \(byte 0xe8 at offset 14\); read as cp1252"):
        ds = open_dataset(tmp_path / "s.csv")
    assert [i.source for i in ds] == [t for t, _ in csv.reader(text.splitlines()[1:])]


def test_nul_bytes_without_a_byte_order_mark_and_a_broken_mark_are_one_error(tmp_path):
    (tmp_path / "s.csv").write_bytes(CSV.encode("utf-16-le"))  # UTF-16 without its mark
    with pytest.raises(InputError, match=r"s\.csv: holds NUL bytes, so it is not a text file"):
        open_dataset(tmp_path / "s.csv")
    (tmp_path / "t.txt").write_bytes(codecs.BOM_UTF8 + b"ok\n\xff\xfe bad")
    with pytest.raises(InputError, match=r"t\.txt: starts with a utf-8-sig byte-order mark but is not utf-8-sig"):
        open_dataset(tmp_path / "t.txt")


def test_a_field_over_the_csv_limit_or_an_unclosed_quote_is_one_error_naming_the_line(tmp_path, capsys):
    """A 131,073-character field used to be a `_csv.Error` traceback."""
    long = "word " * 26_215  # 131,075 characters
    (tmp_path / "long.csv").write_text(f"text\nshort one\n{long}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"long\.csv, line 3: a field longer than 131,072 characters"):
        open_dataset(tmp_path / "long.csv")
    (tmp_path / "quote.csv").write_text('text\n"unclosed\n' + "more text\n" * 20_000, encoding="utf-8")
    with pytest.raises(InputError, match=r"quote\.csv, line \d+: .*an unclosed quote"):
        open_dataset(tmp_path / "quote.csv")
    assert (
        main(
            [
                "run",
                str(tmp_path / "long.csv"),
                "--out",
                str(tmp_path / "run"),
                "--model",
                "runs_fixtures:make_text_toy",
                "--quiet",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "line 3" in err
    (tmp_path / "ok.txt").write_text(f"{long}\n", encoding="utf-8")  # a .txt line has no limit
    assert len(open_dataset(tmp_path / "ok.txt").items[0].source) == len(long)


def test_a_run_over_a_windows_1252_csv_explains_the_texts_as_written(tmp_path):
    (tmp_path / "s.csv").write_bytes(CSV.encode("cp1252"))
    with pytest.warns(UserWarning, match="read as cp1252"):
        run = peephole.run(make_text_toy(), tmp_path / "s.csv", out=tmp_path / "run", model_name="toy", progress=False)
        s = run.complete()
    assert s["done"] == 2
    assert [r["source"] for r in run.store.rows()] == [t for t, _ in ROWS]


def test_a_path_holding_a_nul_character_is_its_items_error_and_the_others_still_go(tmp_path):
    """A UTF-8 file with its byte-order mark may hold NUL characters (the mark names the encoding, so the NUL check of
    mark-less files does not apply): a path cell holding one no longer fails the whole dataset with Python's
    "embedded null byte" ValueError; that item fails with one InputError when it loads, the others load."""
    from peephole.modalities.image.items import load_image_item

    (image,) = write_images(tmp_path, 1, size=(24, 28))
    (tmp_path / "list.csv").write_bytes(f"\ufeffpath\n{image.name}\nb\x00c.png\n".encode())
    d = open_dataset(tmp_path / "list.csv")
    assert [i.id for i in d.items] == [f"000001:{image.name}", "000002:b\x00c.png"]
    assert load_image_item(d.items[0].source).shape == (24, 28, 3)
    with pytest.raises(InputError, match="a path cannot hold a NUL character"):
        load_image_item(d.items[1].source)
    with pytest.raises(InputError, match="a path cannot hold a NUL character"):
        peephole.load_image("b\x00c.png")
