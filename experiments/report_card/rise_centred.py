"""RISE with centred outputs on the grey card's 104 test photos (docs/results.md, "RISE with centred outputs").

`rise-centred.csv` is the store of one run, RISE and ``rise-centred`` at 4,000 masks each, grey → blur (RISE's own
fill, the grey card's condition), exported as the other kept cards are. This prints its rows paired with the grey
card's (`grey.csv`: every method searched with grey and scored on blur), with the default as the reference:

    python experiments/report_card/rise_centred.py
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from peephole.evaluation.card import cell_text, paired_card

HERE = Path(__file__).resolve().parent
COLUMNS = ("insertion", "deletion", "µFidelity", "insertion (self-graded)", "deletion (self-graded)")
#: the grey card's methods shown beside it; the default first (the reference)
CARD = ("pami-path-seg2", "lime", "kernel-shap", "rise", "hsic", "sobol")


def rows(name: str) -> dict[str, dict[str, str]]:
    """A kept card's done rows by id (photo/method)."""
    return {r["id"]: r for r in csv.DictReader((HERE / name).open(encoding="utf-8")) if r["status"] == "done"}


def scores() -> tuple[dict[str, dict[str, list[float]]], dict[str, float]]:
    """``{method: {column: per-photo scores}}`` over the photos both files have (rise-centred from its run, the rest
    from the grey card), and each method's mean queries per map."""
    card, run = rows("grey.csv"), rows("rise-centred.csv")
    photos = sorted({i.rsplit("/", 1)[0] for i in run if i.endswith("/rise-centred")} & {i.rsplit("/", 1)[0] for i in card})
    source = {**{m: card for m in CARD}, "rise-centred": run}
    values = {
        m: {c: [float(json.loads(src[f"{p}/{m}"]["metrics"]).get(c, np.nan)) for p in photos] for c in COLUMNS}
        for m, src in source.items()
    }
    queries = {m: float(np.mean([float(src[f"{p}/{m}"]["n_queries"]) for p in photos])) for m, src in source.items()}
    return values, queries


def table() -> list[str]:
    """The Markdown rows: method, queries/img, then :data:`COLUMNS` paired with the default."""
    values, queries = scores()
    card = {(r["method"], r["column"]): r for r in paired_card(values, reference=CARD[0])}
    return [f"| {m} | {queries[m]:.0f} | " + " | ".join(cell_text(card.get((m, c))) for c in COLUMNS) + " |" for m in values]


if __name__ == "__main__":
    print("\n".join(table()))
