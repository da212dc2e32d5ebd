"""The benchmark loops: insertion / deletion on ImageNet photos, the pointing game on COCO photos.

Only images the model classifies correctly are scored (insertion / deletion; "correct" is
:func:`peephole.store.runs.prediction_columns`'s, the run store's one definition), and every method explains
the true class, as in the paper.

The output folder is a run store (:class:`peephole.store.runs.Store`, the format ``peephole.run`` writes): one
item per (image, method), id ``'<image file>/<method>'`` (``'<image file>/<method>@<substrate>'`` in a
substrate matrix), whose result is an :class:`~peephole.result.Explanation` — the method's map(s), the
explained classes, the model's probabilities on the photo, queries and seconds; the photo itself is the row's
``source`` (``input`` is None) — and whose ``metrics`` column holds its scores (``insertion`` / ``deletion``
AUC; ``pointing/<COCO class>`` hit in [0, 1]). Insertion / deletion curves are the Explanation's extras
``insertion_curve`` / ``deletion_curve``. A misclassified image is one ``'skipped'`` item (id: the image
file). Each item is committed as soon as it is scored, so a crashed or interrupted run resumes: a finished item
is read back, never redone. ``summary.md`` / ``summary.csv``, ``items.csv`` (the store's table),
``curves.npz`` / ``curves.png`` and ``grid.png`` are views computed from the store; ``settings.json``
records the call.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from peephole.core.options import require_count
from peephole.errors import InputError
from peephole.evaluation.coco_imagenet import COCO_TO_IMAGENET
from peephole.evaluation.data import class_regions, photo, read_coco_boxes, read_imagenet_sample
from peephole.evaluation.methods import MapMaker
from peephole.evaluation.report import mean_sem, plot_curves, plot_grid, write_table
from peephole.metrics.curves import default_step, perturbation_curve
from peephole.metrics.pointing import TOLERANCE, pointing_hit, pointing_summary
from peephole.modalities.image.io import load_image
from peephole.result import Explanation
from peephole.store.runs import Store, prediction_columns
from peephole.tasks import classification_query

CURVE_METRICS = ("insertion", "deletion")
#: The store's table, exported beside the summary (one row per (image, method); metrics as JSON).
EXPORT = "items.csv"
#: prefix of a pointing item's metrics: ``pointing/<COCO class>`` -> hit in [0, 1] (the share of maximal pixels that hit)
POINTING = "pointing/"


def item_id(image: str, method: str) -> str:
    """The store item (and ``peephole.load(OUT, item=...)`` id) of one image's map by one harness method."""
    return f"{image}/{method}"


def _grid_title(name: str, width: int = 22) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def _stored(store: Store) -> dict[str, dict[str, dict[str, Any]]]:
    """``{image: {method: row}}`` of the store's finished and skipped items (a skipped image: method ``''``)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for r in store.rows():
        if r["status"] in ("done", "skipped"):
            image, _, method = r["id"].partition("/")
            out.setdefault(image, {})[method] = r
    return out


def _probabilities(model: Any, img: np.ndarray) -> np.ndarray:
    """The model's class probabilities on one image (one query)."""
    return classification_query(model)(img[None], "the photo")[0]


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
    Writes the run store and its views into ``out`` (see the module doc); returns the summary table.
    """
    from peephole.modalities.image.maskers import MASKERS

    for name, value, least in (("--limit", limit, 1), ("--skip", skip, 0), ("--step", step, 1)):
        require_count(name, value, least)
    maker = maker or MapMaker()
    bad = [x for x in substrates or () if x not in MASKERS]
    if bad:
        raise InputError(f"unknown substrate {bad[0]!r}; use image masker names: {sorted(MASKERS)}")
    conditions = [(None, m) for m in methods] if not substrates else [(x, m) for x in substrates for m in methods]
    labels = [m if x is None else f"{m}@{x}" for x, m in conditions]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = maker.model("onnx")
    names = getattr(model, "class_names", None)
    step = default_step((size, size)) if step is None else step
    samples = read_imagenet_sample(data, split)[skip:]
    setup = {"data": str(data), "split": split, "substrates": list(substrates or ()), "limit": limit, "skip": skip}
    _write_settings(out, maker, methods, {**setup, "size": size, "step": step})
    settings = {**_store_settings(maker, methods, metrics, data, skip, size, step), "split": split}
    with Store(out, {**settings, "substrates": list(substrates or ())}, total=len(samples)) as store:
        views = _CurveViews(store, out, labels, metrics, size, step, grid_rows)
        stored = _stored(store)
        n_seen = n_wrong = 0
        bar = tqdm(total=limit or len(samples), desc="images", unit="image", disable=not progress)
        for seq, s in enumerate(samples):
            if limit is not None and len(views.images) >= limit:
                break
            n_seen += 1
            mine = stored.get(s.path.name, {})
            if "" in mine:  # misclassified, found by an earlier session
                n_wrong += 1
                continue
            todo = [(c, label) for c, label in zip(conditions, labels) if label not in mine]
            if todo:
                img = photo(s.path, lambda p: load_image(p, size=size))
                if img is None:  # left out with a warning; the other photos go on
                    continue
                probs = _probabilities(model, img)
                row = {"seq": seq, "source": str(s.path), "label": str(s.label), "true_class": s.label}
                row.update(prediction_columns(probs, names, s.label))
                if not mine and not row["correct"]:
                    n_wrong += 1
                    why = f"misclassified: the model predicts {row['prediction']} ({row['prediction_name']}), not {s.label}"
                    store.commit({**row, "id": s.path.name, "status": "skipped", "error": why})
                    continue
                made: dict[str, Any] = {}
                for (sub, method), label in todo:
                    if sub is None or maker.takes_masker(method) or method not in made:
                        made[method] = maker.maps(method, img, [s.label], len(views.images), masker=sub)[0]
                    r = made[method]
                    substrate = None if sub is None else MASKERS[sub]()
                    curves = {
                        m: perturbation_curve(model, img, r.map, s.label, m, step=step, batch_size=batch_size, masker=substrate)
                        for m in metrics
                    }
                    e = Explanation(
                        method=method,
                        modality="image",
                        input=img,  # the photo as explained: the item is a whole Explanation (overlays, the report)
                        maps=np.asarray(r.map, np.float32)[None],
                        targets=[s.label],
                        probabilities=probs,
                        class_names=names,
                        n_queries=r.n_queries,
                        timings={"total": r.seconds},
                        params={**_jsonable(maker.settings(method)), "substrate": sub},
                        extras={f"{m}_curve": c.probabilities.astype(np.float32) for m, c in curves.items()},
                    )
                    scores = {m: round(c.auc, 6) for m, c in curves.items()}
                    iid = item_id(s.path.name, label)
                    store.commit(
                        {**row, "id": iid, "status": "done", "targets": [s.label], "metrics": scores,
                         "n_queries": r.n_queries, "seconds": round(r.seconds, 3)},
                        e,
                    )  # fmt: skip
                    views.keep(iid, e.extras)
            views.images.append((s.path.name, _grid_title(s.name)))
            bar.update(1)
            notes = _curve_notes(len(views.images), n_seen, n_wrong, split, substrates, step, size)
            views.table(notes)
            n_done = len(views.images)
            if n_done % 5 == 0 or n_done == grid_rows:  # an interrupted run keeps its figures
                views.figures()
        bar.close()
        table = views.table(_curve_notes(len(views.images), n_seen, n_wrong, split, substrates, step, size))
        views.figures()
    extra = {"size": size, "step": step, "n_images": len(views.images), "n_read": n_seen, "n_misclassified": n_wrong}
    _write_settings(out, maker, methods, {**setup, **extra})
    return table


def _curve_notes(
    n_done: int, n_seen: int, n_wrong: int, split: str | None, substrates: Sequence[str] | None, step: int, size: int
) -> list[str]:
    protocol = (
        "insertion: from PAMI's 49×49, σ=100 reflect blur; deletion: to mid-grey (0.5)"
        if not substrates
        else "method@s: insertion starts from substrate s, deletion removes pixels to s, and every method that "
        "masks uses s (gradient and reference maps are the same on every substrate)"
    )
    return [
        f"{n_done} correctly classified images scored ({n_seen} read, {n_wrong} misclassified skipped"
        f"{'' if split is None else f'; the {split} split of labels.csv'}); every method explains the true class.",
        f"{protocol}; step {step} px at {size}×{size}; AUC by the trapezoid rule over the fraction of pixels, in [0, 1].",
        "queries and seconds: per image, for making the map only (the curves add "
        f"{2 * (-(-size * size // step) + 1)} queries per method and image).",
    ]


class _CurveViews:
    """The views of an insertion / deletion run, computed from its store over the images of this call
    (``images``: ``(image file, grid title)`` in order): the summary table, ``items.csv``, the curves and the grid.
    Curves are read from the items' Explanations once and kept."""

    def __init__(
        self, store: Store, out: Path, labels: Sequence[str], metrics: Sequence[str], size: int, step: int, grid_rows: int
    ) -> None:
        self.store, self.out, self.labels, self.metrics = store, out, list(labels), list(metrics)
        self.size, self.step, self.grid_rows = size, step, grid_rows
        self.images: list[tuple[str, str]] = []
        self._curves: dict[str, dict[str, np.ndarray]] = {}

    def keep(self, iid: str, extras: dict[str, np.ndarray]) -> None:
        self._curves[iid] = {m: np.asarray(extras[f"{m}_curve"], np.float32) for m in self.metrics}

    def curve(self, iid: str, metric: str) -> np.ndarray:
        if iid not in self._curves:
            self.keep(iid, self.store.load(iid).extras)  # the checked reader: a damaged file is one InputError
        return self._curves[iid][metric]

    def table(self, notes: Sequence[str]) -> list[dict[str, Any]]:
        rows = {r["id"]: r for r in self.store.rows("done")}
        table = []
        for label in self.labels:
            mine = [rows[item_id(image, label)] for image, _ in self.images]
            line: dict[str, Any] = {"method": label}
            for metric in self.metrics:
                line[f"{metric} mean"], line[f"{metric} sem"] = mean_sem([r["metrics"][metric] for r in mine])
                line["n"] = len(mine)
            line["queries/img"] = float(np.mean([r["n_queries"] for r in mine])) if mine else float("nan")
            line["s/img"] = float(np.mean([r["seconds"] for r in mine])) if mine else float("nan")
            table.append(line)
        columns = ["method", *[f"{m} {x}" for m in self.metrics for x in ("mean", "sem")], "n", "queries/img", "s/img"]
        write_table(table, columns, self.out / "summary", "Insertion / deletion", notes)
        return table

    def figures(self) -> None:
        """``curves.npz`` / ``curves.png`` (mean curves), ``grid.png`` (the first images' maps) and ``items.csv``."""
        self.store.export(self.out / EXPORT)
        curves = {
            label: {m: [self.curve(item_id(image, label), m) for image, _ in self.images] for m in self.metrics}
            for label in self.labels
        }
        fractions = {}
        for m in self.metrics:
            if self.images:
                n = len(self.curve(item_id(self.images[0][0], self.labels[0]), m))
                fractions[m] = np.minimum(np.arange(n) * self.step, self.size**2) / self.size**2
        np.savez_compressed(
            self.out / "curves.npz",
            **{f"{label}__{m}": np.stack(v) for label, d in curves.items() for m, v in d.items() if v},
            **{f"fractions__{m}": v for m, v in fractions.items()},
        )
        plot_curves(curves, fractions, self.out / "curves.png")
        rows = {r["id"]: r for r in self.store.rows("done")}
        imgs, maps, titles = [], [], []
        for image, title in self.images[: self.grid_rows]:
            imgs.append(load_image(rows[item_id(image, self.labels[0])]["source"], size=self.size))
            maps.append({label: self.store.load(item_id(image, label)).maps[0] for label in self.labels})
            titles.append(title)
        plot_grid(imgs, maps, titles, self.out / "grid.png")


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
    own size, where the tolerance (15 px) and the boxes apply, as in Zhang et al. One store item per
    (image, method): its Explanation holds one map per trial (at ``size``×``size``), its metrics the hits.
    Writes the run store and its views into ``out`` (see the module doc); returns the summary table.
    """
    require_count("--limit", limit, 1)
    maker = maker or MapMaker()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = maker.model("onnx")
    samples = [s for s in read_coco_boxes(data) if any(c in COCO_TO_IMAGENET for c in s.boxes)]
    if limit is not None:
        samples = samples[:limit]
    settings = {"harness": "pointing", **_method_settings(maker, methods), "data": str(Path(data).resolve()), "size": size}
    with Store(out, {**settings, "tolerance": tolerance}, total=len(samples)) as store:
        stored = _stored(store)
        images: list[str] = []
        for seq, s in enumerate(tqdm(samples, desc="images", unit="image", disable=not progress)):
            todo = [m for m in methods if m not in stored.get(s.path.name, {})]
            if todo and not _point_image(store, model, maker, todo, s, seq, size, tolerance):
                continue  # no class of the photo is a trial at its size
            images.append(s.path.name)
            _pointing_table(store, images, methods, out, tolerance)
        table = _pointing_table(store, images, methods, out, tolerance)
        store.export(out / EXPORT)
        _pointing_grid(store, images, methods, model, size, grid_rows, out)
    _write_settings(
        out, maker, methods, {"data": str(data), "limit": limit, "size": size, "tolerance": tolerance, "n_images": len(samples)}
    )
    return table


def _resized(path: Path, size: int) -> tuple[np.ndarray, tuple[int, int]]:
    """The photo at ``size``×``size`` (what the model sees) and the photo's own (H, W)."""
    import cv2

    full = load_image(path)
    img = np.clip(cv2.resize(full, (size, size), interpolation=cv2.INTER_AREA), 0, 1)
    return img, full.shape[:2]


def _point_image(
    store: Store, model: Any, maker: MapMaker, methods: Sequence[str], s: Any, seq: int, size: int, tolerance: float
) -> bool:
    """Score one COCO photo with ``methods`` and commit one item per method: its maps (one per mapped class
    present, :func:`~peephole.evaluation.data.class_regions` at the photo's size) and hits. The target of a class:
    the ImageNet class of its set the model scores highest. False (nothing committed): the photo has no trial."""
    import cv2

    resized = photo(s.path, lambda p: _resized(p, size))
    if resized is None:  # left out with a warning
        return False
    img, (h, w) = resized
    by_class = class_regions(s, (h, w))
    if not by_class:
        return False
    probs = _probabilities(model, img)
    names = getattr(model, "class_names", None)
    classes, regions = list(by_class), list(by_class.values())
    targets = [int(np.array(COCO_TO_IMAGENET[c])[np.argmax(probs[list(COCO_TO_IMAGENET[c])])]) for c in classes]
    row = {"seq": seq, "source": str(s.path), **prediction_columns(probs, names), "targets": targets}
    for method in methods:
        results = maker.maps(method, img, targets)
        hits = {}
        for cls, region, r in zip(classes, regions, results):
            big = cv2.resize(r.map.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
            hits[f"{POINTING}{cls}"] = pointing_hit(big, region, tolerance)
        n_queries, seconds = sum(r.n_queries for r in results), sum(r.seconds for r in results)
        e = Explanation(
            method=method,
            modality="image",
            input=img,
            maps=np.stack([np.asarray(r.map, np.float32) for r in results]),
            targets=targets,
            probabilities=probs,
            class_names=names,
            n_queries=n_queries,
            timings={"total": seconds},
            params={**_jsonable(maker.settings(method)), "coco_classes": classes},
        )
        iid = item_id(s.path.name, method)
        store.commit(
            {**row, "id": iid, "status": "done", "metrics": hits, "n_queries": n_queries, "seconds": round(seconds, 3)}, e
        )
    return True


def _trials(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The trials of one stored pointing item: ``coco_class``, ``target``, ``top5`` (the target among the
    model's top 5 classes), ``hit``."""
    top5 = {t[0] for t in row["top"]}
    hits = [(k[len(POINTING) :], v) for k, v in row["metrics"].items() if k.startswith(POINTING)]
    return [{"coco_class": c, "target": t, "top5": int(t in top5), "hit": h} for (c, h), t in zip(hits, row["targets"])]


def _pointing_table(
    store: Store, images: Sequence[str], methods: Sequence[str], out: Path, tolerance: float
) -> list[dict[str, Any]]:
    rows = {r["id"]: r for r in store.rows("done")}
    table = []
    for method in methods:
        mine = [rows[item_id(image, method)] for image in images]
        trials = [t for r in mine for t in _trials(r)]
        every = pointing_summary((t["coco_class"], t["hit"]) for t in trials)
        known = pointing_summary((t["coco_class"], t["hit"]) for t in trials if t["top5"])
        n = len(trials)
        table.append(
            {
                "method": method,
                "overall %": 100 * every.overall,
                "mean over classes %": 100 * every.mean_over_classes,
                "trials": every.n_trials,
                "classes": len(every.per_class),
                "top-5 overall %": 100 * known.overall,
                "top-5 trials": known.n_trials,
                "queries/map": sum(r["n_queries"] for r in mine) / n if n else float("nan"),
                "s/map": sum(r["seconds"] for r in mine) / n if n else float("nan"),
            }
        )
    write_table(
        table,
        list(table[0]) if table else ["method"],
        out / "summary",
        "Pointing game",
        [
            f"{len(images)} COCO images, one trial per (image, COCO class with an ImageNet counterpart); the map explains the "
            "ImageNet class of that COCO class's set scored highest on the image.",
            "hit: the map's maximum (resized to the photo's size; ties: the share of the maximal pixels that hit) within "
            f"{tolerance:g} px "
            "of the union of the class's boxes. 'top-5': only trials where that class is in the model's top 5.",
        ],
    )
    return table


def _pointing_grid(
    store: Store, images: Sequence[str], methods: Sequence[str], model: Any, size: int, grid_rows: int, out: Path
) -> None:
    """``grid.png``: the first ``grid_rows`` trials, each method's map (from the store) over the photo."""
    names = getattr(model, "class_names", None)
    rows = {r["id"]: r for r in store.rows("done")}
    imgs, maps, titles = [], [], []
    for image in images:
        if len(imgs) >= grid_rows:
            break
        first = rows[item_id(image, methods[0])]
        img = _resized(Path(first["source"]), size)[0]
        loaded = {m: store.load(item_id(image, m)).maps for m in methods}
        for i, t in enumerate(_trials(first)[: grid_rows - len(imgs)]):
            imgs.append(img)
            maps.append({m: loaded[m][i] for m in methods})
            titles.append(_grid_title(f"{t['coco_class']} → {names[t['target']] if names else t['target']}"))
    plot_grid(imgs, maps, titles, out / "grid.png")


def _jsonable(options: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, (int, float, str, bool)) or v is None else repr(v) for k, v in options.items()}


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

    per_method = {m: _jsonable(maker.settings(m)) for m in methods}
    return {"model": maker.model_name, "seed": maker.seed, "methods": per_method, "peephole": __version__}


def _write_settings(out: Path, maker: MapMaker, methods: Sequence[str], extra: dict[str, Any]) -> None:
    per_method = {m: _jsonable(maker.settings(m)) for m in methods}
    settings = {"model": maker.model_name, "seed": maker.seed, **extra, "methods": per_method}
    (out / "settings.json").write_text(json.dumps(settings, indent=2) + "\n")
