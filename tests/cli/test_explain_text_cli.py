"""The `peephole explain-text` command: per-word importance in the terminal and as HTML; clear errors."""

from __future__ import annotations

import pytest

from peephole.cli import main


def test_cli_explain_text_with_vader(tmp_path, capsys) -> None:
    pytest.importorskip("vaderSentiment", reason="the 'text' extra is not installed")
    out_html = tmp_path / "words.html"
    rc = main(["explain-text", "the parcel came on friday and the cake was delicious", "--html", str(out_html), "--no-color"])
    text = capsys.readouterr().out
    assert rc == 0
    assert "prediction: positive" in text and "top words (change from no words, " in text and "): delicious +" in text
    page = out_html.read_text(encoding="utf-8")
    assert ">delicious</span>" in page and "rgba(220,40,40,1.000)" in page


def test_cli_errors(capsys) -> None:
    assert main(["explain-text", "   ", "--model", "vader"]) == 1
    assert "empty" in capsys.readouterr().err
    assert main(["explain-text", "hello there", "--model", "no-such-model"]) == 2
    assert "unknown text model" in capsys.readouterr().err


def test_escape_sequences_in_the_text_are_never_echoed_raw(tmp_path, capsys) -> None:
    """The terminal rendering used to echo raw ESC / bidi-override characters from the input."""
    pytest.importorskip("vaderSentiment", reason="the 'text' extra is not installed")
    hostile = "great \x1b]0;pwned\x07 cake \x1b[2J and \u202eevil"
    assert main(["explain-text", hostile, "--no-color"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "\\x1b" in out and "\\u202e" in out


def test_colour_rendering_escapes_the_words_but_keeps_its_own_colours() -> None:
    from peephole.modalities.text.render import to_terminal

    out = to_terminal(["ok", "\x1b[31mred", "עברית", "👨‍👩‍👧"], [0.1, 0.9, 0.5, 0.2])
    assert out.count("\x1b[0m") == 4 and "\x1b[31m" not in out and "\\x1b[31mred" in out
    assert "עברית" in out and "👨‍👩‍👧" in out  # RTL letters and emoji (with ZWJ) are not controls


def test_an_unwritable_html_path_is_one_error_after_the_results(tmp_path, capsys) -> None:
    pytest.importorskip("vaderSentiment", reason="the 'text' extra is not installed")
    (tmp_path / "file").write_text("x")
    assert main(["explain-text", "a fine day", "--no-color", "--html", str(tmp_path / "file" / "out.html")]) == 2
    cap = capsys.readouterr()
    assert "prediction:" in cap.out and "cannot write" in cap.err and "Traceback" not in cap.err


def test_a_text_too_long_to_be_a_file_name_is_explained_and_named_short(tmp_path, capsys) -> None:
    """A 5,000-character text was an OSError traceback ("File name too long", from asking whether it is a folder),
    then, with --out, a file name too long to write and a title line of 5,000 characters: it is named by its first
    words and a digest, its title line by its first 80 characters and how many more (its words are all shown
    below). A colon in it, as a source:name path has, does not fail either."""
    pytest.importorskip("vaderSentiment", reason="the 'text' extra is not installed")
    import peephole
    from peephole.outputs import STEM_BYTES, input_stem

    text = " ".join(["good"] * 1000)
    assert main(["explain-text", text, "--method", "occlusion", "--out", str(tmp_path / "o"), "--no-color"]) == 0
    out = capsys.readouterr().out
    (head,) = [line for line in out.splitlines() if "model queries" in line]
    assert head.startswith("good good") and "… (+4920 characters): 1001 model queries" in head and len(head) < 150
    (npz,) = (tmp_path / "o").glob("*.npz")
    assert len(npz.stem.encode()) <= STEM_BYTES and npz.stem.startswith("good good") and npz.stem != input_stem(text + "!")
    assert peephole.load(tmp_path / "o", item=text).input == ["good"] * 1000  # the manifest names it by its text
    assert input_stem(f"{text}: and more") == " and more" and input_stem("x" * 300 + "\0:y" * 200)


def test_a_model_failing_on_the_hidden_text_still_shows_the_result(tmp_path, monkeypatch, capsys) -> None:
    """The terminal shows keep-one word scores as changes from the text with every word hidden, one more query: a
    model failing on it (GPT-2 on a text of no tokens) was a traceback after the result had been written. It is
    shown without that reference, saying why."""
    (tmp_path / "picky.py").write_text(
        "import numpy as np\n"
        "def model():\n"
        "    def scores(texts):\n"
        "        if any(not t.strip() for t in texts):\n"
        "            raise RuntimeError('cannot read an empty text')\n"
        "        return np.array([[t.count('good') + 0.5, 1.0] for t in texts])\n"
        "    return scores\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    argv = ["explain", "a good day", "--modality", "text", "--model", "picky:model", "--output", "scores", "--method",
            "pami", "--out", str(tmp_path / "o")]  # fmt: skip
    assert main([*argv, "--no-color"]) == 0
    captured = capsys.readouterr()
    assert "shown without the hidden text's score: the model raised RuntimeError" in captured.out
    assert "top words: good 1.500" in captured.out and "Traceback" not in captured.err
    assert list((tmp_path / "o").glob("*.npz"))


def test_a_file_given_to_a_text_model_is_one_error_not_a_one_word_text(tmp_path, capsys) -> None:
    """``peephole explain photo.png --model vader`` explained the file's name as a one-word text (a map of
    "/tmp/.../photo.png", with its prediction). A string naming a file is one error saying what a text model reads;
    the other inputs go through, and a word that names no file is a text."""
    import numpy as np

    import peephole
    from peephole.errors import InputError

    photo = tmp_path / "photo.png"
    photo.write_bytes(b"\x89PNG")

    def model(texts):
        return np.array([[t.count("good") + 0.5, 1.0] for t in texts])

    with pytest.raises(InputError, match="photo.png is a file, not a text: a text model explains the text it is given"):
        peephole.explain(model, str(photo), modality="text", output="scores")
    assert peephole.explain(model, "photo.png", modality="text", output="scores").input == ["photo.png"]  # no such file here
    pytest.importorskip("vaderSentiment", reason="the 'text' extra is not installed")
    assert main(["explain", str(photo), "a good film", "--model", "vader", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "photo.png is a file, not a text" in err and (tmp_path / "o" / "a good film.npz").is_file()
