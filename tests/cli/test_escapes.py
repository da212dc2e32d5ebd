"""A name the command line was given (a file name, an item id, a message quoting one) is printed escaped: no
ESC or BEL byte reaches the terminal, so a file name cannot set the terminal's title, clear the screen or
recolour what follows."""

from __future__ import annotations

import io

import numpy as np
import pytest
from onnx_fixtures import tiny_onnx
from PIL import Image
from runs_fixtures import write_images

from peephole.cli import main
from peephole.terminal import EscapingStream, escaped_output, printable, safe

TITLE = "\x1b]0;pwned\x07x.png"  # sets the terminal's title
CLEAR = "\x1b[2J.png"  # clears the screen
COLOUR = "\x1b[31mred\x1b[0m.png"
NAMES = [TITLE, CLEAR, COLOUR]
FAST = ["--method", "pami", "--strategy", "window", "--radius", "6", "--stride", "8", "--size", "32", "--top-k", "1"]


def clean(text: str) -> bool:
    """No ESC or BEL byte, but for the cursor-up that tqdm's nested progress bars draw with (``--out``)."""
    return "\x1b" not in text.replace("\x1b[A", "") and "\x07" not in text


def test_printable_and_safe_escape_every_control() -> None:
    assert printable(TITLE) == "\\x1b]0;pwned\\x07x.png"
    assert printable("a\u202eb") == "a\\u202eb" and printable("plain é") == "plain é"
    assert safe("one\x1b[2J\ntwo\r") == "one\\x1b[2J\ntwo\\r"
    buf = io.StringIO()
    EscapingStream(buf).write("bar\r50%\x1b[A\n")
    assert buf.getvalue() == "bar\r50%\\x1b[A\n"


def test_escaped_output_wraps_and_restores_the_streams(capsys) -> None:
    with escaped_output():
        print(TITLE)
    print("after")
    assert capsys.readouterr().out == "\\x1b]0;pwned\\x07x.png\nafter\n"


@pytest.mark.parametrize("name", NAMES)
def test_explain_a_missing_file_with_escapes_in_its_name(tmp_path, capfd, name) -> None:
    tiny = str(tiny_onnx(tmp_path / "tiny.onnx"))
    assert main(["explain", str(tmp_path / name), "--model", tiny, *FAST, "--out", str(tmp_path / "out")]) == 1
    out, err = capfd.readouterr()
    assert clean(out) and clean(err)
    assert "error:" in err and "\\x1b" in err


def test_explain_files_with_escapes_in_their_names(tmp_path, capfd) -> None:
    tiny = str(tiny_onnx(tmp_path / "tiny.onnx"))
    paths = []
    for i, name in enumerate(NAMES):
        rgb = (np.random.default_rng(i).random((40, 40, 3)) * 255).astype(np.uint8)
        Image.fromarray(rgb).save(tmp_path / name, format="PNG")
        paths.append(str(tmp_path / name))
    assert main(["explain", *paths, "--model", tiny, *FAST, "--out", str(tmp_path / "out")]) == 0
    out, err = capfd.readouterr()
    assert clean(out) and clean(err)
    assert out.count("model queries") == 3 and "\\x1b]0;pwned\\x07x.png" in out


def test_run_on_a_folder_with_escapes_in_its_file_names(tmp_path, capfd) -> None:
    folder = tmp_path / "d"
    for path, name in zip(write_images(folder, 2), [TITLE, CLEAR]):
        path.rename(path.parent / name)
    (folder / COLOUR).write_bytes(b"junk")  # fails: its id is printed with the error
    args = ["--model", "runs_fixtures:make_toy", "--size", "32", "--top-k", "1"]
    window = ["--method", "pami", "--option", "partition=window", "--option", "radius=8", "--option", "stride=6"]
    code = main(["run", str(folder), "--out", str(tmp_path / "run"), *args, *window])  # not --quiet: the progress lines too
    out, err = capfd.readouterr()
    assert code == 1
    assert clean(out) and clean(err)
    assert "2 of 3 items explained, 1 failed" in out
    assert "failed: \\x1b[31mred\\x1b[0m" in out + err  # the runner's own line for the failed item, escaped
    assert main(["report", str(tmp_path / "run")]) == 0
    out, err = capfd.readouterr()
    assert clean(out) and clean(err)


@pytest.mark.parametrize("modality", ["text", "sequence"])
def test_class_names_with_escapes_are_shown_escaped_in_the_terminal_lines(modality) -> None:
    import peephole
    from peephole.modalities import get_modality

    if modality == "text":
        x: object = "a good film \x1b[2J with a bad ending"
        model = lambda texts: np.stack([[t.count("good") for t in texts], [t.count("bad") for t in texts]], 1) * 1.0  # noqa: E731
    else:
        x = np.sin(np.arange(20) / 3.0)
        model = lambda b: np.stack([np.asarray(b)[:, :10].sum(1), np.asarray(b)[:, 10:].sum(1)], 1)  # noqa: E731
    names = ["\x1b]0;pwned\x07pos", "\x1b[31mneg"]
    e = peephole.explain(model, x, "occlusion", modality=modality, output="scores", class_names=names, top_k=2)
    lines = get_modality(modality).detail_lines(e, colour=False)
    assert lines and all(clean(line) for line in lines)
    assert any("\\x1b]0;pwned\\x07pos" in line for line in lines)


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "data", "--out", "x", f"--bogus{TITLE}"],  # unrecognised arguments: quoted raw by argparse
        ["run", "data", "--out", "x", "--engine", "\u202eray"],  # an invalid choice
        [CLEAR],  # an unknown command
        ["explain", "x.png", "--size", COLOUR],  # an invalid int
        ["report"],  # a missing argument (nothing typed to escape: the message still comes)
    ],
)
def test_argparse_errors_quote_what_was_typed_escaped(capfd, argv) -> None:
    """argparse's own error lines used to print an unrecognised argument raw (ESC and BEL reached the terminal)."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    out, err = capfd.readouterr()
    assert clean(out) and clean(err) and "\u202e" not in err
    assert "error:" in err and "usage: peephole" in err
