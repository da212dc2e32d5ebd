"""Rows of a later run printed beside a kept test-split card, paired with the default (docs/results.md).

A run's store, exported as the other kept cards are, holds methods the card lacks, made on the same photos under the
card's condition. This prints the card's methods and the run's new ones, over the photos both have, every row paired
with the default (the card's ``pami-path-seg2``), in the columns the run measured for its new methods:

    python experiments/report_card/beside.py rise-centred.csv rise-centred           # "RISE with centred outputs"
    python experiments/report_card/beside.py slic-grey.csv hsic-slic sobol-slic      # "HSIC and Sobol over superpixels"
    python experiments/report_card/beside.py coco-rc.csv rise-centred --card coco.csv  # the pointing card's RISE row
"""

from __future__ import annotations

import argparse
import csv
import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from peephole.evaluation.card import cell_text, paired_card

HERE = Path(__file__).resolve().parent
#: the cards' columns in their order; a table shows those the run measured for its methods
COLUMNS = (
    "insertion",
    "deletion",
    "µFidelity",
    "seed ρ",
    "pointing",
    "energy pointing",
    "insertion (self-graded)",
    "deletion (self-graded)",
)
#: the card's methods shown beside the run's; the default first (the reference)
CARD = ("pami-path-seg2", "lime", "kernel-shap", "rise", "hsic", "sobol")


@lru_cache
def rows(name: str) -> dict[str, dict[str, str]]:
    """A kept card's done rows by id (photo/method), read once."""
    return {r["id"]: r for r in csv.DictReader((HERE / name).open(encoding="utf-8")) if r["status"] == "done"}


def columns(run: str, methods: tuple[str, ...]) -> tuple[str, ...]:
    """:data:`COLUMNS` the run measured for ``methods`` (seed ρ only with ``--stability``, pointing only on COCO)."""
    seen = set().union(*(json.loads(r["metrics"]) for i, r in rows(run).items() if i.rsplit("/", 1)[1] in methods))
    return tuple(c for c in COLUMNS if c in seen)


def scores(
    run: str, methods: tuple[str, ...], card: str = "grey.csv"
) -> tuple[dict[str, dict[str, list[float]]], dict[str, float]]:
    """``{method: {column: per-photo scores, NaN where none}}`` over the photos where the run has every one of
    ``methods`` and the card has its rows (the run's methods from the run, the rest from the card), and each method's
    mean queries per map."""
    kept, new = rows(card), rows(run)
    photos = sorted(
        {i.rsplit("/", 1)[0] for i in kept}
        & set.intersection(*({i.rsplit("/", 1)[0] for i in new if i.endswith(f"/{m}")} for m in methods))
    )
    source = {**{m: kept for m in CARD}, **{m: new for m in methods}}
    cols = columns(run, methods)
    values = {
        m: {c: [float(json.loads(src[f"{p}/{m}"]["metrics"]).get(c, np.nan)) for p in photos] for c in cols}
        for m, src in source.items()
    }
    queries = {m: float(np.mean([float(src[f"{p}/{m}"]["n_queries"]) for p in photos])) for m, src in source.items()}
    return values, queries


def table(run: str, methods: tuple[str, ...], card: str = "grey.csv") -> list[str]:
    """The Markdown rows: method, queries/img, then the columns paired with the default."""
    values, queries = scores(run, methods, card)
    cells = {(r["method"], r["column"]): r for r in paired_card(values, reference=CARD[0])}
    cols = list(values[CARD[0]])
    return [f"| {m} | {queries[m]:.0f} | " + " | ".join(cell_text(cells.get((m, c))) for c in cols) + " |" for m in values]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", help="the run's export, here (for example rise-centred.csv)")
    p.add_argument("methods", nargs="+", help="the run's methods to show beside the card's")
    p.add_argument("--card", default="grey.csv", help="the kept card the run was made beside (default: grey.csv)")
    args = p.parse_args()
    print("\n".join(table(args.run, tuple(args.methods), args.card)))


if __name__ == "__main__":
    main()
