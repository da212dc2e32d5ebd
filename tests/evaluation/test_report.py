"""The paired table the dev-split and generalisation scripts print."""

from __future__ import annotations

import numpy as np

from peephole.evaluation.report import mean_sem, paired_table, spread, spread_lines


def test_paired_table_gives_means_paired_differences_their_errors_and_the_items_each_side_wins():
    scores = {
        "ref": [(0.5, 0.2, 100), (0.6, 0.1, 100), (0.7, 0.3, 100)],
        "new": [(0.6, 0.1, 50), (0.6, 0.2, 50), (0.9, 0.1, 52)],
    }
    lines = paired_table(scores, "ref", digits=3).splitlines()
    assert lines[0] == "| method | queries | insertion | Δ insertion | deletion | Δ deletion |" and len(lines) == 4
    assert lines[2] == "| ref | 100 | 0.600 | +0.000 ± 0.000 (0) | 0.200 | +0.000 ± 0.000 (0) |"
    d_ins, d_del = np.array([0.1, 0.0, 0.2]), np.array([-0.1, 0.1, -0.2])  # paired differences, by hand
    se_ins, se_del = d_ins.std(ddof=1) / np.sqrt(3), d_del.std(ddof=1) / np.sqrt(3)
    assert lines[3] == (f"| new | 51 | 0.700 | +0.100 ± {se_ins:.3f} (2) | 0.133 | {d_del.mean():+.3f} ± {se_del:.3f} (2) |")


def test_one_item_has_no_standard_error_rather_than_a_certain_zero():
    assert np.isnan(mean_sem([0.3])[1]) and mean_sem([0.3])[0] == 0.3
    assert np.isnan(mean_sem([])[0])
    lines = paired_table({"ref": [(0.5, 0.2, 100)], "new": [(0.7, 0.1, 50)]}, "ref", digits=3).splitlines()
    assert lines[3] == "| new | 50 | 0.700 | +0.200 ± n/a (1) | 0.100 | -0.100 ± n/a (1) |"


def test_spread_gives_mean_sd_and_range_and_no_sd_for_one_seed():
    assert spread([0.5, 0.7, 0.6]) == "0.600 ± 0.100 (0.500–0.700)"
    assert spread([0.5], digits=2) == "0.50 ± n/a (0.50–0.50)"
    runs = [{"val_iou": 0.4, "heldout_iou": 0.5}, {"val_iou": 0.6, "heldout_iou": 0.5}]
    assert spread_lines(runs, ("val", "heldout"), ("iou",), digits=1) == [
        "  val: iou 0.5 ± 0.1 (0.4–0.6)",
        "  heldout: iou 0.5 ± 0.0 (0.5–0.5)",
    ]
