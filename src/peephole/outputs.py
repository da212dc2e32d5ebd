"""Output folders of batch runs: a unique file stem per input and a manifest saying what made which file.

:class:`RunManifest` owns one output folder for one run. It checks the folder can be written before any
work, removes the files a previous run listed in its ``manifest.json`` (and only those, so nothing of
the user's is touched and no old result sits beside a new one), records every input as it is done
(its files, or its error) and rewrites ``manifest.json`` atomically after each, so an interrupted run
still says what it finished.

This is not the run store (:mod:`peephole.store.runs`) on purpose: ``peephole explain`` writes files named for
people (``cat_top1_281_tabby.png``, ``cat.npz``) and a re-run replaces the previous one, where a run store keeps
``items/<hash>.npz`` and resumes under fixed settings. ``peephole.load(OUT, item=STEM_OR_INPUT)`` reads an item's
``.npz`` through ``manifest.json`` (its items' ``stem``, ``input``, ``status`` and ``files`` are that contract).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from peephole.errors import InputError
from peephole.terminal import storable

MANIFEST = "manifest.json"
FORMAT = "peephole-run"


#: the most bytes of a file stem (names take 255 bytes on most file systems, and the suffixes follow the stem)
STEM_BYTES = 80


def input_stem(spec: str) -> str:
    """The file stem an input's outputs are named by: ``photos/cat.jpg`` -> ``cat``, ``skimage:chelsea`` -> ``chelsea``;
    a long text its first words and a digest (``good good ...-1a2b3c4d``: a 5,000-character text was a file name
    too long to write); a file name's bytes that are no UTF-8 written as ``\\xff`` (:func:`~peephole.terminal.storable`)."""
    try:
        exists = Path(spec).exists()
    except (OSError, ValueError):  # too long or too odd to be a path: a text
        exists = False
    name = storable(Path(spec.split(":", 1)[-1] if ":" in spec and not exists else spec).stem.replace("\0", "_"))
    if len(name.encode("utf-8", "surrogateescape")) > STEM_BYTES:
        digest = hashlib.sha1(spec.encode("utf-8", "surrogateescape")).hexdigest()[:8]
        head = name.encode("utf-8", "surrogateescape")[: STEM_BYTES - 9].decode("utf-8", "ignore").rstrip()
        name = f"{head}-{digest}"
    return name or "input"


def unique_stems(specs: Sequence[str]) -> list[str]:
    """One stem per input, never two alike: the first input with a stem keeps it, the next ones get
    ``-2``, ``-3``, ... (``a/cat.png``, ``b/cat.png``, ``cat.jpg`` -> ``cat``, ``cat-2``, ``cat-3``)."""
    taken: set[str] = set()
    out = []
    for spec in specs:
        base = input_stem(spec)
        stem, n = base, 1
        while stem.lower() in taken:  # case-insensitive: Cat.png and cat.png collide on some file systems
            n += 1
            stem = f"{base}-{n}"
        taken.add(stem.lower())
        out.append(stem)
    return out


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class RunManifest:
    """The record of one run into ``out_dir`` (see the module doc); ``settings`` is what the run was asked."""

    def __init__(self, out_dir: str | Path, command: str, settings: dict[str, Any]) -> None:
        from peephole.version import __version__

        self.out = Path(out_dir)
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot use {self.out} as the output folder: {exc.strerror or exc}") from exc
        if not self.out.is_dir():
            raise InputError(f"cannot use {self.out} as the output folder: it is a file")
        self.data: dict[str, Any] = {
            "format": FORMAT,
            "peephole": __version__,
            "command": command,
            "settings": settings,
            "started": _now(),
            "finished": None,
            "status": "running",
            "removed_from_previous_run": self._remove_previous(),
            "items": [],
        }
        self.write()  # fails here, before any work, if the folder cannot be written

    def _remove_previous(self) -> list[str]:
        """Delete the files the previous run's manifest lists (plain names inside this folder only)."""
        path = self.out / MANIFEST
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        if not isinstance(old, dict) or old.get("format") != FORMAT:
            return []
        removed = []
        for item in old.get("items", []):
            for name in item.get("files", []) if isinstance(item, dict) else []:
                if not isinstance(name, str) or Path(name).name != name or name in ("", ".", "..", MANIFEST):
                    continue
                f = self.out / name
                if f.is_file():
                    try:
                        f.unlink()
                    except OSError as exc:
                        raise InputError(f"cannot remove {f} from the previous run: {exc.strerror or exc}") from exc
                    removed.append(name)
        return removed

    def add(self, input: str, stem: str, files: Sequence[Path] = (), error: str | None = None, **info: Any) -> None:
        """Record one input: the files it made (names inside the folder) or its error, and what else to keep."""
        item = {"input": storable(input), "stem": stem, "status": "error" if error else "ok"}
        item["files"] = [Path(f).name for f in files]
        if error:
            item["error"] = error
        item.update(info)
        self.data["items"].append(item)
        self.write()

    def finish(self, status: str) -> Path:
        """Close the record: ``'complete'``, ``'failed'`` (some inputs failed) or ``'interrupted'``."""
        self.data["status"], self.data["finished"] = status, _now()
        return self.write()

    def write(self) -> Path:
        path = self.out / MANIFEST
        tmp = path.with_name(f".{MANIFEST}.{os.getpid()}.tmp")
        try:
            text = json.dumps(self.data, indent=1, ensure_ascii=False) + "\n"
            tmp.write_bytes(text.encode("utf-8", "backslashreplace"))  # a lone surrogate (argv's) as its JSON escape
            tmp.replace(path)
        except OSError as exc:
            raise InputError(f"cannot write {path}: {exc.strerror or exc}") from exc
        return path
