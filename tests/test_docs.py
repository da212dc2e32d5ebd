"""Every Python code block in the README and docs/ runs as written (each in a fresh interpreter).

A block may use a model file that a ``peephole train-mnist`` command in a ``bash`` block of the same
document makes (docs/systems.md trains its small MNIST models that way): that command runs first.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)


def blocks(doc: Path) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(doc.read_text(encoding="utf-8"))]


def setup_commands(doc: Path, code: str) -> list[list[str]]:
    """The ``peephole train-mnist FILE`` commands of the document's bash blocks whose FILE this block reads."""
    cmds = []
    for lang, text in blocks(doc):
        if lang != "bash":
            continue
        for line in text.replace("\\\n", " ").splitlines():
            args = shlex.split(line.split("#", 1)[0])
            if args[:2] == ["peephole", "train-mnist"] and len(args) > 2 and args[2] in code:
                cmds.append(args)
    return cmds


CASES = [(doc, code) for doc in DOCS for lang, code in blocks(doc) if lang == "python"]


@pytest.mark.slow
@pytest.mark.parametrize(("doc", "code"), CASES, ids=[f"{d.name}-{i}" for i, (d, _) in enumerate(CASES)])
def test_code_block_runs(doc: Path, code: str, tmp_path: Path) -> None:
    for args in setup_commands(doc, code):
        done = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{' '.join(args)}:\n{done.stderr[-2000:]}"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{doc.name} block failed:\n{code}\n---\n{done.stderr[-3000:]}"


def test_every_doc_with_python_has_its_blocks_collected() -> None:
    assert {d.name for d, _ in CASES} >= {"README.md", "text.md", "systems.md"}
