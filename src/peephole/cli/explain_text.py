"""``peephole explain-text "some sentence"``: ``peephole explain --modality text`` with the text defaults
(word partition, dropped words, one class), printing each word's importance; optionally one HTML page."""

from __future__ import annotations

import argparse

from peephole.cli import explain as explain_cmd


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explain-text",
        help="explain a text classifier's prediction word by word",
        description="Explain texts with PAMI: each word's importance for the predicted class "
        "(the same as peephole explain --modality text, without output files unless --out).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("inputs", nargs="+", metavar="TEXT", help="a sentence (quote it); '-' reads one text per line from stdin")
    p.add_argument("--model", default="vader", help="vader, minilm, or the folder of a Hugging Face classifier")
    p.add_argument("--method", default=None, help="a registered method; unset: the text default")
    for flag, spec in explain_cmd.PROMPT_FLAGS.items():  # an NLI folder's labels and hypothesis
        p.add_argument(flag, **spec)
    explain_cmd.add_common(p, text=True)
    p.add_argument("--out", default=None, help="also write each text's pages and .npz result to this folder")
    p.set_defaults(
        func=explain_cmd.run,
        modality="text",
        output=None,
        layout=None,
        normalise=None,
        backend=None,
        radius=None,
        size=None,
        no_crop=False,
        allow_large=False,
        second_run=False,
        batch_size=None,
        seed=0,
        figure=False,
    )
