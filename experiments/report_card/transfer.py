"""What the held-out fill costs each method on a kept one-condition card (docs/results.md, "Where the default's
held-out deletion gap comes from").

Each map of a one-condition card was scored twice: on the fill it searched with (the self-graded columns) and on the
other one (the held-out columns). Per method, over the card's photos: the self-graded and held-out means and the
transfer loss (held-out minus self-graded deletion; self-graded minus held-out insertion: what changing the fill
costs the map), each paired with the default's loss (``pami-path-seg2``). A card may be followed by the kept rows of
later runs under its condition (``+``-joined: their methods added, a method the card has kept from the card):

    python experiments/report_card/transfer.py grey.csv+slic-grey.csv+rise-centred.csv \
        blur.csv+slic-blur.csv+rise-centred-blur.csv
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT = "pami-path-seg2"
#: curve -> the sign that makes "held-out minus self-graded" a loss (deletion: higher is worse)
CURVES = {"deletion": 1.0, "insertion": -1.0}


def losses(card: str, curve: str) -> dict[str, dict[str, np.ndarray]]:
    """``{method: {"self": …, "held": …, "loss": …}}`` per photo (the photos every method has, in one order) for the
    methods that have a self-graded column in ``card`` (files of this folder joined by ``+``, the first a card)."""
    by: dict[str, dict[str, dict[str, float]]] = {}
    for name in card.split("+"):
        run: dict[str, dict[str, dict[str, float]]] = {}
        for r in csv.DictReader((HERE / name).open(encoding="utf-8")):
            if r["status"] == "done":
                photo, method = r["id"].rsplit("/", 1)
                run.setdefault(method, {})[photo] = json.loads(r["metrics"])
        by.update({m: v for m, v in run.items() if m not in by})
    photos = sorted(set.intersection(*(set(v) for v in by.values())))
    out = {}
    for method, m in by.items():
        if f"{curve} (self-graded)" not in m[photos[0]]:
            continue  # a reference map (random) searches with no fill
        own = np.array([m[p][f"{curve} (self-graded)"] for p in photos])
        held = np.array([m[p][curve] for p in photos])
        out[method] = {"self": own, "held": held, "loss": CURVES[curve] * (held - own)}
    return out


def mean_se(v: np.ndarray) -> str:
    return f"{v.mean():+.3f} ± {v.std(ddof=1) / np.sqrt(len(v)):.3f}"


def table(card: str, curve: str) -> str:
    rows = losses(card, curve)
    n = len(rows[DEFAULT]["loss"])
    head = f"| {card.split('+')[0]}, {curve} ({n} photos) | self-graded | held-out | transfer loss | loss − the default's |\n"
    head += "|---|---|---|---|---|\n"
    body = "".join(
        f"| {m} | {v['self'].mean():.3f} | {v['held'].mean():.3f} | {mean_se(v['loss'])} | "
        f"{'—' if m == DEFAULT else mean_se(v['loss'] - rows[DEFAULT]['loss'])} |\n"
        for m, v in rows.items()
    )
    return head + body


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("cards", nargs="+", help="kept one-condition cards of this folder, each + later runs' rows")
    p.add_argument("--curve", choices=sorted(CURVES), default="deletion")
    a = p.parse_args()
    print("\n".join(table(card, a.curve) for card in a.cards))


if __name__ == "__main__":
    main()
