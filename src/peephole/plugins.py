"""Plug-ins found through entry points: extra method rows (group ``peephole.methods``, a sequence of
:class:`~peephole.registry.MethodSpec`) and extra sub-commands (group ``peephole.commands``, a list of modules
with ``add_parser(subparsers)``). ``peephole[lab]`` is one; the library itself never imports a plug-in.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Any


def loaded(group: str) -> Iterator[tuple[str, Any]]:
    """``(distribution name, loaded object)`` of every entry point in ``group``."""
    for ep in entry_points(group=group):
        yield (ep.dist.name if ep.dist is not None else ep.module.split(".")[0]), ep.load()


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add every plug-in sub-command to ``sub``; each says which extra to install when an import it needs fails."""
    for dist, modules in loaded("peephole.commands"):
        for module in modules:
            before = set(sub.choices)
            module.add_parser(sub)
            for name in set(sub.choices) - before:
                parser = sub.choices[name]
                parser.set_defaults(func=needs_extra(parser.get_default("func"), "lab" if dist == "peephole" else dist))


def needs_extra(func: Callable[[argparse.Namespace], int], extra: str) -> Callable[[argparse.Namespace], int]:
    """``func``, answering a missing module with one line naming the extra to install (exit 2)."""

    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except ModuleNotFoundError as exc:
            print(
                f"error: peephole {args.command} needs the {exc.name!r} module, which is not installed: "
                f"pip install 'peephole[{extra}]'",
                file=sys.stderr,
            )
            return 2

    return run
