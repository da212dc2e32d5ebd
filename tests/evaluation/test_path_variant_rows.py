"""docs/results.md's "PAMI path's magnitudes from its own surrogate", "PAMI path's map smoothed after the call", "PAMI
path over two segmentations", "PAMI path over edge-following and edge-crossing parts" and "PAMI path
searching under two fills again, and its map dilated or max-smoothed": the paired differences, the
plans' rules and the random-map controls reproduce from the rows kept in experiments/path_surrogate/rows,
path_smooth/rows, path_segs/rows, path_compact/rows, path_seg2_fills/rows, path_dilate/rows and path_maxsmooth/rows
(``experiments/path_stability.py`` and the ``control.py`` scripts' output, one JSON line per photo; path_segs pairs
its variants with the default's rows of path_smooth, the later plans with path_segs' seg2 rows)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from results_tables import section

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
FILLS = ("blur", "grey")  # "deletion_cross_blur": made with blur, scored on grey


def _rows(*paths: str) -> dict[tuple[str, str], dict]:
    lines = [line for path in paths for line in (EXPERIMENTS / path).read_text().splitlines()]
    return {(r["photo"], r["method"]): r for r in map(json.loads, lines)}


def _paired(rows: dict, variant: str, keys: tuple[str, ...], n: int, reference: str = "pami-path") -> tuple[float, float]:
    """Mean ± paired s.e. over the photos of ``variant`` minus ``reference`` (the default), of the mean of ``keys``."""
    photos = sorted(p for p, m in rows if m == variant)
    assert len(photos) == n and all((p, reference) in rows for p in photos)
    d = np.array([np.mean([rows[p, variant][k] - rows[p, reference][k] for k in keys]) for p in photos])
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))


MU = ("mu_fidelity", "mu_fidelity_grey")
DELETION = tuple(f"deletion_cross_{f}" for f in FILLS)
INSERTION = tuple(f"insertion_cross_{f}" for f in FILLS)

#: rows files whose variants pair with the default's rows of another file: file -> the files added
DEFAULT_ROWS = {f"path_segs/rows/{f}.jsonl": (f"path_smooth/rows/{f}.jsonl",) for f in ("dev10", "confirm")}

# (rows file, variant, keys, photos) -> the published mean ± paired s.e.
PUBLISHED = {
    ("path_surrogate/rows/dev10.jsonl", "pami-path-vsur", ("mu_fidelity",), 10): (0.027, 0.022),
    ("path_surrogate/rows/dev10.jsonl", "pami-path-vsur", ("mu_fidelity_grey",), 10): (0.004, 0.026),
    ("path_surrogate/rows/dev10.jsonl", "pami-path-vsur", MU, 10): (0.015, 0.016),
    ("path_smooth/rows/dev10.jsonl", "pami-path-smooth8", ("insertion_cross_blur",), 10): (-0.012, 0.037),
    ("path_smooth/rows/dev10.jsonl", "pami-path-smooth8", ("deletion_cross_grey",), 10): (-0.054, 0.030),
    ("path_smooth/rows/dev10.jsonl", "pami-path-smooth8", MU, 10): (-0.000, 0.008),
    ("path_smooth/rows/dev10.jsonl", "pami-path-smooth16", ("deletion_cross_blur",), 10): (-0.014, 0.034),
    ("path_smooth/rows/dev10.jsonl", "pami-path-smooth16", MU, 10): (-0.015, 0.018),
    ("path_smooth/rows/confirm.jsonl", "pami-path-smooth8", ("insertion_cross_grey",), 12): (-0.042, 0.022),
    ("path_smooth/rows/confirm.jsonl", "pami-path-smooth8", DELETION, 12): (-0.036, 0.015),
    ("path_smooth/rows/confirm.jsonl", "pami-path-smooth8", INSERTION, 12): (-0.031, 0.016),
    ("path_smooth/rows/confirm.jsonl", "pami-path-smooth8", MU, 12): (0.016, 0.005),
    ("path_segs/rows/dev10.jsonl", "pami-path-seg2", ("insertion_cross_grey",), 10): (0.072, 0.040),
    ("path_segs/rows/dev10.jsonl", "pami-path-seg2", DELETION, 10): (-0.036, 0.019),
    ("path_segs/rows/dev10.jsonl", "pami-path-seg2", INSERTION, 10): (0.039, 0.019),
    ("path_segs/rows/dev10.jsonl", "pami-path-seg2", MU, 10): (0.019, 0.037),
    ("path_segs/rows/dev10.jsonl", "pami-path-seg3", DELETION, 10): (-0.028, 0.014),
    ("path_segs/rows/dev10.jsonl", "pami-path-seg3", MU, 10): (0.032, 0.019),
    ("path_segs/rows/confirm.jsonl", "pami-path-seg2", ("deletion_cross_blur",), 12): (-0.034, 0.032),
    ("path_segs/rows/confirm.jsonl", "pami-path-seg2", DELETION, 12): (-0.016, 0.017),
    ("path_segs/rows/confirm.jsonl", "pami-path-seg2", INSERTION, 12): (0.029, 0.018),
    ("path_segs/rows/confirm.jsonl", "pami-path-seg2", MU, 12): (0.057, 0.035),
}


@pytest.mark.parametrize(("rows", "variant", "keys", "n"), sorted(PUBLISHED))
def test_the_published_paired_differences_reproduce(rows, variant, keys, n):
    mean, se = _paired(_rows(rows, *DEFAULT_ROWS.get(rows, ())), variant, keys, n)
    assert (round(mean, 3), round(se, 3)) == pytest.approx(PUBLISHED[rows, variant, keys, n], abs=1.5e-3)


def test_the_variants_keep_the_defaults_curves_where_their_plans_say_so():
    """values='surrogate' changes only magnitudes: every insertion and deletion row equals the default's."""
    rows = _rows("path_surrogate/rows/dev10.jsonl")
    photos = [p for p, m in rows if m == "pami-path-vsur"]
    keys = [k for k in rows[photos[0], "pami-path"] if k.startswith(("insertion", "deletion"))]
    assert len(keys) == 8 and all(rows[p, "pami-path-vsur"][k] == rows[p, "pami-path"][k] for p in photos for k in keys)


def _passes(rows: dict, variant: str, reference: str = "pami-path") -> bool:
    """The fills plan's first rule on photos 1–10: cross-fill deletion lower in both directions, mean insertion and
    µFidelity not below 0 by more than one paired s.e."""
    lower = all(_paired(rows, variant, (k,), 10, reference)[0] < 0 for k in DELETION)
    return lower and all(mean >= -se for mean, se in (_paired(rows, variant, keys, 10, reference) for keys in (INSERTION, MU)))


def _chosen(rows: dict, variants: tuple[str, ...]) -> str:
    """Every variant passes :func:`_passes`; the lowest mean deletion wins."""
    assert all(_passes(rows, v) for v in variants)
    return min(variants, key=lambda v: _paired(rows, v, DELETION, 10)[0])


def _confirmation(rows: dict, variant: str, n: int = 12, reference: str = "pami-path") -> tuple[bool, bool, bool]:
    """The confirmation rule on photos 15–26 (``n`` photos): mean deletion ≤ 0, mean insertion ≥ 0, µFidelity ≥ 0."""
    rules = ((-1, DELETION), (1, INSERTION), (1, MU))
    return tuple(sign * _paired(rows, variant, keys, n, reference)[0] >= 0 for sign, keys in rules)


def test_the_plans_rules_give_the_published_verdicts():
    """vsur: mean µFidelity gain not above one s.e. (no confirmation). smooth: both pass on photos 1–10, smooth8 has
    the lower deletion; on 15–26 its deletion and µFidelity rules hold and its insertion rule fails."""
    vsur = _paired(_rows("path_surrogate/rows/dev10.jsonl"), "pami-path-vsur", MU, 10)
    assert not vsur[0] > vsur[1]
    assert _chosen(_rows("path_smooth/rows/dev10.jsonl"), ("pami-path-smooth8", "pami-path-smooth16")) == "pami-path-smooth8"
    assert _confirmation(_rows("path_smooth/rows/confirm.jsonl"), "pami-path-smooth8") == (True, False, True)


def test_the_segmentations_plan_gives_the_published_verdicts():
    """seg2 and seg3 both pass on photos 1–10, seg2 with the lower deletion; on 15–26 seg2 meets all three rules."""
    first = _rows("path_segs/rows/dev10.jsonl", *DEFAULT_ROWS["path_segs/rows/dev10.jsonl"])
    assert _chosen(first, ("pami-path-seg2", "pami-path-seg3")) == "pami-path-seg2"
    confirm = _rows("path_segs/rows/confirm.jsonl", *DEFAULT_ROWS["path_segs/rows/confirm.jsonl"])
    assert _confirmation(confirm, "pami-path-seg2") == (True, True, True)


def test_the_budget_segmentations_plan_gives_the_published_verdict():
    """experiments/path_budget_segs: the SLIC-50 path passes against the two-segmentation default at no budget (25, 50,
    100 queries), each paired with the default at the same budget; at 25 and 100 its deletion is higher both ways."""
    rows = _rows("path_budget_segs/rows/dev10.jsonl")
    for b in (25, 50, 100):
        assert not _passes(rows, f"pami-path-slic50-b{b}", f"pami-path-b{b}")
    for b, published in {25: (0.020, 0.019), 100: (0.029, 0.013)}.items():
        mean, se = _paired(rows, f"pami-path-slic50-b{b}", DELETION, 10, f"pami-path-b{b}")
        assert (round(mean, 3), round(se, 3)) == pytest.approx(published, abs=1.5e-3)
        assert all(_paired(rows, f"pami-path-slic50-b{b}", (k,), 10, f"pami-path-b{b}")[0] > 0 for k in DELETION)


def test_the_larger_budget_segmentations_check_gives_the_published_verdict():
    """On dev photos 27–66 the SLIC-50 path meets all three rules at 25 and 50 queries, not µFidelity's at 100."""
    rows = _rows("path_budget_segs/rows/dev27-66.jsonl")
    verdicts = {b: _confirmation(rows, f"pami-path-slic50-b{b}", 40, f"pami-path-b{b}") for b in (25, 50, 100)}
    assert verdicts == {25: (True, True, True), 50: (True, True, True), 100: (True, True, False)}
    mean, se = _paired(rows, "pami-path-slic50-b50", INSERTION, 40, "pami-path-b50")
    assert (round(mean, 3), round(se, 3)) == pytest.approx((0.050, 0.016), abs=1.5e-3)


def _control(path: str, base: str, variant: str, published: dict[str, tuple[float, float]]) -> None:
    """A random-map control's 10 rows: ``variant`` − ``base`` per curve key (e.g. "deletion_grey") is the published
    mean ± paired s.e."""
    rows = [json.loads(line) for line in (EXPERIMENTS / path).read_text().splitlines()]
    assert len(rows) == 10
    for key, value in published.items():
        d = np.array([r[f"{variant}_{key}"] - r[f"{base}_{key}"] for r in rows])
        assert (round(d.mean(), 3), round(d.std(ddof=1) / np.sqrt(len(d)), 3)) == pytest.approx(value, abs=1.5e-3)


def test_the_random_map_control_reproduces():
    published = {"deletion_blur": (-0.088, 0.037), "deletion_grey": (0.035, 0.037)}
    _control("path_smooth/rows/control.jsonl", "random", "random-smooth", published)


def test_the_compact_parts_plan_gives_the_published_verdict():
    """experiments/path_compact: paired with the default's rows (path_segs' seg2, the default's maps exactly: its re-run
    on photo 1 gives the same row), neither variant passes on photos 1–10 — slicgrid's insertion falls by more than
    one s.e. for almost no deletion, compact's deletion rises."""
    rows = _rows("path_compact/rows/dev10.jsonl", "path_segs/rows/dev10.jsonl")
    check = json.loads((EXPERIMENTS / "path_compact/rows/check1.jsonl").read_text())
    assert {k: v for k, v in check.items() if k != "seconds"} == {
        k: v for k, v in rows[check["photo"], "pami-path-seg2"].items() if k != "seconds"
    }
    published = {
        ("pami-path-slicgrid", DELETION): (-0.002, 0.019),
        ("pami-path-slicgrid", INSERTION): (-0.043, 0.012),
        ("pami-path-slicgrid", MU): (-0.010, 0.015),
        ("pami-path-compact", DELETION): (0.008, 0.014),
        ("pami-path-compact", INSERTION): (-0.014, 0.016),
        ("pami-path-compact", MU): (0.006, 0.015),
    }
    for (variant, keys), value in published.items():
        mean, se = _paired(rows, variant, keys, 10, "pami-path-seg2")
        assert (round(mean, 3), round(se, 3)) == pytest.approx(value, abs=1.5e-3)
    assert not _passes(rows, "pami-path-slicgrid", "pami-path-seg2")
    assert not _passes(rows, "pami-path-compact", "pami-path-seg2")
    assert all(_paired(rows, "pami-path-slicgrid", (k,), 10, "pami-path-seg2")[0] < 0 for k in DELETION)  # lower, barely


def test_the_path_and_centred_rise_mix_gives_the_published_verdict():
    """experiments/path_compact's second plan: the mix of a path and centred RISE raises µFidelity but does not pass
    (deletion not lower in both directions, insertion below 0 by more than one s.e.)."""
    rows = _rows("path_compact/rows/rc-dev10.jsonl", "path_segs/rows/dev10.jsonl")
    published = {DELETION: (0.001, 0.009), INSERTION: (-0.028, 0.011), MU: (0.052, 0.023)}
    for keys, value in published.items():
        mean, se = _paired(rows, "pami-path-rc", keys, 10, "pami-path-seg2")
        assert (round(mean, 3), round(se, 3)) == pytest.approx(value, abs=1.5e-3)
    assert not _passes(rows, "pami-path-rc", "pami-path-seg2")


def test_the_two_segmentations_with_two_fills_plan_gives_the_published_verdict():
    """experiments/path_seg2_fills: the default searching under blur-or-grey and black does not pass on photos 1–10
    (its mean µFidelity is lower, not higher by more than one s.e.), paired with the default's rows (path_segs' seg2,
    reproduced by the re-run on photo 1); insertion and deletion level within one s.e."""
    rows = _rows("path_seg2_fills/rows/dev10.jsonl", "path_segs/rows/dev10.jsonl")
    check = json.loads((EXPERIMENTS / "path_seg2_fills/rows/check1.jsonl").read_text())
    assert {k: v for k, v in check.items() if k not in ("seconds", "method")} == {
        k: v for k, v in rows[check["photo"], "pami-path-seg2"].items() if k not in ("seconds", "method")
    }
    own = ("insertion_self_blur", "insertion_self_grey")
    published = {MU: (-0.008, 0.010), INSERTION: (0.002, 0.006), DELETION: (0.004, 0.005), own: (-0.022, 0.008)}
    paired = {keys: _paired(rows, "pami-path-seg2-fills", keys, 10, "pami-path-seg2") for keys in published}
    for keys, value in published.items():
        assert (round(paired[keys][0], 3), round(paired[keys][1], 3)) == pytest.approx(value, abs=1.5e-3)
    mu, insertion, deletion = paired[MU], paired[INSERTION], paired[DELETION]
    passes = mu[0] > mu[1] and insertion[0] >= -insertion[1] and deletion[0] <= deletion[1]
    assert not passes and insertion[0] >= -insertion[1] and deletion[0] <= deletion[1]  # fails on µFidelity alone


def test_the_dilation_plan_gives_the_published_verdicts():
    """experiments/path_dilate: paired with the default's rows (path_segs' seg2), dilate4 lowers deletion both ways but
    loses insertion by more than one s.e., dilate8's deletion is not lower both ways: neither passes; the content-free
    map gains no deletion from the dilation (the control)."""
    rows = _rows("path_dilate/rows/dev10.jsonl", "path_segs/rows/dev10.jsonl")
    published = {
        ("pami-path-dilate4", DELETION): (-0.006, 0.006),
        ("pami-path-dilate4", INSERTION): (-0.014, 0.008),
        ("pami-path-dilate4", MU): (-0.000, 0.012),
        ("pami-path-dilate8", DELETION): (0.004, 0.011),
        ("pami-path-dilate8", INSERTION): (-0.025, 0.011),
        ("pami-path-dilate8", MU): (-0.007, 0.020),
    }
    for (variant, keys), value in published.items():
        mean, se = _paired(rows, variant, keys, 10, "pami-path-seg2")
        assert (round(mean, 3), round(se, 3)) == pytest.approx(value, abs=1.5e-3)
    assert all(_paired(rows, "pami-path-dilate4", (k,), 10, "pami-path-seg2")[0] < 0 for k in DELETION)
    assert not _passes(rows, "pami-path-dilate4", "pami-path-seg2")
    assert not _passes(rows, "pami-path-dilate8", "pami-path-seg2")
    control = {"deletion_grey": (0.001, 0.019), "deletion_blur": (0.005, 0.013)}
    _control("path_dilate/rows/control.jsonl", "random-seg2", "random-seg2-dilated", control)


def test_the_max_smooth_plan_gives_the_published_verdicts():
    """experiments/path_maxsmooth: max(m, G_σ * m) leaves deletion level (not lower both ways) and loses insertion, at
    σ 8 and 16: neither passes; the content-free control is level too."""
    rows = _rows("path_maxsmooth/rows/dev10.jsonl", "path_segs/rows/dev10.jsonl")
    published = {
        ("pami-path-maxsmooth8", DELETION): (-0.000, 0.008),
        ("pami-path-maxsmooth8", INSERTION): (-0.011, 0.008),
        ("pami-path-maxsmooth8", MU): (0.003, 0.007),
        ("pami-path-maxsmooth16", DELETION): (-0.001, 0.013),
        ("pami-path-maxsmooth16", INSERTION): (-0.017, 0.010),
        ("pami-path-maxsmooth16", MU): (0.001, 0.011),
    }
    for (variant, keys), value in published.items():
        mean, se = _paired(rows, variant, keys, 10, "pami-path-seg2")
        assert (round(mean, 3), round(se, 3)) == pytest.approx(value, abs=1.5e-3)
        assert not _passes(rows, variant, "pami-path-seg2")
    control = {"deletion_grey": (0.002, 0.008), "deletion_blur": (-0.005, 0.009)}
    _control("path_maxsmooth/rows/control.jsonl", "random-seg2", "random-seg2-maxsmooth", control)


def test_the_segmentations_random_map_control_reproduces():
    """experiments/path_segs' control: the content-free map over two segmentations does not lift the curves."""
    published = {
        "insertion_grey": (-0.041, 0.041),
        "insertion_blur": (-0.012, 0.026),
        "deletion_grey": (0.033, 0.026),
        "deletion_blur": (0.043, 0.045),
    }
    _control("path_segs/rows/control.jsonl", "random-seg1", "random-seg2", published)


def test_the_values_plans_table_reproduces():
    """docs/results.md, "PAMI path's magnitudes from one path" (experiments/path_values): vdel passes its µFidelity rule
    on photos 1–10, not its confirmation on 15–26; vins is worse on both maps; the curves equal the default's."""
    first, confirm = _rows("path_values/rows/dev10.jsonl"), _rows("path_values/rows/confirm.jsonl")
    vdel, vins = _paired(first, "pami-path-vdel", MU, 10), _paired(first, "pami-path-vins", MU, 10)
    assert (round(vdel[0], 3), round(vdel[1], 3)) == pytest.approx((0.040, 0.034), abs=1.5e-3) and vdel[0] > vdel[1]
    assert (round(vins[0], 3), round(vins[1], 3)) == pytest.approx((-0.060, 0.029), abs=1.5e-3)
    again = _paired(confirm, "pami-path-vdel", MU, 12)
    assert (round(again[0], 3), round(again[1], 3)) == pytest.approx((-0.016, 0.011), abs=1.5e-3) and again[0] < 0
    curves = (*INSERTION, *DELETION)  # the same queries and order as the default: the same curves
    assert all(first[p, "pami-path-vdel"][k] == first[p, "pami-path"][k] for p, m in first if m == "pami-path" for k in curves)


#: the row labels of the paired-difference tables of "PAMI path searching under two fills again, and its map dilated or
#: max-smoothed" -> the rows' keys whose mean is differenced
LABELS = {
    "deletion, blur → grey": ("deletion_cross_blur",),
    "deletion, grey → blur": ("deletion_cross_grey",),
    "deletion, mean of both directions": DELETION,
    "insertion, mean of both directions": INSERTION,
    "µFidelity, mean of both maps": MU,
    "self-graded insertion, mean of both fills": ("insertion_self_blur", "insertion_self_grey"),
}


def test_every_cell_of_the_later_plans_tables_reproduces():
    """Each cell of that section's three tables (seg2-fills, dilate4/8, maxsmooth8/16) is the variant's paired
    difference with the default over photos 1–10, recomputed from the kept rows."""
    rows = _rows(
        "path_segs/rows/dev10.jsonl",
        "path_seg2_fills/rows/dev10.jsonl",
        "path_dilate/rows/dev10.jsonl",
        "path_maxsmooth/rows/dev10.jsonl",
    )
    text = section("## PAMI path searching under two fills again")
    cells, variants = 0, []
    for line in text.splitlines():
        parts = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| paired difference with the default, photos 1–10 |"):
            variants = [f"pami-path-{c.split()[0]}" for c in parts[1:]]
        elif line.startswith("| ") and parts[0] in LABELS:
            for variant, cell in zip(variants, parts[1:], strict=True):
                mean, se = _paired(rows, variant, LABELS[parts[0]], 10, "pami-path-seg2")
                assert cell == f"{mean:+.3f} ± {se:.3f}".replace("-", "−"), (variant, parts[0])
                cells += 1
    assert cells == 4 + 2 * 5 + 2 * 4
