"""``peephole explain-text "some sentence"``: per-word PAMI importance in the terminal, optionally as HTML."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from peephole.errors import PeepholeError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explain-text",
        help="explain a text classifier's prediction word by word",
        description="Explain texts with PAMI: each word's importance for the predicted class.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("texts", nargs="+", metavar="TEXT", help="a sentence (quote it); '-' reads one text per line from stdin")
    p.add_argument("--model", default="vader", help="vader, minilm, or the folder of a Hugging Face classifier")
    p.add_argument("--partition", default="words", choices=("words", "windows", "phrases"))
    p.add_argument("--window", type=int, default=3, help="words per window (windows partition)")
    p.add_argument("--stride", type=int, default=1, help="window stride in words (windows partition)")
    p.add_argument("--masker", default="drop", help="'drop' hidden words, or a replacement token such as [MASK] or [UNK]")
    p.add_argument("--target", action="append", help="explain this class (index or name; repeatable)")
    p.add_argument("--top-k", type=int, default=1, help="explain the K top predicted classes")
    p.add_argument("--html", help="also write an HTML page with the highlighted words to this file")
    p.add_argument("--no-color", action="store_true", help="print word[score] instead of ANSI colours")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from peephole.api import explain
    from peephole.modalities.text.render import html_page, printable
    from peephole.models.text import as_text_model

    texts = [line for line in sys.stdin.read().splitlines() if line.strip()] if args.texts == ["-"] else args.texts
    try:
        model = as_text_model(args.model)
    except PeepholeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    targets = [int(t) if t.lstrip("-").isdigit() else t for t in args.target] if args.target else None
    colour = not args.no_color and sys.stdout.isatty()
    fragments, failed = [], 0
    for text in texts:
        try:
            e = explain(
                model,
                text,
                modality="text",
                partition=args.partition,
                masker=args.masker,
                targets=targets,
                top_k=args.top_k,
                window=args.window,
                stride=args.stride,
            )
        except PeepholeError as exc:
            failed += 1
            print(f"error: {exc}", file=sys.stderr)
            continue
        probs = ", ".join(f"{name} {p:.3f}" for _, name, p in e.top_classes(3))
        print(f"{printable(text)}\n  prediction: {probs}  ({e.n_queries} model queries)")
        for t in e.targets:
            top = ", ".join(f"{printable(w)} {s:.3f}" for _, w, s in e.ranking(t, 3))
            print(f"  {e.name(t)}: {e.terminal(t, colour=colour)}\n    top words: {top}")
            fragments.append(e.html(t))
    if args.html and fragments:
        try:
            Path(args.html).write_text(html_page(fragments), encoding="utf-8")
        except OSError as exc:
            print(f"error: cannot write {args.html}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        print(f"wrote {args.html}")
    return 1 if failed else 0
