"""The ``peephole`` command: one sub-command per file in this package, plus plug-in commands.

Plug-ins (e.g. ``peephole[lab]``'s eight commands) register a list of sub-command modules under the
``peephole.commands`` entry point; a plug-in command whose dependencies are missing says what to install.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from peephole.cli import benchmark as benchmark_cmd
from peephole.cli import explain as explain_cmd
from peephole.cli import explain_text as explain_text_cmd
from peephole.cli import report as report_cmd
from peephole.cli import run as run_cmd
from peephole.plugins import add_commands
from peephole.terminal import escaped_output

#: Sub-command modules; each has ``add_parser(subparsers)`` and ``run(args) -> int``.
COMMANDS = [explain_cmd, benchmark_cmd, explain_text_cmd, run_cmd, report_cmd]


def build_parser() -> argparse.ArgumentParser:
    """The ``peephole`` parser with every sub-command, plug-ins' included (the docs' tests parse their commands)."""
    from peephole.version import __version__

    parser = argparse.ArgumentParser(prog="peephole", description="Explain model predictions with PAMI.")
    parser.add_argument("--version", action="version", version=f"peephole {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for cmd in COMMANDS:
        cmd.add_parser(sub)
    add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    with escaped_output():  # argparse's own messages quote what was typed (unrecognised arguments, bad values)
        args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
