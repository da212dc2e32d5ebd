"""docs/results.md's report cards on the test split (own fill; one condition, grey and blur, each with the
pami-path-seg2 row of 2026-12-06; COCO pointing) reproduce from the per-item rows kept in experiments/report_card/."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
from experiment_scripts import load_script
from results_tables import section, tables

from peephole.evaluation.card import cell_text, paired_card

ROOT = Path(__file__).resolve().parents[2]
HEADER = "| method | queries/img | s/img | insertion | deletion | µFidelity | seed ρ |"
#: docs/results.md's cards on the test split: section heading, kept rows, the stated count, the methods
CARDS = {
    "own fill": ("## The report card on the test split", "own-fill.csv", r"\*\*(\d+) of the 125 test-split photos\*\*", 8),
    "grey": ("## The report card under one condition", "grey.csv", r"\*\*(\d+) of the 125 test-split photos\*\*", 9),
    "blur": ("## One condition with blur", "blur.csv", r"\*\*(\d+) of the 125 test-split photos\*\*", 9),
    "coco": ("## The pointing card on COCO", "coco.csv", r"\*\*All (\d+) test-split photo/class pairs\*\*", 10),
}


def _published(heading: str, count: str) -> tuple[int, list[str], dict[str, list[str]]]:
    """The section's stated item count, its table's score columns and method -> their cells."""
    text = (ROOT / "docs" / "results.md").read_text()
    section = text[text.index(heading) :]
    section = section[: section.index("\n## ", 1)]
    n = int(re.search(count, section)[1])
    lines = section[section.index(HEADER) :].splitlines()
    columns = [c.strip() for c in lines[0].strip("|").split("|")][3:]
    rows = {}
    for line in lines[2:]:
        if not line.startswith("| ") or line.startswith("| leads"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = cells[3:]
    return n, columns, rows


@pytest.mark.parametrize("card", CARDS)
def test_the_published_card_reproduces_from_the_kept_rows(card: str):
    heading, file, count, n_methods = CARDS[card]
    n, columns, published = _published(heading, count)
    items = list(csv.DictReader((ROOT / "experiments" / "report_card" / file).open()))
    methods = {r["id"].rsplit("/", 1)[1] for r in items}
    by_item: dict[str, dict[str, dict]] = {}
    for r in items:
        item, method = r["id"].rsplit("/", 1)
        by_item.setdefault(item, {})[method] = r
    complete = sorted((i for i, m in by_item.items() if len(m) == len(methods)), key=lambda i: int(by_item[i]["random"]["seq"]))
    complete = complete[:n]  # the card's --limit: its first n items (the store may hold a few more)
    assert len(complete) == n and len(methods) == len(published) == n_methods  # every item with all its maps
    scores = {m: {c: [json.loads(by_item[i][m]["metrics"]).get(c, np.nan) for i in complete] for c in columns} for m in methods}
    card_rows = {(r["method"], r["column"]): r for r in paired_card(scores, reference="pami-path")}
    for m in methods:
        assert published[m] == [cell_text(card_rows.get((m, c))) for c in columns], m


def test_the_new_defaults_own_fill_row_is_the_blur_cards_seg2_row():
    """docs/results.md derives the own-fill card's row of the default since 2026-12-06 (pami-path-seg2, blur → grey)
    from the blur card: valid because the own-fill card's PAMI path and fills items (also blur → grey) equal the blur
    card's; the published gaps to LIME reproduce from the two files."""
    kept = ROOT / "experiments" / "report_card"
    own = {r["id"]: r for r in csv.DictReader((kept / "own-fill.csv").open())}
    blur = {r["id"]: r for r in csv.DictReader((kept / "blur.csv").open())}
    shared = [i for i in own if i.endswith(("/pami-path", "/pami-path-fills"))]
    assert len(shared) == 208 and all(json.loads(own[i]["metrics"]) == json.loads(blur[i]["metrics"]) for i in shared)
    photos = sorted(i.rsplit("/", 1)[0] for i in own if i.endswith("/lime"))
    assert len(photos) == 104
    columns = ("insertion", "deletion", "µFidelity")
    scores = {
        m: {c: [json.loads((blur if m == "pami-path-seg2" else own)[f"{p}/{m}"]["metrics"])[c] for p in photos] for c in columns}
        for m in ("pami-path-seg2", "lime")
    }
    cells = {(r["method"], r["column"]): r for r in paired_card(scores, reference="pami-path-seg2")}
    gaps = [re.search(r"\(Δ ([^)]*)\)", cell_text(cells["lime", c]))[1] for c in columns]
    assert gaps == ["-0.046 ± 0.015", "-0.028 ± 0.009", "+0.039 ± 0.018"]


def _script(name: str):
    """experiments/report_card/``name``.py, loaded as a module."""
    return load_script(ROOT / "experiments" / "report_card" / f"{name}.py", name)


def _beside():
    """experiments/report_card/beside.py."""
    return _script("beside")


def _beside_tables(heading: str) -> list[list[str]]:
    """The method tables (method, queries/img, ...) of docs/results.md's section ``heading``."""
    return tables(heading, header="| method | queries/img |", row=r"\| [a-z0-9-]+ \| \d+ \| \d")


def test_centred_rises_rows_beside_the_grey_card_reproduce_and_its_rise_rows_are_the_cards():
    """docs/results.md, "RISE with centred outputs": the table from the kept rows (rise-centred.csv beside grey.csv);
    its run's RISE maps are the grey card's RISE maps (RISE's own fill is grey), scored alike within 2·10⁻⁴ (float rounding)."""
    script = _beside()
    assert _beside_tables("## RISE with centred outputs")[0] == script.table("rise-centred.csv", ("rise-centred",))
    run, card = script.rows("rise-centred.csv"), script.rows("grey.csv")
    photos = [i.rsplit("/", 1)[0] for i in run if i.endswith("/rise-centred")]
    assert len(photos) == 104
    for p in photos:
        ours, theirs = json.loads(run[f"{p}/rise"]["metrics"]), json.loads(card[f"{p}/rise"]["metrics"])
        assert set(ours) <= set(theirs) and all(abs(ours[c] - theirs[c]) < 2e-4 for c in ours), p  # float rounding


def test_centred_rises_rows_beside_the_blur_card_reproduce_over_all_its_photos():
    """docs/results.md, "RISE with centred outputs": the blur table from the kept rows (rise-centred-blur.csv beside
    blur.csv), every one of the card's 104 photos at 4,001 queries."""
    script = _beside()
    assert _beside_tables("## RISE with centred outputs")[1] == script.table(
        "rise-centred-blur.csv", ("rise-centred",), "blur.csv"
    )
    run, card = script.rows("rise-centred-blur.csv"), script.rows("blur.csv")
    photos = {i.rsplit("/", 1)[0] for i in run if i.endswith("/rise-centred")}
    assert photos == {i.rsplit("/", 1)[0] for i in card} and len(photos) == 104
    assert {int(run[f"{p}/rise-centred"]["n_queries"]) for p in photos} == {4001}


def test_centred_rises_rows_beside_the_coco_card_reproduce_and_its_default_rows_are_the_cards():
    """docs/results.md, "RISE with centred outputs": the COCO table from the kept rows (coco-rc.csv beside coco.csv),
    90 pairs at 4,001 queries; the run's default maps are the card's, scored alike within 1.5·10⁻⁴ (float rounding)."""
    script = _beside()
    published = _beside_tables("## RISE with centred outputs")
    assert len(published) == 4 and published[2] == script.table("coco-rc.csv", ("rise-centred",), "coco.csv")
    run, card = script.rows("coco-rc.csv"), script.rows("coco.csv")
    pairs = [i.rsplit("/", 1)[0] for i in run if i.endswith("/rise-centred")]
    assert len(pairs) == 90 and {int(run[f"{p}/rise-centred"]["n_queries"]) for p in pairs} == {4001}
    for p in pairs:
        ours, theirs = json.loads(run[f"{p}/pami-path-seg2"]["metrics"]), json.loads(card[f"{p}/pami-path-seg2"]["metrics"])
        assert set(ours) == set(theirs) and all(abs(ours[c] - theirs[c]) < 1.5e-4 for c in ours), p  # float rounding


def test_centred_rise_at_500_masks_beside_the_coco_card_reproduces_and_spends_the_defaults_budget():
    """docs/results.md, "RISE with centred outputs": the COCO table at 500 masks from the kept rows (coco-rc500.csv),
    the same 90 pairs as the 4,000-mask run, 501 queries each (the default spends at most 500)."""
    script = _beside()
    assert _beside_tables("## RISE with centred outputs")[3] == script.table("coco-rc500.csv", ("rise-centred",), "coco.csv")
    small, large = script.rows("coco-rc500.csv"), script.rows("coco-rc.csv")
    assert {i for i in small} == {i for i in large if i.endswith("/rise-centred")}
    assert {int(r["n_queries"]) for r in small.values()} == {501}


@pytest.mark.parametrize("run, card, index", [("slic-grey.csv", "grey.csv", 0), ("slic-blur.csv", "blur.csv", 1)])
def test_hsic_and_sobol_over_superpixels_beside_the_one_condition_cards_reproduce(run, card, index):
    """docs/results.md, "HSIC and Sobol over superpixels": each table from the kept rows beside its card, 104 photos;
    HSIC spends its 500 designs, Sobol 32 designs per part and one more (its queries - 1 a multiple of 32)."""
    script = _beside()
    published = _beside_tables("## HSIC and Sobol over superpixels")
    assert len(published) == 2 and published[index] == script.table(run, ("hsic-slic", "sobol-slic"), card)
    kept = script.rows(run)
    queries = {m: [int(r["n_queries"]) for i, r in kept.items() if i.endswith(f"/{m}")] for m in ("hsic-slic", "sobol-slic")}
    assert len(queries["hsic-slic"]) == len(queries["sobol-slic"]) == 104 and set(queries["hsic-slic"]) == {501}
    assert all((q - 1) % 32 == 0 and q > 32 * 10 for q in queries["sobol-slic"])


@pytest.mark.parametrize("side, hit", [("right", 1.0), ("left", 0.0)])
def test_a_tied_maximum_is_broken_towards_the_importance_around_it(side, hit):
    """A 20×20 plateau with a weaker block on one side and the box on the right: the stored rule scores the plateau's
    share near the box (0.225); broken by the smoothed map (σ = 8) the tie goes to the side of the weaker block."""
    m = np.zeros((100, 100))
    m[40:60, 40:60] = 1.0
    weaker = slice(60, 80) if side == "right" else slice(20, 40)
    m[40:60, weaker] = 0.8
    region = np.zeros((100, 100), bool)
    region[45:55, 70:90] = True
    got = _script("ties").hits(m, region)
    assert got["tied px"] == 400 and got["pointing"] == pytest.approx(0.225)
    assert got["tie broken σ8"] == hit


def test_the_pointing_tie_diagnostics_summaries_are_the_kept_rows():
    """docs/results.md, "RISE with centred outputs": the test and dev summaries of ties.py recompute from the kept rows;
    the stored rule's column is the card's pointing (test: the coco-rc.csv default rows)."""
    script = _script("ties")
    section = tables("## RISE with centred outputs", header="```text", row=r"(\d+ pairs;|[a-zσ0-9 -]+: \d)")
    kept = {}
    for name, published in zip(("ties-test.jsonl", "ties-dev.jsonl"), section, strict=True):
        kept[name] = [json.loads(x) for x in (ROOT / "experiments" / "report_card" / name).read_text().splitlines()]
        assert published == script.summary(kept[name]), name
    pointing = {r["pair"]: r["pointing"] for r in kept["ties-test.jsonl"]}
    card = _beside().rows("coco-rc.csv")
    assert len(pointing) == 90 and all(
        abs(pointing[p] - json.loads(card[f"{p}/pami-path-seg2"]["metrics"])["pointing"]) < 1e-6 for p in pointing
    )


def test_the_transfer_loss_tables_reproduce_from_the_kept_rows():
    """docs/results.md, "Where the default's held-out deletion gap comes from": transfer.py's two deletion tables are the
    published ones; with blur maps scored on grey every method over superpixels loses more than HSIC and Sobol over
    their grid, and under its own fill the default's deletion is within 0.002 of HSIC's on both cards."""
    script = _script("transfer")
    cards = ("grey.csv+slic-grey.csv+rise-centred.csv", "blur.csv+slic-blur.csv+rise-centred-blur.csv")
    published = [line for line in section("## Where the default's held-out deletion gap").splitlines() if line[:2] == "| "]
    assert published == [line for c in cards for line in script.table(c, "deletion").splitlines() if line[:2] == "| "]
    for card in cards:
        rows = script.losses(card, "deletion")
        assert len(rows) == 11 and abs(rows["pami-path-seg2"]["self"].mean() - rows["hsic"]["self"].mean()) < 0.002
    blur = {m: v["loss"].mean() for m, v in script.losses(cards[1], "deletion").items()}
    superpixels = ("pami-path-seg2", "pami-path", "lime", "kernel-shap", "hsic-slic", "sobol-slic")
    assert min(blur[m] for m in superpixels) > 0.05 > 0.025 > max(blur["hsic"], blur["sobol"])


def test_the_methods_index_quotes_the_test_split_summary():
    """docs/methods/index.md's "Which method for which question" quotes no figure that docs/results.md's summary of the
    test-split cards (or the section on the deletion gap) does not state: a figure changed there must change here."""
    index = (ROOT / "docs" / "methods" / "index.md").read_text()
    table = index[index.index("## Which method for which question") :]
    table = table[: table.index("\n## ")]
    summary = section("## Where each method leads on the test split") + section("## Where the default's held-out deletion")
    quoted = re.findall(r"\d+\.\d{3}(?: ± \d\.\d{3})?", table)
    assert len(quoted) >= 4 and [q for q in quoted if q not in summary] == []
