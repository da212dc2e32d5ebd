"""The report card: several methods at a matched query budget on the same photos, scored by checks a curve-optimiser
cannot game, with paired differences against a reference method (``peephole benchmark --card``).

Columns (each a per-image score stored in the run store's item metrics, see :data:`COLUMNS`):

- ``insertion`` / ``deletion``: held-out fill — a map made with blur is scored on mean grey and the reverse
  (:func:`peephole.metrics.grading.held_out_fill`); maps of methods without a masker are scored on blur;
- ``insertion (ROAD)`` / ``deletion (ROAD)`` (``road`` steps, opt-in): the same curves with ROAD's noisy linear
  imputation (:mod:`peephole.metrics.road`), a fill no method searches with, at ``road`` coarse steps (one sparse
  solve per query: a pixel-granularity curve would take minutes);
- ``µFidelity`` (Bhatt et al. 2020) over a 9×9 grid with the held-out fill;
- ``pointing`` / ``energy pointing`` on a COCO boxes folder (one item per photo and class);
- ``seed ρ``: Spearman ρ between the maps of seeds ``seed`` and ``seed + 1`` (the first ``stability`` images);
- ``relevance mass`` / ``mask AUC``: against the known features of a synthetic set (:mod:`peephole.evaluation.synthetic`);
- ``insertion (self-graded)`` / ``deletion (self-graded)``: the method's own fill, the one it searched with — these
  grade a greedy path or a coalition fit on its own objective, hence the label.

Per column: each method's mean, its paired difference with the reference (mean of per-image differences ± the
standard error of those differences, over the images where both have a score) and the leader(s): the best mean,
and every method whose paired difference with it is within one paired s.e. (tied-first).
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from peephole.core.options import require_count
from peephole.errors import InputError
from peephole.evaluation.methods import REFERENCE, VARIANTS, MapMaker, check_installed
from peephole.evaluation.report import mean_sem, pm
from peephole.evaluation.runner import _probabilities
from peephole.metrics.curves import default_step, perturbation_curve
from peephole.metrics.fidelity import mu_fidelity
from peephole.metrics.grading import held_out_fill
from peephole.metrics.ground_truth import mask_auc, relevance_mass_accuracy
from peephole.metrics.pointing import energy_pointing, pointing_hit
from peephole.metrics.stability import rank_correlation
from peephole.registry import METHODS
from peephole.result import Explanation
from peephole.store.runs import ClaimSession, Store, prediction_columns

#: Methods whose model queries are their partition's parts (one query per part): a budget sets the partition.
PART_METHODS = ("pami", "occlusion")
#: Mean parts per segmentation of keep-one PAMI's 20 default ones: 458 queries per photo on the test split.
PARTS_PER_SEGMENTATION = 23
#: Per-method figures beside each card row (:func:`method_stats`; ``fill``: :func:`fill_text`).
STATS = ("queries", "seconds", "overhead", "fill")
#: What a map explains (``--target``): the model's top-1 class on every image, or the label on the correct ones only.
TARGETS = ("predicted", "true")
#: Seconds between looks at the items another process is making for the same card.
CLAIM_POLL_S = 5.0
#: Options that set a method's number of model queries, in the order looked for (``--budget``).
QUERY_OPTIONS = ("max_queries", "n_samples", "n_masks", "n_designs")


@dataclass(frozen=True)
class Column:
    name: str
    higher_is_better: bool
    self_graded: bool = False


COLUMNS = (
    Column("insertion", True),
    Column("deletion", False),
    Column("insertion (ROAD)", True),
    Column("deletion (ROAD)", False),
    Column("µFidelity", True),
    Column("seed ρ", True),
    Column("pointing", True),
    Column("energy pointing", True),
    Column("relevance mass", True),
    Column("mask AUC", True),
    Column("insertion (self-graded)", True, True),
    Column("deletion (self-graded)", False, True),
)


@dataclass
class Sample:
    """One card item: an image, its class (the true class; on COCO the target the boxes belong to), for synthetic
    data its known feature mask, for COCO its boxes' pixels (then the model need not predict ``label``)."""

    name: str
    image: np.ndarray
    label: int
    mask: np.ndarray | None = None
    source: str = ""
    region: np.ndarray | None = None


def folder_samples(data: str | Path, split: str | None, size: int = 224, shuffle: int | None = None) -> Iterable[Sample]:
    """The photos of an ImageNet sample folder (``split``: its even ``'dev'`` or odd ``'test'`` rows), loaded lazily;
    ``shuffle``: in the order of a permutation of that seed instead of the file's (classes sorted by index), so the
    first N photos of an unfinished run are a random sample of the split, not its first classes."""
    from peephole.evaluation.data import photo, read_imagenet_sample
    from peephole.modalities.image.io import load_image

    rows = read_imagenet_sample(data, split)
    order = range(len(rows)) if shuffle is None else np.random.default_rng(shuffle).permutation(len(rows))
    for i in order:
        s = rows[int(i)]
        img = photo(s.path, lambda p: load_image(p, size=size))
        if img is not None:  # an unreadable photo is left out with a warning
            yield Sample(s.path.name, img, s.label, source=str(s.path))


def coco_samples(
    data: str | Path, model: Any, split: str | None, size: int = 224, shuffle: int | None = None
) -> Iterable[Sample]:
    """One sample per (COCO photo, class with ImageNet counterparts) of a COCO boxes folder (``split``: its even
    ``'dev'`` or odd ``'test'`` photos): the photo at ``size``×``size``, the target the ImageNet class of that set the
    model scores highest (as in :func:`peephole.evaluation.runner.run_pointing`), the boxes' pixels at ``size``
    (:func:`~peephole.evaluation.data.class_regions`: a class under a pixel wide there is no item);
    ``shuffle``: the photos in the order of a permutation of that seed (as :func:`folder_samples`)."""
    from peephole.evaluation.coco_imagenet import COCO_TO_IMAGENET
    from peephole.evaluation.data import SPLITS, class_regions, photo, read_coco_boxes
    from peephole.evaluation.runner import _resized

    photos = read_coco_boxes(data)
    photos = photos if split is None else photos[SPLITS[split] :: 2]
    if shuffle is not None:
        photos = [photos[int(i)] for i in np.random.default_rng(shuffle).permutation(len(photos))]
    for p in photos:
        regions = class_regions(p, (size, size))  # squashed, not cropped: the boxes stay on the photo
        if not regions:
            continue
        resized = photo(p.path, lambda q: _resized(q, size))
        if resized is None:
            continue
        img = resized[0]
        probs = _probabilities(model, img)
        for c, region in regions.items():
            ids = list(COCO_TO_IMAGENET[c])
            yield Sample(f"{p.path.name}:{c}", img, int(ids[int(np.argmax(probs[ids]))]), source=str(p.path), region=region)


def _base(method: str) -> str:
    return VARIANTS.get(method, (method, {}))[0]


def _defaults(method: str) -> dict[str, Any]:
    from peephole.modalities import get_modality

    return METHODS[_base(method)].options(get_modality("image"))


def budget_options(
    methods: Sequence[str], budget: int, options: dict[str, dict[str, Any]] | None = None, size: int = 224
) -> dict[str, dict[str, Any]]:
    """``{method: {option: value}}`` setting each method's model queries per map to about ``budget``: the first of
    :data:`QUERY_OPTIONS` the method has (``max_queries`` is a whole call's budget), or, for a method whose queries are
    its partition's parts (keep-one PAMI, occlusion), that partition's size. Gradients and reference maps are left
    out: their query count is not a setting.

    - PAMI path fits its surrogate on ``n_samples`` of its ``max_queries``: capped at half the budget.
    - Sobol's ``n_designs`` N costs N·(d + 1) queries over d grid cells (``cells``² of ``options``, default 8×8) and
      must be a power of two: the largest within the budget, at least 2.
    - Keep-one PAMI on superpixels (no ``max_queries``: that is adaptive PAMI) keeps k of its segmentations, evenly
      spread over the list, k = budget ÷ :data:`PARTS_PER_SEGMENTATION` (at least 1, at most all of them).
    - Sliding windows (occlusion, PAMI on windows): the smallest ``stride`` whose grid of centres over a ``size``-pixel
      square has at most ``budget`` windows, and a ``radius`` large enough for the windows to cover every pixel."""
    if budget < 1:
        raise InputError(f"--budget must be a positive number of queries, got {budget}")
    from peephole.modalities import get_modality
    from peephole.modalities.image.windows import WindowOptions

    out: dict[str, dict[str, Any]] = {}
    for m in methods:
        if m in REFERENCE:
            continue
        defaults = _defaults(m)
        given = {**maker_settings(m), **(options or {}).get(m, {})}
        partition = given.get("partition") or get_modality("image").defaults(_base(m), given).get("partition")
        key = next((k for k in QUERY_OPTIONS if k in defaults), None)
        if key == "max_queries" and "n_samples" in defaults:  # PAMI path: the whole call's budget, its surrogate fit inside
            out[m] = {key: budget, "n_samples": max(2, min(int(defaults["n_samples"]), budget // 2))}
        elif key is not None and _base(m) == "sobol":
            d = int(given.get("cells") or 8) ** 2
            out[m] = {key: max(2, 2 ** int(np.floor(np.log2(max(budget / (d + 1), 1)))))}
        elif _base(m) in PART_METHODS and "max_queries" not in given and partition == "superpixels":
            segs = tuple(given.get("segmentations") or defaults["segmentations"])
            k = int(np.clip(budget // PARTS_PER_SEGMENTATION, 1, len(segs)))
            out[m] = {"segmentations": tuple(segs[int(i)] for i in np.linspace(0, len(segs) - 1, k).round())}
        elif _base(m) in PART_METHODS and "max_queries" not in given and partition == "window":
            shape = given.get("window") or "circle"
            radius = given.get("radius") or WindowOptions(window=shape).sized(size, size).radius  # unset: by the size
            out[m] = window_budget(budget, size, int(radius), shape)
        elif key is not None:
            out[m] = {key: budget}
    return out


def window_budget(budget: int, size: int, radius: int, shape: str) -> dict[str, int]:
    """The smallest stride with at most ``budget`` windows on a ``size``² image, and the smallest radius ≥ ``radius``
    whose windows at that stride cover every pixel (:func:`~peephole.modalities.image.windows.uncovered_gap`)."""
    from peephole.modalities.image.windows import uncovered_gap, window_centres

    stride = next(s for s in range(1, size + 1) if len(window_centres(size, s)) ** 2 <= budget or s == size)
    while uncovered_gap(radius, stride, shape):
        radius += 1
    return {"stride": stride, "radius": radius}


def maker_settings(method: str) -> dict[str, Any]:
    """A harness method's variant settings (before the caller's options)."""
    return dict(VARIANTS.get(method, (method, {}))[1])


def own_fill(maker: MapMaker, method: str) -> str | None:
    """The masker ``method`` searches with (its setting or default), None for methods that hide nothing."""
    if method in REFERENCE or not maker.takes_masker(method):
        return None
    from peephole.modalities import get_modality

    given = maker.settings(method)
    fill = given.get("masker") or get_modality("image").defaults(_base(method), given)["masker"]
    return fill if isinstance(fill, str) else None


def fill_text(maker: MapMaker, method: str) -> str:
    """``'made → scored'``: the fill ``method`` searched with and the held-out one its insertion, deletion and
    µFidelity are scored on (``'— → blur'`` for a method that hides nothing)."""
    own = own_fill(maker, method)
    return f"{own or '—'} → {held_out_fill(own)}"


def common_masker(methods: Sequence[str], masker: str, options: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``options`` with ``masker`` as the fill of every method of ``methods`` that hides pixels and was not given one:
    one condition for every row (the same fill searched with, so the same held-out fill scored on). A method whose
    own default is ``masker`` gets no option, so its items match (and a resumed or copied store reuses) those made
    at its defaults."""
    from peephole.modalities.image.maskers import MASKERS

    if masker not in MASKERS:
        raise InputError(f"unknown --masker {masker!r}; use one of {', '.join(sorted(MASKERS))}")
    probe = MapMaker()
    given = {m: {"masker": masker, **options.get(m, {})} for m in methods if own_fill(probe, m) not in (None, masker)}
    return {**options, **given}


def score_map(
    model: Any, maker: MapMaker, method: str, s: Sample, saliency: np.ndarray, step: int, mu_samples: int, road: int = 0
) -> dict[str, float]:
    """Every per-image column of one map (not ``seed ρ``); ``road``: the ROAD curves' number of steps (0: none)."""
    own = own_fill(maker, method)
    out: dict[str, float] = {}
    road_step = -(-int(np.prod(s.image.shape[:2])) // road) if road else 0
    for suffix, fill, k in (("", held_out_fill(own), step), (" (self-graded)", own, step), (" (ROAD)", "road", road_step)):
        if fill is None or not k:
            continue
        for mode in ("insertion", "deletion"):
            curve = perturbation_curve(model, s.image, saliency, s.label, mode, step=k, fill=fill, seed=maker.seed)
            out[mode + suffix] = curve.auc
    mu = mu_fidelity(model, s.image, saliency, s.label, fill=held_out_fill(own), n_samples=mu_samples, seed=maker.seed)
    out["µFidelity"] = mu.correlation
    if s.region is not None:
        out["pointing"] = float(pointing_hit(saliency, s.region))
        out["energy pointing"] = energy_pointing(saliency, s.region)
    if s.mask is not None:
        out["relevance mass"] = relevance_mass_accuracy(saliency, s.mask)
        out["mask AUC"] = mask_auc(saliency, s.mask)
    return {k: round(float(v), 6) for k, v in out.items() if np.isfinite(v)}  # a constant map has no µFidelity


def make_card(
    methods: Sequence[str],
    out: str | Path,
    *,
    data: str | Path | None = None,
    synthetic: int | None = None,
    model: str = "efficientnet-lite0",
    options: dict[str, dict[str, Any]] | None = None,
    seed: int = 0,
    budget: int | None = None,
    reference: str | None = None,
    split: str | None = None,
    stability: int = 5,
    step: int | None = None,
    limit: int | None = None,
    target: str = "predicted",
    redo: Sequence[str] = (),
    shuffle: bool = False,
    log: Callable[[str], None] | None = None,
    overhead: bool = False,
    road: int = 0,
    masker: str | None = None,
) -> list[dict[str, Any]]:
    """The card of ``methods`` on an ImageNet sample folder or COCO boxes folder ``data`` (its ``split``) or on
    ``synthetic`` generated images (a CNN trained on others first; ``model`` is then unused), every method at ``budget``
    queries per map where it has a query-count option (``options`` override it); ``reference``: default the first
    method; ``shuffle``: the photos in a permutation of ``seed`` (see :func:`folder_samples`); ``overhead``: time each
    map's queries again as bare forward passes (:class:`~peephole.evaluation.bare.BareTwin`) for the overhead ratio;
    ``masker``: the fill of every method that hides pixels (:func:`common_masker`; default: each method's own). See
    :func:`run_card`."""
    check_installed(list(methods))  # an unknown method or a missing extra: one InputError before any work
    for name, value, least in (("--limit", limit, 1), ("--stability", stability, 0), ("--step", step, 1)):
        require_count(name, value, least)
    from peephole.evaluation.synthetic import SIZE

    size = SIZE if synthetic is not None else 224  # the inputs' side: what a window budget is counted on
    budgeted = budget_options(methods, budget, options, size) if budget is not None else {}
    options = options or {}
    options = {m: {**budgeted.get(m, {}), **options.get(m, {})} for m in {*budgeted, *options}}
    notes = [f"budget: {budget} queries per map where a method has a query-count option" if budget else "budget: defaults"]
    if masker is not None:
        options = common_masker(methods, masker, options)
        notes.append(f"masker: every method that hides pixels searched with {masker} (unless given its own masker option)")
    if synthetic is not None:
        from peephole.evaluation.synthetic import synthetic_card_inputs

        net, samples = synthetic_card_inputs(synthetic, seed)
        maker = MapMaker("synthetic-cnn", options, seed, bare=overhead, _models={"onnx": net})
        setup: dict[str, Any] = {"data": f"synthetic:{synthetic}", "split": "test"}
        notes.append(
            f"data: {synthetic} synthetic images of seed {seed + 1} (evaluation.synthetic); the CNN trained on 400 of seed {seed}"
        )
    elif data is None:
        raise InputError("the card needs an ImageNet sample folder (--data) or --synthetic N")
    else:
        from peephole.evaluation.data import dataset_kind

        maker = MapMaker(model, options, seed, bare=overhead)
        coco = dataset_kind(data) == "coco"
        order = seed if shuffle else None
        if coco:
            samples = coco_samples(data, maker.model("onnx"), split, shuffle=order)
        else:
            samples = folder_samples(data, split, shuffle=order)
        setup = {"data": str(Path(data).resolve()), "split": split, "shuffle": order}
        notes.append(
            f"data: {data}, {'all rows' if split is None else f'the {split} split (row parity)'}"
            + (f", photos in the order of a permutation of seed {seed}" if shuffle else "")
        )
        if coco:
            notes.append(
                "COCO: one item per (photo, class); pointing: the map's maximum within 15 px of the class's boxes at "
                "224×224; energy pointing: the share of the map's positive mass inside them"
            )
    return run_card(
        samples,
        methods,
        out,
        maker,
        reference or methods[0],
        setup,
        notes,
        stability,
        step,
        limit=limit,
        target=target,
        redo=redo,
        log=log,
        road=road,
    )


def run_card(
    samples: Iterable[Sample],
    methods: Sequence[str],
    out: str | Path,
    maker: MapMaker,
    reference: str,
    settings: dict[str, Any],
    notes: Sequence[str] = (),
    stability: int = 5,
    step: int | None = None,
    mu_samples: int = 64,
    limit: int | None = None,
    target: str = "predicted",
    redo: Sequence[str] = (),
    log: Callable[[str], None] | None = None,
    road: int = 0,
) -> list[dict[str, Any]]:
    """Score ``methods`` on ``samples`` (up to ``limit``) into the run store ``out`` and write the card (``card.md``,
    ``card.html``, ``card.csv``); returns the card's rows.

    ``target``: the class each map explains — ``'predicted'``, the model's top-1 class on every image, or ``'true'``,
    the label, on the correctly classified images only (the others are skipped); a COCO item explains its own class.
    One store item per image and method (id ``'<image>/<method>'``) recording the method's :meth:`MapMaker.params`
    (its options and :func:`~peephole.evaluation.methods.code_version`): a resumed run reads an item back when they
    match, and redoes it when they differ (an option or the method's code changed) or its method is in ``redo``. The
    run's own settings (data, split, model, seed, target, curves) must match to resume; methods may be added.
    ``log`` is told of each item as it is stored; ``road``: add the ROAD columns, curves of that many steps."""
    if reference not in methods:
        raise InputError(f"the reference method {reference!r} is not among --methods ({', '.join(methods)})")
    unknown = sorted(set(redo) - set(methods))
    if unknown:
        raise InputError(f"--redo names {', '.join(unknown)}, not among --methods ({', '.join(methods)})")
    if road < 0:
        raise InputError(f"--road takes a number of curve steps (0: no ROAD columns), got {road}")
    if target not in TARGETS:
        raise InputError(f"unknown --target {target!r}; use one of {', '.join(TARGETS)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = maker.model("onnx")
    names = getattr(model, "class_names", None)
    settings = {
        "harness": "card",
        **settings,
        "model": maker.model_name,
        "seed": maker.seed,
        "target": target,
        **({"overhead": True} if maker.bare else {}),
        **({"road": road} if road else {}),
        "stability": stability,
        "step": step,
        "mu_samples": mu_samples,
    }
    params = {m: maker.params(m) for m in methods}
    images: list[str] = []
    n_wrong = n_redone = 0
    with Store(out, settings) as store, ClaimSession(store) as claims:
        at_start = store.attempts()
        stored: dict[str, dict[str, Any]] = {}
        seen: dict[str, int] = {}

        def refresh() -> None:
            rows = store.rows()  # one read: an item another process commits cannot be in ``seen`` but not ``stored``
            stored.clear()
            stored.update({r["id"]: r for r in rows if r["status"] in ("done", "skipped")})
            seen.clear()
            seen.update({r["id"]: r["attempts"] for r in rows})

        def current(item: str, m: str) -> bool:
            if item not in stored or store.load(item).params != params[m]:
                return False
            return m not in redo or seen.get(item, 0) > at_start.get(item, 0)  # redone since this run started

        def explain(s: Sample, index: int, seq: int) -> list[str] | None:
            """Make the items of ``s`` that are not current and that this process claims; the ids of those another
            live process holds (None: ``s`` is skipped, misclassified)."""
            nonlocal n_redone
            todo = [m for m in methods if not current(f"{s.name}/{m}", m)]
            if not todo:
                return []
            probs = _probabilities(model, s.image)
            row = {"seq": seq, "source": s.source or s.name, "true_class": s.label, **prediction_columns(probs, names, s.label)}
            if s.region is None and target == "predicted":
                s = replace(s, label=int(row["prediction"]))
            elif s.region is None and not row["correct"] and len(todo) == len(methods):
                why = f"misclassified: the model predicts {row['prediction']}, not {s.label}"
                store.commit({**row, "id": s.name, "status": "skipped", "error": why})
                return None
            mine = [m for m in todo if claims.claim(f"{s.name}/{m}", seen.get(f"{s.name}/{m}"))]
            n_redone += sum(f"{s.name}/{m}" in stored for m in mine)
            k = step or default_step(s.image.shape[:2])
            for m in mine:
                try:
                    r = maker.maps(m, s.image, [s.label], index)[0]
                    scores = score_map(model, maker, m, s, r.map, k, mu_samples, road)
                    if index < stability and m not in REFERENCE:
                        again = replace(maker, seed=maker.seed + 1).maps(m, s.image, [s.label], index)[0]
                        scores["seed ρ"] = round(rank_correlation(r.map, again.map), 6)
                except Exception as exc:  # noqa: BLE001 - one map's failure is recorded (and retried on resume), the card goes on
                    error = f"{type(exc).__name__}: {exc}"
                    store.commit({**row, "id": f"{s.name}/{m}", "status": "failed", "error": error})
                    if log is not None:
                        log(f"{index + 1} {s.name}/{m}: failed, {error}")
                    continue
                e = Explanation(
                    method=m, modality="image", input=s.image, maps=np.asarray(r.map, np.float32)[None],
                    targets=[s.label], probabilities=np.asarray(probs, np.float32), class_names=names,
                    n_queries=r.n_queries, params=params[m],
                    timings={"total": r.seconds, **({} if r.bare_seconds is None else {"bare forward": r.bare_seconds})},
                )  # fmt: skip
                store.commit(
                    {**row, "id": f"{s.name}/{m}", "status": "done", "targets": [s.label], "metrics": scores,
                     "n_queries": r.n_queries, "seconds": round(r.seconds, 3)},
                    e,
                )  # fmt: skip
                if log is not None:
                    log(f"{index + 1} {s.name}/{m}: {r.n_queries} queries, {r.seconds:.1f} s, {scores}")
            return [f"{s.name}/{m}" for m in todo if m not in mine]

        # Several processes may fill one store: each makes the items it claims; the items another live process holds
        # are waited for (made here if that process dies: its claims go stale), so every card has all its rows.
        refresh()
        pending: dict[str, tuple[Sample, int, int]] = {}
        for seq, s in enumerate(samples):
            if limit is not None and len(images) >= limit:
                break
            held = None if stored.get(s.name, {}).get("status") == "skipped" else explain(s, len(images), seq)
            if held is None:
                n_wrong += 1
                continue
            if held:
                pending[s.name] = (s, len(images), seq)
            images.append(s.name)
        if pending and log is not None:
            log(f"waiting for the items of {len(pending)} images that another process is making")
        while pending:
            time.sleep(CLAIM_POLL_S)
            refresh()
            pending = {name: p for name, p in pending.items() if explain(*p)}
        made = {r["id"]: r for r in store.rows() if r["status"] in ("done", "failed")}  # every item of images is one
        rows = {k: r for k, r in made.items() if r["status"] == "done"}
        failed = {f"{i}/{m}": made[f"{i}/{m}"]["error"] for i in images for m in methods if f"{i}/{m}" not in rows}
        stats = {m: {**v, "fill": fill_text(maker, m)} for m, v in method_stats(store, rows, methods, images).items()}
    values = {
        m: {c.name: [rows.get(f"{i}/{m}", {"metrics": {}})["metrics"].get(c.name, np.nan) for i in images] for c in COLUMNS}
        for m in methods
    }
    card = [{**r, **stats[r["method"]]} for r in paired_card(values, reference)]
    n_right = sum(bool(made[f"{i}/{methods[0]}"]["correct"]) for i in images)
    explained = (
        "the model's top-1 class (the ImageNet class of the item's COCO class on COCO)"
        if target == "predicted"
        else "the item's true class (on COCO the ImageNet class of the item's COCO class that the model scores highest)"
    )
    skipped = (
        f", {n_wrong} misclassified images skipped" if target == "true" else f"; the top-1 class is the item's class on {n_right}"
    )
    all_notes = [
        f"{len(images)} items scored{skipped}; every map explains {explained}.",
        *notes,
        "insertion / deletion / µFidelity: held-out fill, one the method did not search with (blur <-> grey; black, white "
        "and mean -> blur; maps of methods without a masker on blur; the fill column: searched with → scored on); "
        f"curves at {'pixel granularity' if step is None else f'{step} px per step'}, AUC in [0, 1]. Rows with different "
        "fills are scored on different fills: --masker gives every row one.",
        "self-graded: scored with the fill the method searched with, so a method that optimises the curve grades itself.",
        *(
            [f"ROAD: insertion / deletion with ROAD's noisy linear imputation (Rong et al. 2022), {road} steps per curve."]
            if road
            else []
        ),
        f"seed ρ: Spearman ρ between the maps of seeds {maker.seed} and {maker.seed + 1} on the first {stability} images.",
        f"Δ: paired difference with {reference} ± paired s.e.; lead: best mean, and every method within one paired s.e.",
        "s/img: the method's mean wall time per map (seed ρ's second map not included).",
    ]
    if failed:
        first = next(iter(failed.items()))
        all_notes.append(
            f"{len(failed)} maps failed and are left out of their columns (their errors are in the store; a resume "
            f"tries them again), e.g. {first[0]}: {first[1]}"
        )
    if n_redone:
        all_notes.append(
            f"{n_redone} stored items redone by this process (others sharing the store count their own): their method's "
            "options or code changed, or --redo named it."
        )
    if maker.bare:
        all_notes.append(
            "overhead: the method's wall time ÷ the time of its queries as bare forward passes (each batch timed again on "
            "its own beside the method's, experiments/overhead.py's ratio); s/img excludes that second pass."
        )
    write_card(card, stats, out / "card", all_notes)
    return card


def method_stats(store: Store, rows: dict[str, dict[str, Any]], methods: Sequence[str], images: Sequence[str]) -> dict:
    """Per method over ``images``: mean queries and seconds per map, and the overhead ratio (summed wall time ÷ summed
    bare forward time; NaN when the bare passes were not timed)."""
    out = {}
    for m in methods:
        items = [rows[f"{i}/{m}"] for i in images if f"{i}/{m}" in rows]
        bare = [store.load(r["id"]).timings.get("bare forward", np.nan) for r in items]
        total = [r["seconds"] for r in items]
        out[m] = {
            "queries": float(np.mean([r["n_queries"] for r in items])) if items else np.nan,
            "seconds": float(np.mean(total)) if items else np.nan,
            "overhead": float(np.sum(total) / np.sum(bare)) if items and np.sum(bare) > 0 else np.nan,
        }
    return out


def paired_card(values: dict[str, dict[str, Sequence[float]]], reference: str) -> list[dict[str, Any]]:
    """One row per (column, method) of ``values`` (``{method: {column: per-image scores, NaN where none}}``, images
    aligned): ``mean``, ``n``, ``delta`` and ``se`` (paired with ``reference`` over the images both have), ``lead``.
    Columns where no method has a score are left out."""
    out = []
    for col in COLUMNS:
        per = {m: np.asarray(v.get(col.name, [np.nan]), np.float64) for m, v in values.items()}
        have = {m: a for m, a in per.items() if np.isfinite(a).any()}
        if not have:
            continue
        sign = 1.0 if col.higher_is_better else -1.0
        means = {m: float(np.nanmean(a)) for m, a in have.items()}
        best = max(means, key=lambda m: sign * means[m])

        def paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
            both = np.isfinite(a) & np.isfinite(b)
            return mean_sem(a[both] - b[both])

        for m, a in have.items():
            d, se = paired(a, per[reference]) if reference in have else (np.nan, np.nan)
            gap, gap_se = paired(a, have[best])
            out.append(
                {
                    "column": col.name, "method": m, "mean": means[m], "n": int(np.isfinite(a).sum()),
                    "delta": d, "se": se, "lead": m == best or abs(gap) <= gap_se, "self_graded": col.self_graded,
                }
            )  # fmt: skip
    return out


def cell_text(r: dict[str, Any] | None) -> str:
    """A card cell: the mean, the paired Δ ± s.e. (when there is a reference score), ★ when it leads; — for no row."""
    if r is None:
        return "—"
    delta = "" if not np.isfinite(r["delta"]) else f" (Δ {r['delta']:+.3f} {pm(r['se'])})"
    return f"{r['mean']:.3f}{delta}" + (" ★" if r["lead"] else "")


def write_card(card: list[dict[str, Any]], stats: dict[str, dict[str, float]], stem: Path, notes: Sequence[str]) -> None:
    """``<stem>.csv`` (the rows), ``<stem>.md`` and ``<stem>.html`` (one table: methods × columns, each cell the mean
    and the paired Δ ± s.e.; leaders in bold); ``stats``: per method its ``queries``, ``seconds``, ``overhead``
    (:func:`method_stats`; the overhead column only when measured) and ``fill`` (:func:`fill_text`)."""
    import csv

    with stem.with_suffix(".csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["column", "method", "mean", "n", "delta", "se", "lead", "self_graded", *STATS])
        w.writeheader()
        w.writerows(card)
    columns = list(dict.fromkeys(r["column"] for r in card))
    methods = list(stats)
    cell = {(r["column"], r["method"]): r for r in card}

    def text(c: str, m: str) -> str:
        return cell_text(cell.get((c, m)))

    leads = {c: ", ".join(m for m in methods if cell.get((c, m), {}).get("lead")) for c in columns}
    timed = any(np.isfinite(v["overhead"]) for v in stats.values())
    head = ["method", "queries/img", "s/img", *(["overhead"] if timed else []), "fill (made → scored)", *columns]
    body = [
        [m, f"{stats[m]['queries']:.0f}", f"{stats[m]['seconds']:.2f}", *([f"{stats[m]['overhead']:.2f}"] if timed else [])]
        + [stats[m]["fill"]]
        + [text(c, m) for c in columns]
        for m in methods
    ]
    body.append(["leads", "", "", *([""] if timed else []), "", *(leads[c] for c in columns)])
    md = ["# Report card", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    md += ["| " + " | ".join(r) + " |" for r in body]
    md += ["", "★ leads the column (tied-first within one paired s.e.).", ""] + [f"- {n}" for n in notes]
    stem.with_suffix(".md").write_text("\n".join(md) + "\n")
    esc = html.escape
    rows_html = "".join("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in r) + "</tr>" for r in body)
    page = (
        "<!doctype html><meta charset='utf-8'><title>Report card</title><h1>Report card</h1><table border='1'>"
        + "<tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr>" + rows_html + "</table>"
        + "<p>★ leads the column (tied-first within one paired s.e.).</p><ul>"
        + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>"
    )  # fmt: skip
    stem.with_suffix(".html").write_text(page)
