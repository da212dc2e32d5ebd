"""Tables (Markdown and CSV) and figures of a benchmark run: mean curves and a Fig. 5-like grid."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def mean_sem(values: Sequence[float]) -> tuple[float, float]:
    """Mean and standard error of the mean (NaN when empty; the s.e. is NaN for one value: it has no spread to
    estimate, and 0 would claim certainty)."""
    v = np.asarray(values, np.float64)
    if not v.size:
        return float("nan"), float("nan")
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else float("nan")


def pm(se: float, digits: int = 3) -> str:
    """``± se`` for a table cell; ``± n/a`` when there is no standard error (one item)."""
    return f"± {se:.{digits}f}" if np.isfinite(se) else "± n/a"


def spread(values: Sequence[float], digits: int = 3) -> str:
    """``mean ± sd (min–max)`` of values over repeats such as training seeds; the standard deviation is ``n/a``
    for one value (no spread to estimate)."""
    v = np.asarray(values, np.float64)
    if not v.size:
        return "n/a"
    sd = f"{v.std(ddof=1):.{digits}f}" if v.size > 1 else "n/a"
    return f"{v.mean():.{digits}f} ± {sd} ({v.min():.{digits}f}–{v.max():.{digits}f})"


def spread_lines(runs: Sequence[dict[str, float]], splits: Sequence[str], keys: Sequence[str], digits: int = 3) -> list[str]:
    """One line per split: :func:`spread` of each key ``f"{split}_{key}"`` over ``runs`` (one dict per seed)."""
    return [
        f"  {split}: " + ", ".join(f"{k} {spread([r[f'{split}_{k}'] for r in runs], digits)}" for k in keys) for split in splits
    ]


def paired_table(scores: dict[str, Sequence[tuple[float, float, float]]], reference: str, digits: int = 4) -> str:
    """A Markdown table of ``(insertion, deletion, queries)`` per item and method, each method's mean and its
    paired difference with ``reference`` (± s.e.; in brackets the items where the method is better)."""
    ref = np.asarray(scores[reference], np.float64)
    lines = ["| method | queries | insertion | Δ insertion | deletion | Δ deletion |", "|---|---|---|---|---|---|"]
    for name, rows in scores.items():
        a = np.asarray(rows, np.float64)
        d = a[:, :2] - ref[:, :2]
        (di, si), (dd, sd) = mean_sem(d[:, 0]), mean_sem(d[:, 1])
        ins = f"{a[:, 0].mean():.{digits}f} | {di:+.{digits}f} {pm(si, digits)} ({(d[:, 0] > 0).sum()})"
        dele = f"{a[:, 1].mean():.{digits}f} | {dd:+.{digits}f} {pm(sd, digits)} ({(d[:, 1] < 0).sum()})"
        lines.append(f"| {name} | {a[:, 2].mean():.0f} | {ins} | {dele} |")
    return "\n".join(lines)


def write_table(
    rows: list[dict[str, Any]], columns: Sequence[str], path_stem: Path, title: str, notes: Sequence[str] = ()
) -> None:
    """``<stem>.csv`` and ``<stem>.md`` with ``columns`` of ``rows`` (floats printed with 4 digits)."""
    path_stem.parent.mkdir(parents=True, exist_ok=True)
    with path_stem.with_suffix(".csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(columns))
        w.writeheader()
        w.writerows({c: r.get(c, "") for c in columns} for r in rows)

    def fmt(v: Any) -> str:
        return f"{v:.4f}" if isinstance(v, float) else str(v)

    lines = [f"### {title}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in columns) + " |" for r in rows]
    if notes:
        lines += [""] + [f"- {n}" for n in notes]
    path_stem.with_suffix(".md").write_text("\n".join(lines) + "\n")


def plot_curves(curves: dict[str, dict[str, list[np.ndarray]]], fractions: dict[str, np.ndarray], path: Path) -> None:
    """Mean insertion / deletion curves per method (one panel per metric), AUC in the legend."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from peephole.metrics.curves import auc

    metrics = [m for m in ("insertion", "deletion") if any(m in c for c in curves.values())]
    if not metrics:
        return
    fig, axes = plt.subplots(1, len(metrics), figsize=(6 * len(metrics), 4.5), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for i, (method, per) in enumerate(curves.items()):
            if per.get(metric):
                mean = np.mean(np.stack(per[metric]), axis=0)
                style = ("-", "--", ":")[i // 10 % 3]  # the colour cycle repeats after 10 methods
                ax.plot(fractions[metric], mean, style, label=f"{method} ({auc(fractions[metric], mean):.3f})")
        ax.set_xlabel("fraction of pixels " + ("inserted" if metric == "insertion" else "deleted"))
        ax.set_ylabel("probability of the true class (mean)")
        ax.set_title(f"{metric} (mean curve; AUC of the mean in brackets)")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_grid(images: list[np.ndarray], maps: list[dict[str, np.ndarray]], titles: list[str], path: Path) -> None:
    """Rows: images; columns: the image, then one overlay per method (as in PAMI's Fig. 5)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from peephole.modalities.image.view import overlay

    if not images:
        return
    methods = list(maps[0])
    fig, axes = plt.subplots(len(images), len(methods) + 1, figsize=(1.9 * (len(methods) + 1), 2.0 * len(images)), squeeze=False)
    for r, (img, row, title) in enumerate(zip(images, maps, titles)):
        axes[r, 0].imshow(img)
        axes[r, 0].set_title(title, fontsize=7)
        for c, m in enumerate(methods, start=1):
            axes[r, c].imshow(overlay(img, row[m]))
            if r == 0:
                axes[r, c].set_title(m, fontsize=8)
    for ax in axes.ravel():
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
