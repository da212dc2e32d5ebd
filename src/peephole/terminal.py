"""Text a user or a model supplied (file names, item ids, class names, error messages that quote them), made safe:
printed with every control or bidi-override character shown as an escape, so that no name can set the terminal's
title, clear the screen or recolour what follows; stored as text UTF-8 can hold (:func:`storable`)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

#: C0 and C1 controls (ESC, BEL, CR, ...) and the bidi embeddings, overrides and isolates.
_UNSAFE = frozenset({*range(0x00, 0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)})


def printable(text: object) -> str:
    """``str(text)`` with every control or bidi-override character shown as an escape (``\\x1b``, ``\\u202e``), and
    a file name's bytes that are no UTF-8 as :func:`storable` writes them (a UTF-8 terminal's stream refuses them)."""
    text = storable(str(text))
    if not any(ord(c) in _UNSAFE for c in text):
        return text
    return "".join(c.encode("unicode_escape").decode("ascii") if ord(c) in _UNSAFE else c for c in text)


def storable(text: str) -> str:
    """``text`` as UTF-8 can hold it: a file name's bytes that are no UTF-8 (Python reads them as lone surrogates,
    which SQLite and JSON files refuse) written as ``\\xff``; any other lone surrogate as ``\\udcff``."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def safe(text: object) -> str:
    """``str(text)`` line by line through :func:`printable`: its newlines kept, every other control escaped."""
    return "\n".join(printable(line) for line in str(text).split("\n"))


class EscapingStream:
    """A text stream that passes what is written through :func:`printable`, keeping newlines, carriage returns
    (a progress bar redraws its line with them) and tabs: for the output of code that prints names it was given."""

    KEEP = {"\n", "\r", "\t"}

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write("".join(c if c in self.KEEP else printable(c) for c in text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def escaped_output() -> Iterator[None]:
    """``sys.stdout`` and ``sys.stderr`` escaped (:class:`EscapingStream`) for the duration of the block."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = EscapingStream(out), EscapingStream(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


def escaping(command: Callable[..., Any]) -> Callable[..., Any]:
    """``command`` run with its output escaped (:func:`escaped_output`): for a CLI command that prints no colours."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        with escaped_output():
            return command(*args, **kwargs)

    return run
