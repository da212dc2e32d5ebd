"""The benchmark loops: insertion / deletion on ImageNet photos, the pointing game on COCO photos.

Only images the model classifies correctly are scored (insertion / deletion), and every method
explains the true class, as in the paper. Per-image rows are appended to ``rows.csv`` as they come
and the summary table is rewritten after each image, so an interrupted run still leaves a table.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from peephole.core.query import softmax
from peephole.errors import InputError
from peephole.evaluation.coco_imagenet import COCO_TO_IMAGENET
from peephole.evaluation.data import read_coco_boxes, read_imagenet_sample, scaled_boxes
from peephole.evaluation.methods import MapMaker
from peephole.evaluation.report import mean_sem, plot_curves, plot_grid, write_table
from peephole.metrics.curves import default_step, perturbation_curve
from peephole.metrics.pointing import TOLERANCE, boxes_mask, pointing_hit, pointing_summary
from peephole.modalities.image.io import load_image
from peephole.store.runs import Store

CURVE_METRICS = ("insertion", "deletion")


class _Rows:
    """Appends dict rows to a CSV file (header from the first row)."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self.path, self.columns, self.rows = path, list(columns), []
        with path.open("w", newline="") as f:
            csv.writer(f).writerow(self.columns)

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        with self.path.open("a", newline="") as f:
            csv.DictWriter(f, fieldnames=self.columns).writerow(row)


def _grid_title(name: str, width: int = 22) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def run_insertion_deletion(
    data: str | Path,
    methods: Sequence[str],
    out: str | Path,
    metrics: Sequence[str] = CURVE_METRICS,
    limit: int | None = None,
    maker: MapMaker | None = None,
    size: int = 224,
    step: int | None = None,
    batch_size: int = 32,
    grid_rows: int = 6,
    skip: int = 0,
    progress: bool = True,
    substrates: Sequence[str] | None = None,
    split: str | None = None,
) -> list[dict[str, Any]]:
    """Score ``methods`` on up to ``limit`` correctly classified images of an ImageNet sample folder.

    ``substrates`` (image masker names, e.g. ``('blur', 'grey')``) makes a substrate matrix: for each
    substrate s, insertion starts from s, deletion removes pixels to s, and every method that masks
    (PAMI, LIME, KernelSHAP, RISE, occlusion, Score-CAM) masks with s; the rows are labelled
    ``method@s`` (gradient and reference maps are made once and scored on every substrate). Without
    it, insertion starts from the blur, deletion ends at mid-grey and each method keeps its own masker.
    ``split``: ``'dev'`` or ``'test'`` rows of labels.csv (see :data:`peephole.evaluation.data.SPLITS`).
    """
    from peephole.modalities.image.maskers import MASKERS

    maker = maker or MapMaker()
    bad = [x for x in substrates or () if x not in MASKERS]
    if bad:
        raise InputError(f"unknown substrate {bad[0]!r}; use image masker names: {sorted(MASKERS)}")
    conditions = [(None, m) for m in methods] if not substrates else [(x, m) for x in substrates for m in methods]
    labels = [m if x is None else f"{m}@{x}" for x, m in conditions]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = maker.model("onnx")
    (out / "maps").mkdir(exist_ok=True)
    step = default_step((size, size)) if step is None else step
    rows = _Rows(out / "rows.csv", ["image", "label", "method", "metric", "auc", "n_queries", "seconds"])
    curves: dict[str, dict[str, list[np.ndarray]]] = {m: {k: [] for k in metrics} for m in labels}
    fractions: dict[str, np.ndarray] = {}
    grid_imgs: list[np.ndarray] = []
    grid_maps: list[dict[str, np.ndarray]] = []
    grid_titles: list[str] = []
    samples = read_imagenet_sample(data, split)[skip:]
    setup = {"data": str(data), "split": split, "substrates": list(substrates or ()), "limit": limit, "skip": skip}
    _write_settings(out, maker, methods, {**setup, "size": size, "step": step})
    # Each scored image is committed to a run store (peephole.batch): a crashed benchmark resumes where it stopped.
    settings = _store_settings(maker, methods, metrics, data, skip, size, step)
    store = Store(out / "run", {**settings, "split": split, "substrates": list(substrates or ())}, total=len(samples))
    done = {r["id"]: r for r in store.rows()}
    n_seen = n_wrong = n_done = 0
    bar = tqdm(total=limit or len(samples), desc="images", unit="image", disable=not progress)
    for seq, s in enumerate(samples):
        if limit is not None and n_done >= limit:
            break
        n_seen += 1
        old = done.get(s.path.name)
        if old is not None and old["correct"] == 0:
            n_wrong += 1
            continue
        img = None
        if old is None:
            img = load_image(s.path, size=size)
            if int(np.argmax(model(img[None])[0])) != s.label:
                n_wrong += 1
                row = {"id": s.path.name, "seq": seq, "source": str(s.path), "label": str(s.label), "status": "done"}
                store.commit({**row, "true_class": s.label, "correct": 0})
                continue
            maps, made, scores = {}, {}, {}
            for (sub, method), label in zip(conditions, labels):
                if sub is None or maker.takes_masker(method) or method not in made:
                    made[method] = maker.maps(method, img, [s.label], n_done, masker=sub)[0]
                r = made[method]
                maps[label] = r.map
                scores[label] = {"n_queries": r.n_queries, "seconds": round(r.seconds, 3)}
                substrate = None if sub is None else MASKERS[sub]()
                for metric in metrics:
                    c = perturbation_curve(model, img, r.map, s.label, metric, step=step, batch_size=batch_size, masker=substrate)
                    scores[label][metric] = {"auc": round(c.auc, 6), "curve": c.probabilities.astype(np.float32).tolist()}
                    fractions[metric] = c.fractions
            buf = io.BytesIO()
            np.savez_compressed(buf, label=s.label, **{m: v.astype(np.float16) for m, v in maps.items()})
            row = {"id": s.path.name, "seq": seq, "source": str(s.path), "label": str(s.label), "status": "done"}
            store.commit({**row, "true_class": s.label, "correct": 1, "metrics": scores}, npz=buf.getvalue())
            (out / "maps" / f"{s.path.stem}.npz").write_bytes(buf.getvalue())
        else:  # scored by an earlier session: replay its stored scores and curves
            scores = old["metrics"]
            with np.load(store.path / old["file"]) as z:
                maps = {m: z[m].astype(np.float32) for m in labels}
            for metric in metrics:
                n = len(scores[labels[0]][metric]["curve"])
                fractions[metric] = np.minimum(np.arange(n) * step, size * size) / (size * size)
        for label in labels:
            for metric in metrics:
                curves[label][metric].append(np.asarray(scores[label][metric]["curve"], np.float32))
                rows.add(
                    {
                        "image": s.path.name,
                        "label": s.label,
                        "method": label,
                        "metric": metric,
                        "auc": scores[label][metric]["auc"],
                        "n_queries": scores[label]["n_queries"],
                        "seconds": scores[label]["seconds"],
                    }
                )
        if len(grid_imgs) < grid_rows:
            grid_imgs.append(img if img is not None else load_image(s.path, size=size))
            grid_maps.append(maps)
            grid_titles.append(_grid_title(s.name))
        n_done += 1
        bar.update(1)
        summary = _curve_summary(rows.rows, labels, metrics)
        protocol = (
            "insertion: from PAMI's 49×49, σ=100 reflect blur; deletion: to mid-grey (0.5)"
            if not substrates
            else "method@s: insertion starts from substrate s, deletion removes pixels to s, and every method that "
            "masks uses s (gradient and reference maps are the same on every substrate)"
        )
        notes = [
            f"{n_done} correctly classified images scored ({n_seen} read, {n_wrong} misclassified skipped"
            f"{'' if split is None else f'; the {split} split of labels.csv'}); every method explains the true class.",
            f"{protocol}; step {step} px at {size}×{size}; AUC by the trapezoid rule over the fraction of pixels, in [0, 1].",
            "queries and seconds: per image, for making the map only (the curves add "
            f"{2 * (-(-size * size // step) + 1)} queries per method and image).",
        ]
        write_table(
            summary,
            ["method", *[f"{m} {x}" for m in metrics for x in ("mean", "sem")], "n", "queries/img", "s/img"],
            out / "summary",
            "Insertion / deletion",
            notes,
        )
        if n_done % 5 == 0 or n_done == grid_rows:  # an interrupted run keeps its figures
            _save_curves(out, curves, fractions, grid_imgs, grid_maps, grid_titles)
    bar.close()
    _save_curves(out, curves, fractions, grid_imgs, grid_maps, grid_titles)
    _write_settings(
        out,
        maker,
        methods,
        {
            **setup,
            "size": size,
            "step": step,
            "n_images": n_done,
            "n_read": n_seen,
            "n_misclassified": n_wrong,
        },
    )
    return _curve_summary(rows.rows, labels, metrics)


def _save_curves(
    out: Path,
    curves: dict[str, dict[str, list[np.ndarray]]],
    fractions: dict[str, np.ndarray],
    grid_imgs: list[np.ndarray],
    grid_maps: list[dict[str, np.ndarray]],
    grid_titles: list[str],
) -> None:
    np.savez_compressed(
        out / "curves.npz",
        **{f"{m}__{k}": np.stack(v) for m, d in curves.items() for k, v in d.items() if v},
        **{f"fractions__{k}": v for k, v in fractions.items()},
    )
    plot_curves(curves, fractions, out / "curves.png")
    plot_grid(grid_imgs, grid_maps, grid_titles, out / "grid.png")


def _curve_summary(rows: list[dict[str, Any]], methods: Sequence[str], metrics: Sequence[str]) -> list[dict[str, Any]]:
    table = []
    for method in methods:
        mine = [r for r in rows if r["method"] == method]
        line: dict[str, Any] = {"method": method}
        for metric in metrics:
            vals = [r["auc"] for r in mine if r["metric"] == metric]
            line[f"{metric} mean"], line[f"{metric} sem"] = mean_sem(vals)
            line["n"] = len(vals)
        first = [r for r in mine if r["metric"] == metrics[0]]
        line["queries/img"] = float(np.mean([r["n_queries"] for r in first])) if first else float("nan")
        line["s/img"] = float(np.mean([r["seconds"] for r in first])) if first else float("nan")
        table.append(line)
    return table


def run_pointing(
    data: str | Path,
    methods: Sequence[str],
    out: str | Path,
    limit: int | None = None,
    maker: MapMaker | None = None,
    size: int = 224,
    tolerance: float = TOLERANCE,
    grid_rows: int = 6,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """The pointing game on a COCO boxes folder: one trial per (image, mapped COCO class present).

    The photo is resized to ``size``×``size`` for the model; maps are resized back to the photo's
    own size, where the tolerance (15 px) and the boxes apply, as in Zhang et al.
    """
    import cv2

    maker = maker or MapMaker()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = maker.model("onnx")
    rows = _Rows(out / "rows.csv", ["image", "coco_class", "target", "top5", "method", "hit", "n_queries", "seconds"])
    samples = [s for s in read_coco_boxes(data) if any(c in COCO_TO_IMAGENET for c in s.boxes)]
    if limit is not None:
        samples = samples[:limit]
    grid_imgs, grid_maps, grid_titles = [], [], []
    names = model.class_names
    settings = {"harness": "pointing", **_method_settings(maker, methods), "data": str(Path(data).resolve()), "size": size}
    store = Store(out / "run", {**settings, "tolerance": tolerance}, total=len(samples))
    done = {r["id"]: r for r in store.rows()}
    for seq, s in enumerate(tqdm(samples, desc="images", unit="image", disable=not progress)):
        full = load_image(s.path)
        h, w = full.shape[:2]
        img = np.clip(cv2.resize(full, (size, size), interpolation=cv2.INTER_AREA), 0, 1)
        old = done.get(s.path.name)
        if old is None:
            trials, maps = _pointing_image(model, maker, methods, s, img, (h, w), tolerance)
            buf = io.BytesIO()
            np.savez_compressed(buf, **{f"{m}/{i}": v.astype(np.float16) for (m, i), v in maps.items()})
            row = {"id": s.path.name, "seq": seq, "source": str(s.path), "status": "done", "metrics": {"trials": trials}}
            store.commit(row, npz=buf.getvalue())
        else:  # scored by an earlier session: replay its trials
            trials = old["metrics"]["trials"]
            with np.load(store.path / old["file"]) as z:
                maps = {tuple(k.split("/")): z[k].astype(np.float32) for k in z.files}
                maps = {(m, int(i)): v for (m, i), v in maps.items()}
        for t in trials:
            rows.add(t)
        for i, (cls, target) in enumerate(dict.fromkeys((t["coco_class"], t["target"]) for t in trials)):
            if len(grid_imgs) < grid_rows:
                grid_imgs.append(img)
                grid_maps.append({m: maps[(m, i)] for m in methods})
                grid_titles.append(_grid_title(f"{cls} → {names[target] if names else target}"))
        _pointing_table(rows.rows, methods, out, tolerance)
    plot_grid(grid_imgs, grid_maps, grid_titles, out / "grid.png")
    _write_settings(
        out, maker, methods, {"data": str(data), "limit": limit, "size": size, "tolerance": tolerance, "n_images": len(samples)}
    )
    return _pointing_table(rows.rows, methods, out, tolerance)


def _pointing_image(
    model: Any,
    maker: MapMaker,
    methods: Sequence[str],
    s: Any,
    img: np.ndarray,
    shape: tuple[int, int],
    tolerance: float,
) -> tuple[list[dict[str, Any]], dict[tuple[str, int], np.ndarray]]:
    """One COCO photo's trials (one per mapped class present × method) and maps, keyed by (method, trial)."""
    import cv2

    h, w = shape
    probs = softmax(np.asarray(model(img[None]), np.float64))[0]
    top5 = set(np.argsort(-probs)[:5].tolist())
    classes = sorted(c for c in s.boxes if c in COCO_TO_IMAGENET)
    targets = [int(np.array(COCO_TO_IMAGENET[c])[np.argmax(probs[list(COCO_TO_IMAGENET[c])])]) for c in classes]
    results = {m: maker.maps(m, img, targets) for m in methods}
    trials, maps = [], {}
    for i, (cls, target) in enumerate(zip(classes, targets)):
        region = boxes_mask(scaled_boxes(s.boxes[cls], (h, w)), (h, w))
        for method in methods:
            r = results[method][i]
            maps[(method, i)] = r.map
            big = cv2.resize(r.map.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
            trials.append(
                {
                    "image": s.path.name,
                    "coco_class": cls,
                    "target": target,
                    "top5": int(target in top5),
                    "method": method,
                    "hit": int(pointing_hit(big, region, tolerance)),
                    "n_queries": r.n_queries,
                    "seconds": round(r.seconds, 3),
                }
            )
    return trials, maps


def _pointing_table(rows: list[dict[str, Any]], methods: Sequence[str], out: Path, tolerance: float) -> list[dict[str, Any]]:
    table = []
    for method in methods:
        mine = [r for r in rows if r["method"] == method]
        every = pointing_summary((r["coco_class"], bool(r["hit"])) for r in mine)
        known = pointing_summary((r["coco_class"], bool(r["hit"])) for r in mine if r["top5"])
        table.append(
            {
                "method": method,
                "overall %": 100 * every.overall,
                "mean over classes %": 100 * every.mean_over_classes,
                "trials": every.n_trials,
                "classes": len(every.per_class),
                "top-5 overall %": 100 * known.overall,
                "top-5 trials": known.n_trials,
                "queries/map": float(np.mean([r["n_queries"] for r in mine])) if mine else float("nan"),
                "s/map": float(np.mean([r["seconds"] for r in mine])) if mine else float("nan"),
            }
        )
    n_img = len({r["image"] for r in rows})
    write_table(
        table,
        list(table[0]) if table else ["method"],
        out / "summary",
        "Pointing game",
        [
            f"{n_img} COCO images, one trial per (image, COCO class with an ImageNet counterpart); the map explains the "
            "ImageNet class of that COCO class's set scored highest on the image.",
            f"hit: the map's maximum (resized to the photo's size; ties: first in row-major order) within {tolerance:g} px "
            "of the union of the class's boxes. 'top-5': only trials where that class is in the model's top 5.",
        ],
    )
    return table


def _store_settings(
    maker: MapMaker, methods: Sequence[str], metrics: Sequence[str], data: str | Path, skip: int, size: int, step: int
) -> dict[str, Any]:
    """What decides each image's scores (not ``limit``: a resumed benchmark may go further)."""
    data = str(Path(data).resolve())
    extra = {"metrics": list(metrics), "data": data, "skip": skip, "size": size, "step": step}
    return {"harness": "insertion-deletion", **_method_settings(maker, methods), **extra}


def _method_settings(maker: MapMaker, methods: Sequence[str]) -> dict[str, Any]:
    """The model, seed and every method's options: what decides a map (JSON-safe)."""
    from peephole.version import __version__

    per_method = {
        m: {k: v if isinstance(v, (int, float, str, bool)) else repr(v) for k, v in maker.settings(m).items()} for m in methods
    }
    return {"model": maker.model_name, "seed": maker.seed, "methods": per_method, "peephole": __version__}


def _write_settings(out: Path, maker: MapMaker, methods: Sequence[str], extra: dict[str, Any]) -> None:
    settings = {
        "model": maker.model_name,
        "seed": maker.seed,
        **extra,
        "methods": {
            m: {k: v if isinstance(v, (int, float, str, bool)) else repr(v) for k, v in maker.settings(m).items()}
            for m in methods
        },
    }
    (out / "settings.json").write_text(json.dumps(settings, indent=2) + "\n")
