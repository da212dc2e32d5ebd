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
    assert "prediction: positive" in text and "top words: delicious" in text
    page = out_html.read_text(encoding="utf-8")
    assert ">delicious</span>" in page and "rgba(220,40,40,1.000)" in page


def test_cli_errors(capsys) -> None:
    assert main(["explain-text", "   ", "--model", "vader"]) == 1
    assert "empty" in capsys.readouterr().err
    assert main(["explain-text", "hello there", "--model", "no-such-model"]) == 2
    assert "unknown text model" in capsys.readouterr().err
