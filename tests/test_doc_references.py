"""Every test the docs cite exists: ``tests/PATH.py::test_name`` in README.md and docs/**/*.md names a file and a test
in it (``Class::method`` too; a parametrised ``[id]`` is dropped), and a bare ``::test_name`` continues the file last
named in its paragraph. A renamed or moved test would otherwise leave a reliability row citing nothing."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
CITED = re.compile(r"`(tests/[^`\s]*\.py(?:::[^`\s]+)?|::[^`\s]+)`")


def citations(text: str) -> list[tuple[str, str | None, str]]:
    """(token, its test file or None, the test's name) for each cited test; blank lines end a paragraph."""
    out, current = [], None
    for line in text.splitlines():
        if not line.strip():
            current = None
        for token in CITED.findall(line):
            path, _, name = token.partition("::")
            current = path or current
            out.append((token, current, name))
    return out


def defines(source: str, name: str) -> bool:
    """``source`` defines ``name`` (``Class::method``: both), a parametrised id dropped."""
    parts = re.sub(r"\[.*\]$", "", name).split("::")
    return all(re.search(rf"^\s*(?:async\s+)?(?:def|class)\s+{re.escape(p)}\b", source, re.M) for p in parts)


def test_every_cited_test_exists() -> None:
    missing = []
    for doc in DOCS:
        for token, path, name in citations(doc.read_text()):
            file = ROOT / path if path else None
            if file is None or not file.is_file():
                missing.append(f"{doc.relative_to(ROOT)}: {token} (no test file {path})")
            elif name and not defines(file.read_text(), name):
                missing.append(f"{doc.relative_to(ROOT)}: {token} (not in {path})")
    assert not missing, "\n".join(missing)


def test_the_check_reads_continued_citations_and_catches_a_missing_test() -> None:
    """A bare ``::name`` belongs to the file named before it in the paragraph; a name the file lacks is caught."""
    text = "`tests/test_doc_references.py::defines` and `::citations`\n\n`::defines`"
    found = citations(text)
    assert [(p, n) for _, p, n in found] == [
        ("tests/test_doc_references.py", "defines"),
        ("tests/test_doc_references.py", "citations"),
        (None, "defines"),
    ]
    source = (ROOT / "tests/test_doc_references.py").read_text()
    assert defines(source, "citations") and not defines(source, "no_such_test_here")
