"""Turning a text into the word list PAMI partitions: whitespace-separated words.

Punctuation stays attached to its word (``"great!"``), so joining the words with single spaces
gives the text back (runs of whitespace become one space). Models see the joined text.
"""

from __future__ import annotations

from collections.abc import Sequence

from peephole.errors import InputError


def decode(text: str | bytes) -> str:
    """``text`` as ``str``; bytes must be UTF-8 (a BOM is dropped)."""
    if isinstance(text, (bytes, bytearray)):
        try:
            return bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"the text is not valid UTF-8 (byte {exc.start}: {bytes(text)[exc.start : exc.start + 1]!r}); "
                f"decode it yourself with the right encoding and pass a str"
            ) from None
    if not isinstance(text, str):
        raise InputError(f"expected a text (str or UTF-8 bytes) or a list of words, got {type(text).__name__}")
    return text


def words(text: str | bytes | Sequence[str]) -> list[str]:
    """The words of ``text`` (a str, UTF-8 bytes, or an already tokenised list of words)."""
    if isinstance(text, (str, bytes, bytearray)):
        out = decode(text).split()
    elif not isinstance(text, Sequence):
        raise InputError(f"expected a text (str or UTF-8 bytes) or a list of words, got {type(text).__name__}")
    else:
        out = list(text)
        bad = [w for w in out if not isinstance(w, str) or not w.strip() or w != w.strip() or len(w.split()) > 1]
        if bad:
            raise InputError(f"a word list must hold non-empty words without whitespace, got {bad[0]!r}")
    if not out:
        raise InputError("the text is empty: there are no words to explain")
    return out


def join(ws: Sequence[str]) -> str:
    """The text made of ``ws`` (single spaces)."""
    return " ".join(ws)
