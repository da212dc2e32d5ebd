"""Every input kind through the layers above the methods: a run over a text and a sequence dataset, its report
and ``peephole.load``; the command line on sequences; and no modality named by string in batch/, cli/, metrics/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from batch.sequence_toy import PEAK, SequenceToy, signals, write_signals
from runs_fixtures import make_text_toy

import peephole
from peephole.batch import open_dataset, open_run
from peephole.batch.report import write_report
from peephole.cli import main
from peephole.errors import InputError
from peephole.metrics import deletion, insertion
from peephole.modalities import MODALITIES, Modality, get_modality

SRC = Path(__file__).resolve().parents[2] / "src" / "peephole"


def page_data(index: Path) -> tuple[str, dict]:
    text = index.read_text()
    return text, json.loads(re.search(r'<script type="application/json" id="data">(.*?)</script>', text, re.S).group(1))


def test_a_text_run_reports_and_loads_each_item(tmp_path):
    (tmp_path / "s.csv").write_text("review,label\ngood good film,positive\nbad plot,negative\n")
    run = peephole.run(make_text_toy(), tmp_path / "s.csv", column="review", out=tmp_path / "run", progress=False, model_name="t")
    assert run.complete()["done"] == 2
    text, data = page_data(write_report(tmp_path / "run"))
    item = next(i for i in data["items"] if i["source"] == "good good film")
    assert item["correct"] == 1 and item["input"] == {}
    pos = next(v for v in item["views"] if v["name"] == "positive")
    assert pos["html"].count(">good</span>") == 2 and ">film</span>" in pos["html"]  # the item's rendering
    assert "\\u003e" + "good" + "\\u003c/span\\u003e" in text  # in the page, as escaped JSON data
    e = peephole.load(tmp_path / "run", item=item["id"])
    assert e.modality == "text" and e.input == ["good", "good", "film"] and e.name(e.targets[0]) == "positive"


def test_a_sequence_run_reports_and_loads_each_item(tmp_path):
    data_file = write_signals(tmp_path / "signals.npz", 4)
    run = peephole.run(SequenceToy(), data_file, out=tmp_path / "run", progress=False, model_name="seq", metrics=["insertion"])
    summary = run.complete()
    assert summary["done"] == 4 and summary["failed"] == 0
    store = peephole.batch.open_run(tmp_path / "run")
    assert store.settings["modality"] == "sequence" and store.settings["size"] is None  # no work size for sequences
    rows = store.rows()
    assert [r["correct"] for r in rows] == [1, 1, 1, 1] and all(0 <= r["metrics"]["insertion"] <= 1 for r in rows)
    index = write_report(tmp_path / "run")
    text, data = page_data(index)
    first = data["items"][0]
    assert first["input"] == {} and all((index.parent / v["img"]).is_file() for v in first["views"])
    from PIL import Image

    with Image.open(index.parent / first["views"][0]["img"]) as im:  # the item's plot, not an empty picture
        pixels = np.asarray(im.convert("RGB"))
    assert pixels.shape[0] > 100 and len(np.unique(pixels.reshape(-1, 3), axis=0)) > 10
    assert first["views"][0]["img"] in text
    e = peephole.load(tmp_path / "run", item=first["id"])
    assert e.modality == "sequence" and e.input.shape == (32,)
    assert set(np.argsort(-e.map_of(1))[:3]) <= set(range(PEAK.start, PEAK.stop))


def test_sequence_datasets_are_read_by_the_sequence_modality(tmp_path):
    npy = open_dataset(write_signals(tmp_path / "a.npy", 3))
    assert npy.modality == "sequence" and len(npy) == 3 and not npy.has_labels
    assert [i.id for i in npy] == [i.id for i in open_dataset(tmp_path / "a.npy")]  # stable ids
    npz = open_dataset(write_signals(tmp_path / "b.npz", 3))
    assert [i.label for i in npz] == ["1", "0", "1"]
    (tmp_path / "rows.csv").write_text("age,income,label\n30,2.5,0\n41,3.0,1\n")
    with pytest.raises(InputError, match="no modality reads it"):
        open_dataset(tmp_path / "rows.csv")  # a numeric CSV is sequences only when asked for
    rows = open_dataset(tmp_path / "rows.csv", modality="sequence")
    assert rows.modality == "sequence" and [i.label for i in rows] == ["0", "1"]
    np.testing.assert_array_equal(rows.items[1].source, [41.0, 3.0])
    folder = tmp_path / "f"
    for k in range(2):
        write_signals(folder / f"s{k}.npy", 1)
    assert [i.id for i in open_dataset(folder)] == ["s0.npy", "s1.npy"]
    assert open_dataset([np.zeros(8), np.ones(8)]).modality == "sequence"  # a list: the modality that holds them


def test_a_bad_row_of_a_csv_of_sequences_fails_its_item_and_the_others_run(tmp_path, capsys):
    """One field that was no number (or a row longer than the header, whose extra field was dropped silently) made the
    whole CSV one error, no row explained. That row's item fails saying which row and why; the others run."""
    x, _ = signals(3, length=24)
    lines = [",".join(f"v{i}" for i in range(24))] + [",".join(f"{v:.4f}" for v in row) for row in x]
    lines.insert(2, lines[1].replace(lines[1].split(",")[3], "n/a", 1))  # row 2: a field that is no number
    lines.insert(3, lines[1] + ",9")  # row 3: 25 fields
    (tmp_path / "rows.csv").write_text("\n".join(lines) + "\n")
    model = ["--model", "batch.sequence_toy:make_sequence_toy", "--modality", "sequence", "--quiet"]
    assert main(["run", str(tmp_path / "rows.csv"), "--out", str(tmp_path / "run"), *model]) == 1
    out = capsys.readouterr().out
    assert "3 of 5 items explained, 2 failed" in out
    errors = {r["id"].split(":")[0]: r["error"] for r in open_run(tmp_path / "run").rows() if r["status"] == "failed"}
    assert "rows.csv, row 2: a CSV of sequences holds numbers only (could not convert string to float: 'n/a')" in errors["000002"]
    assert "rows.csv, row 3: 25 fields for a header of 24" in errors["000003"]


def test_damaged_or_hostile_sequence_arrays_are_one_input_error_and_a_folders_others_still_run(tmp_path, capsys):
    """An .npy of Python objects, one whose header declares 10¹⁰ floats in 192 bytes (numpy allocated 75 GiB, or
    raised its MemoryError), one cut short, a damaged .npz and one declaring 3 GiB: each one InputError naming the file
    (they were raw ValueError / MemoryError tracebacks); in a folder of .npy sequences such a file fails its item
    only."""
    import io

    folder = tmp_path / "f"
    folder.mkdir()
    np.save(folder / "good.npy", np.load(write_signals(tmp_path / "one.npy", 1))[0])  # one sequence per file
    np.save(folder / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**10,)})
    (folder / "huge.npy").write_bytes(header.getvalue() + bytes(64))
    (folder / "cut.npy").write_bytes((folder / "good.npy").read_bytes()[:100])
    z = write_signals(tmp_path / "z.npz", 2)
    (tmp_path / "zbad.npz").write_bytes(z.read_bytes()[: z.stat().st_size // 2])
    for name, why in (("objects.npy", "holds Python objects"), ("huge.npy", "declares 80000000000 bytes but holds 192"),
                      ("cut.npy", "damaged, or not an .npy")):  # fmt: skip
        with pytest.raises(InputError, match=f"{name}: .*{why}"):
            open_dataset(folder / name)
    with pytest.raises(InputError, match="zbad.npz: not an .npz of sequences"):
        open_dataset(tmp_path / "zbad.npz")
    big = bytearray(write_signals(tmp_path / "big.npz", 2).read_bytes())
    at = big.rfind(b"PK\x01\x02")  # its last array's central directory record: 3 GiB uncompressed, it says
    big[at + 24 : at + 28] = (3 * 2**30).to_bytes(4, "little")
    (tmp_path / "big.npz").write_bytes(bytes(big))
    with pytest.raises(InputError, match=r"big.npz: .*more than Peephole loads .*save the sequences as .npy files"):
        open_dataset(tmp_path / "big.npz")  # the saved-results advice ("see max_bytes") was no use here
    assert main(["run", str(folder), "--out", str(tmp_path / "run"), "--model", "batch.sequence_toy:make_sequence_toy"]) == 1
    captured = capsys.readouterr()
    assert "1 of 4 items explained, 3 failed" in captured.out, captured.err


def test_peephole_run_and_explain_on_sequences_from_the_command_line(tmp_path, capsys):
    data_file = write_signals(tmp_path / "signals.npy", 2)
    model = ["--model", "batch.sequence_toy:make_sequence_toy", "--quiet"]
    assert main(["run", str(data_file), "--out", str(tmp_path / "run"), *model, "--report"]) == 0
    out = capsys.readouterr().out
    assert "2 of 2 items explained, 0 failed" in out and (tmp_path / "run" / "report" / "index.html").is_file()
    one = tmp_path / "one.npy"
    np.save(one, np.load(data_file)[0])
    code = main(
        ["explain", str(one), "--model", "batch.sequence_toy:make_sequence_toy", "--top-k", "1", "--out", str(tmp_path / "o")]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "prediction: peak" in out and "top positions" in out
    assert peephole.load(tmp_path / "o" / "one.npz").modality == "sequence"
    assert len(list((tmp_path / "o").glob("one_top1_*.png"))) == 1


def test_explain_takes_a_modality_and_texts_go_through_the_same_path(tmp_path, capsys):
    page = tmp_path / "p.html"
    args = ["explain", "good good film", "--modality", "text", "--model", "runs_fixtures:make_text_toy", "--top-k", "1"]
    assert main([*args, "--out", str(tmp_path / "o"), "--html", str(page), "--no-color"]) == 0
    out = capsys.readouterr().out
    assert "prediction: positive" in out and "top words (change from no words, 0.475): good +" in out
    assert ">film</span>" in page.read_text() and peephole.load(tmp_path / "o" / "good good film.npz").modality == "text"
    bad = ["explain", "good film", "--modality", "sequence", "--model", "runs_fixtures:make_text_toy", "--out", str(tmp_path)]
    assert main(bad) == 1
    assert "good film" in capsys.readouterr().err


def test_curves_ask_the_modality_for_their_substrate_and_name_one_without_curves():
    x = np.zeros(32, np.float32)
    x[PEAK] = 1.0
    good = np.zeros(32)
    good[PEAK] = 1.0
    ins, dele = insertion(SequenceToy(), x, good, 1, step=1), deletion(SequenceToy(), x, good, 1, step=1)
    assert ins.auc > 0.8 and dele.auc < 0.2 and len(ins.fractions) == 33

    class NoCurves(type(get_modality("sequence"))):
        name = "toy-kind"
        curve_masker = Modality.curve_masker

    with pytest.raises(InputError, match="not defined for toy-kind inputs"):
        insertion(SequenceToy(), x, good, 1, modality=NoCurves())
    with pytest.raises(InputError, match="does not match the sequence input"):
        insertion(SequenceToy(), x, np.zeros(5), 1)


NAMES = "|".join(map(re.escape, MODALITIES))
LITERAL = re.compile(rf"""(["'])(?:{NAMES})\1""")


#: The one exception: ``peephole explain-text``, a public command name kept as ``explain --modality text``.
ALLOWED = {("cli/explain_text.py", 'modality="text",')}


def test_no_modality_is_named_by_string_above_the_modalities():
    """batch/, cli/ and metrics/ ask the modality; a name appears only as data from the modality table."""
    found = [
        f"{path.relative_to(SRC)}:{n}: {line.strip()}"
        for part in ("batch", "cli", "metrics")
        for path in sorted((SRC / part).rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if LITERAL.search(line) and (path.relative_to(SRC).as_posix(), line.strip()) not in ALLOWED
    ]
    assert not found, found
    assert LITERAL.search('kind == "image"') and LITERAL.search("modality='text'")  # the scan itself works
