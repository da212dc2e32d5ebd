"""``peephole report RUN``: the HTML report of a run folder (opens from the file system, no server)."""

from __future__ import annotations

import argparse
import sys

from peephole.errors import PeepholeError
from peephole.terminal import escaping, safe


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write the HTML report of a run", description=__doc__)
    p.add_argument("run_dir", metavar="RUN", help="a run folder written by peephole run")
    p.add_argument("--out", default=None, help="the report folder (default RUN/report)")
    p.add_argument("--classes", type=int, default=3, help="classes offered per item by the class switcher (default 3)")
    p.add_argument("--export", default=None, metavar="FILE", help="also write the per-item table (.csv or .parquet)")
    p.add_argument(
        "--open", action="store_true", help="open the report in a browser when there is one (else its path is printed)"
    )
    p.set_defaults(func=run)


@escaping  # everything the command prints escaped: names it was given (files, item ids) cannot drive the terminal
def run(args: argparse.Namespace) -> int:
    from peephole.batch.report import open_in_browser, write_report
    from peephole.store.runs import Store

    try:
        store = Store(args.run_dir)
        index = write_report(store, args.out, args.classes)
        if args.export:
            print(safe(f"wrote {store.export(args.export)}"))
    except (PeepholeError, OSError) as exc:  # OSError: the report folder cannot be written
        print(safe(f"error: {exc}"), file=sys.stderr)
        return 2
    if args.open and open_in_browser(index):
        print(safe(f"wrote {index} (opened in a browser)"))
    else:
        print(safe(f"wrote {index} (open it in a browser: {index.resolve().as_uri()})"))
    return 0
