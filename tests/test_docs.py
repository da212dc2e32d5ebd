"""Every code block of README.md and docs/*.md runs as written.

Which fences are code, by rule:

- ```python blocks run with this interpreter in a fresh process;
- ```bash blocks run with ``bash -e -o pipefail``;
- every other fence — a plain ``` listing (command synopses, file layouts, measured output) or ```text — is
  not code and is skipped. A fence in any other language (``sh``, ``console``, ``py``, ...) fails
  :func:`test_every_fence_is_code_or_a_listing`, so no code block is skipped by accident.

Each block runs in its own temporary folder (so relative output paths land there, never in docs/img), with this
checkout's ``src`` first on ``PYTHONPATH`` and this interpreter's ``bin`` first on ``PATH`` (so ``peephole`` and
``python`` are this checkout's). The folder holds ``photos/chelsea.png`` (scikit-image's cat photo): the example
dataset that ``peephole run photos/ ...`` in the README and docs/runs.md explains.

A block that reads a model file that a ``peephole train-mnist FILE`` command in another ``bash`` block of the same
document makes (docs/systems.md trains its small MNIST models that way) gets that file copied into its folder:
the training block runs first (once per session; its own test checks that same run).

A block that cannot run here carries ``<!-- not-run: REASON -->`` on the line just before its fence; every
marker must give a reason and sit right above a code fence. The number of blocks run and not run is printed.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```\s*$", re.S | re.M)
MARKER = re.compile(r"<!--\s*not-run:(.*?)-->")
CODE = ("python", "bash")  # the languages that run
LISTINGS = ("", "text")  # fences that are not code: skipped by rule
TIMEOUT = 600


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    not_run: str | None  # the marker's reason, or None

    @property
    def id(self) -> str:
        return f"{self.doc.name}:{self.line}"


def blocks(doc: Path) -> list[Block]:
    text = doc.read_text(encoding="utf-8")
    lines = text.splitlines()
    out = []
    for m in FENCE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        before = lines[line - 2] if line >= 2 else ""
        marker = MARKER.search(before)
        out.append(Block(doc, line, m.group(1), m.group(2), marker.group(1).strip() if marker else None))
    return out


ALL = [b for doc in DOCS for b in blocks(doc)]
CODE_BLOCKS = [b for b in ALL if b.lang in CODE]
TO_RUN = [b for b in CODE_BLOCKS if b.not_run is None]


def trainers(block: Block) -> list[tuple[Block, list[str]]]:
    """The document's other bash blocks with a ``peephole train-mnist FILE`` line whose FILE this block reads, and
    those FILEs."""
    out = []
    for other in blocks(block.doc):
        if other.lang != "bash" or other.line == block.line or other.not_run is not None:
            continue
        files = [a[1] for a in peephole_commands(other) if a[:1] == ["train-mnist"] and len(a) > 1 and a[1] in block.code]
        if files:
            out.append((other, files))
    return out


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), *filter(None, [env.get("PYTHONPATH")])])
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("MPLBACKEND", "Agg")
    return env


@pytest.fixture(scope="session")
def sample_photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("photos") / "chelsea.png"
    code = (
        "import sys; from PIL import Image; from peephole.modalities.image.samples import sample_image; "
        "Image.fromarray(sample_image('skimage:chelsea')).save(sys.argv[1])"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], env=environment(), check=True, timeout=TIMEOUT)
    return path


@pytest.fixture(scope="session")
def run_block(tmp_path_factory: pytest.TempPathFactory, sample_photo: Path):
    """Run a block once per session in its own folder: ``(folder, completed process)``. A block that another one
    needs (a ``train-mnist`` block) runs when first needed, and its own test then checks that run."""
    done: dict[str, tuple[Path, subprocess.CompletedProcess]] = {}

    def run(block: Block) -> tuple[Path, subprocess.CompletedProcess]:
        if block.id not in done:
            cwd = tmp_path_factory.mktemp(re.sub(r"\W", "-", block.id))
            (cwd / "photos").mkdir()
            shutil.copy(sample_photo, cwd / "photos" / sample_photo.name)
            for other, files in trainers(block):
                folder, proc = run(other)
                assert proc.returncode == 0, f"{other.id}, which {block.id} needs, failed:\n{proc.stderr[-2000:]}"
                for name in files:
                    (cwd / name).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(folder / name, cwd / name)
            if block.lang == "python":
                command = [sys.executable, "-c", block.code]
            else:
                command = ["bash", "-e", "-o", "pipefail", "-c", block.code]
            proc = subprocess.run(command, cwd=cwd, env=environment(), capture_output=True, text=True, timeout=TIMEOUT)
            done[block.id] = (cwd, proc)
        return done[block.id]

    return run


@pytest.mark.slow
@pytest.mark.parametrize("block", TO_RUN, ids=[b.id for b in TO_RUN])
def test_code_block_runs(block: Block, run_block) -> None:
    _, done = run_block(block)
    assert done.returncode == 0, (
        f"{block.id} ({block.lang}) failed:\n{block.code}\n---\n{done.stdout[-1500:]}\n{done.stderr[-3000:]}"
    )


def test_every_fence_is_code_or_a_listing() -> None:
    odd = [f"{b.id} ```{b.lang}" for b in ALL if b.lang not in CODE + LISTINGS]
    assert not odd, f"fences in a language the test neither runs nor skips by rule: {odd}"
    for doc in DOCS:  # every fence line is one the parser read (an indented or unclosed fence would be missed)
        lines = doc.read_text(encoding="utf-8").splitlines()
        fences = [i for i, line in enumerate(lines, start=1) if line.lstrip().startswith("```")]
        assert len(fences) == 2 * len(blocks(doc)), f"{doc.name}: fence lines {fences} do not pair into blocks"


def test_not_run_markers_have_reasons_and_sit_on_code_fences(capsys: pytest.CaptureFixture[str]) -> None:
    fence_lines = {(b.doc, b.line - 1) for b in CODE_BLOCKS}
    stray = []
    for doc in DOCS:
        for i, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), start=1):
            if MARKER.search(line) and (doc, i) not in fence_lines:
                stray.append(f"{doc.name}:{i}")
    assert not stray, f"not-run markers that are not on the line just before a python/bash fence: {stray}"
    no_reason = [b.id for b in CODE_BLOCKS if b.not_run is not None and len(b.not_run) < 10]
    assert not no_reason, f"not-run markers without a reason: {no_reason}"
    skipped = [b for b in CODE_BLOCKS if b.not_run is not None]
    with capsys.disabled():
        print(f"\ndoc code blocks: {len(CODE_BLOCKS)}; run: {len(TO_RUN)}; not run: {len(skipped)}")
        for b in skipped:
            print(f"  not run: {b.id}: {b.not_run}")


def test_every_doc_with_code_has_its_blocks_collected() -> None:
    assert {b.doc.name for b in TO_RUN} >= {"README.md", "text.md", "systems.md", "runs.md", "pami.md"}
    assert {b.lang for b in TO_RUN} == set(CODE)


def peephole_commands(block: Block) -> list[list[str]]:
    """The ``peephole ...`` commands of a bash block as argument lists: continuation lines joined, comments and
    ``$(...)`` substitutions dropped (a substitution becomes a path), ``NAME=value`` lines of the block and a
    ``for NAME in VALUE ...`` loop's first value expanded, leading ``time``, ``do`` and environment assignments
    skipped."""
    variables: dict[str, str] = {}
    out = []
    for line in block.code.replace("\\\n", " ").splitlines():
        line = re.sub(r"\$\([^)]*\)", "/tmp/x", line)
        for name, value in sorted(variables.items(), key=lambda kv: -len(kv[0])):
            line = line.replace("${" + name + "}", value).replace("$" + name, value)
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        command: list[str] = []
        for token in [*lexer, ";"]:
            if token not in (";", "&&", "||", "|", "&"):
                command.append(token)
                continue
            if command[:1] == ["for"] and command[2:3] == ["in"] and len(command) > 3:
                variables[command[1]] = command[3]  # the lines after it see the loop's first value
            while command and (command[0] in ("time", "do") or re.fullmatch(r"[A-Za-z_]\w*=.*", command[0])):
                if len(command) == 1 and "=" in command[0]:  # NAME=value on its own: a variable later lines use
                    name, value = command[0].split("=", 1)
                    variables[name] = value
                command = command[1:]
            if command[:1] == ["peephole"]:
                out.append(command[1:])
            command = []
    return out


COMMANDS = [(b, c) for b in CODE_BLOCKS if b.lang == "bash" for c in peephole_commands(b)]


@pytest.mark.parametrize(("block", "argv"), COMMANDS, ids=[f"{b.id}:{' '.join(c[:1])}" for b, c in COMMANDS])
def test_every_peephole_command_parses(block: Block, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Every ``peephole`` command in the docs, the ones that are not run here included, parses with the real
    parser, and a benchmark's ``--methods`` are all known (a misspelt method would fail only hours into a run)."""
    from peephole.cli import build_parser
    from peephole.evaluation.methods import METHOD_NAMES

    try:
        args = build_parser().parse_args(argv)
    except SystemExit:
        pytest.fail(f"{block.id}: `peephole {' '.join(argv)}` does not parse: {capsys.readouterr().err[-600:]}")
    if args.command == "benchmark":
        unknown = [m for m in args.methods.split(",") if m.strip() and m.strip() not in METHOD_NAMES]
        assert not unknown, f"{block.id}: unknown benchmark methods {unknown}"


def test_peephole_commands_are_collected() -> None:
    assert len(COMMANDS) >= 40
    assert {c[0] for _, c in COMMANDS} >= {"explain", "benchmark", "run", "report"}
