"""Insertion and deletion curves (Petsiuk et al., RISE, BMVC 2018), batched through the engine loop.

Features (an image's pixels, a text's words, a sequence's positions) are ranked by importance (ties: lower
row-major index first). Step ``i`` of a curve shows the model an input where the ``i·step`` most important
features come from x and the rest from a substrate, or the reverse: *insertion* restores features of x into
the substrate the modality names for it, *deletion* replaces features of x by the modality's deletion
substrate (:meth:`~peephole.modalities.Modality.curve_masker`: for images PAMI's 49×49, σ=100 reflect blur
and mid-grey), or the ``fill`` named: any masker of the modality, or ``'road'`` (ROAD's noisy linear imputation,
:mod:`peephole.metrics.road`). :func:`held_out_curves` scores a saved explanation with a fill it did not search
with (:mod:`peephole.metrics.grading`). The curve inputs are an engine :class:`~peephole.core.Partition` of prefix
masks, so they are built lazily and queried in batches like any explanation. The score is the area under the class-probability
curve over the fraction of features changed, by the trapezoid rule, which lies in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from peephole.core.aggregate import ScoresOnly
from peephole.core.partition import Partition
from peephole.core.perturb import Masker
from peephole.core.query import Query
from peephole.core.run import run
from peephole.errors import InputError
from peephole.metrics.grading import held_out_fill, self_graded
from peephole.metrics.maps import checked_map
from peephole.modalities import Modality, declared_modality, get_modality
from peephole.tasks import Task, classification_query, declared_task, get_task

#: Pixels per step for a 224×224 input (Petsiuk et al.); other sizes scale it by H·W / 224².
DEFAULT_STEP_224 = 224


@dataclass
class Curve:
    fractions: np.ndarray  #: fraction of pixels inserted / deleted at each step, 0 .. 1
    probabilities: np.ndarray  #: target-class probability at each step
    n_queries: int
    params: dict[str, Any] = field(default_factory=dict)  #: the metric, its fill and regions (see metrics.grading)

    @property
    def auc(self) -> float:
        return auc(self.fractions, self.probabilities)


def auc(fractions: np.ndarray, values: np.ndarray) -> float:
    """Trapezoid area under ``values`` over ``fractions`` (in [0, 1] when both are)."""
    return float(np.trapezoid(np.asarray(values, np.float64), np.asarray(fractions, np.float64)))


def pixel_order(saliency: np.ndarray) -> np.ndarray:
    """Flat pixel indices, most important first; equal values keep row-major order (deterministic)."""
    s = checked_map(saliency)
    if s.ndim != 2:
        raise InputError(f"a saliency map must be H×W, got shape {s.shape}")
    return feature_order(s)


def feature_order(saliency: np.ndarray) -> np.ndarray:
    """Flat feature indices of a map of any shape, most important first; ties keep row-major order."""
    return np.argsort(-checked_map(saliency).ravel(), kind="stable")


def default_step(shape: tuple[int, ...]) -> int:
    """224 pixels per step at 224×224, scaled with the number of features (≈ 224 steps per curve)."""
    return max(1, round(DEFAULT_STEP_224 * int(np.prod(shape)) / 224**2))


class PrefixPartition(Partition):
    """Part ``i`` keeps the ``counts[i]`` first pixels of ``order`` (one group; built lazily)."""

    def __init__(self, order: np.ndarray, shape: tuple[int, ...], counts: np.ndarray) -> None:
        self.shape = tuple(shape)
        self.rank = np.empty(order.size, np.int64)
        self.rank[order] = np.arange(order.size)
        self.counts = np.asarray(counts, np.int64)

    @property
    def n_parts(self) -> int:
        return len(self.counts)

    def masks(self, start: int, stop: int) -> np.ndarray:
        keep = self.rank[None, :] < self.counts[start:stop, None]
        return keep.reshape(stop - start, *self.shape)


def perturbation_curve(
    model: Any,
    image: Any,
    saliency: np.ndarray,
    target: int,
    mode: str,
    step: int | None = None,
    masker: Masker | None = None,
    batch_size: int = 32,
    output: str | None = None,
    modality: str | Modality | None = None,
    fill: str | None = None,
    seed: int = 0,
    task: str | Task | None = None,
) -> Curve:
    """The insertion (``mode='insertion'``) or deletion curve of ``saliency`` for class ``target``.

    ``image``: the input (any modality's, loaded); ``modality``: its kind (default: what the model declares,
    else the first modality that holds the input), which gives the map's shape and, unless ``masker`` or
    ``fill`` (a masker's name, or ``'road'``; ``seed`` seeds ROAD's noise) is given, the substrate. ``task``: what
    the curve scores (default: what the model declares, else classification); a detector's curve scores reference
    box ``target``'s similarity (one more query: the unperturbed input)."""
    if mode not in ("insertion", "deletion"):
        raise InputError(f"mode must be 'insertion' or 'deletion', got {mode!r}")
    mod, x = input_for_map(model, image, saliency, modality)
    shape = mod.map_shape(x)
    if masker is not None and fill is not None:
        raise InputError("give a curve either a masker or a fill, not both")
    mask = masker or (curve_fill(mod, fill, seed) if fill is not None else mod.curve_masker(mode))
    n = int(np.prod(shape))
    step = default_step(shape) if step is None else int(step)
    if step < 1:
        raise InputError(f"step must be >= 1 feature, got {step}")
    changed = np.minimum(np.arange(0, n + step, step), n)
    changed = changed[: int(np.searchsorted(changed, n)) + 1]  # 0, step, 2·step, ..., n
    order = feature_order(saliency)
    # insertion keeps (= shows x at) the first k features, the rest from the substrate; deletion keeps the n − k
    # least important (reversed order), the first k become the substrate
    part = PrefixPartition(order, shape, changed) if mode == "insertion" else PrefixPartition(order[::-1], shape, n - changed)
    m = mod.as_model(model if task is None else get_task(task).adapt(model), output, None)
    query = task_query(m, x, mod, task, int(target))
    res = run(query, x, part, mask, [int(target)], batch_size, aggregator=ScoresOnly, desc=mode)
    default = "blur" if mode == "insertion" else "grey"
    name = fill if fill is not None else type(masker).__name__ if masker is not None else default
    params = {"metric": mode, "fill": name, "regions": "pixels", "step": step}
    return Curve(changed / n, res.scores[:, int(target)].astype(np.float64), query.n_queries, params)


def task_query(m: Any, x: Any, mod: Modality, task: str | Task | None, target: int) -> Query:
    """Classification's query; or the query of another task (given, or declared by the wrapped model ``m``), bound
    to ``m`` with its reference from the unperturbed ``x``."""
    name = task or declared_task(m)
    if name is None or name == "classification":
        return classification_query(m)
    t = get_task(name).bind(m)
    query = Query(m, t.validate)
    reference = t.reference(query(mod.batch_of_one(x), what=f"the unperturbed {mod.name}"))
    if not 0 <= target < len(reference):
        raise InputError(f"target {target} is out of range: the {t.name} task has {len(reference)} outputs")
    query.score = t.scorer(reference, [target])
    return query


def curve_fill(mod: Modality, fill: str, seed: int = 0) -> Masker:
    """The masker named ``fill``: ``'road'`` (ROAD's noisy linear imputation) or one of the modality's maskers."""
    if not isinstance(fill, str) or fill not in ("road", *mod.maskers):
        raise InputError(f"unknown fill {fill!r} for {mod.name} inputs; use 'road' or one of {sorted(mod.maskers)}")
    if fill == "road":
        from peephole.metrics.road import NoisyLinearMasker

        return NoisyLinearMasker(seed=seed)
    return mod.masker(fill)


def held_out_curves(
    model: Any, explanation: Any, fill: str | None = None, target: int | None = None, **kw: Any
) -> dict[str, Curve]:
    """Insertion and deletion of a (saved) explanation's map of ``target`` (default: its first target), both with
    ``fill`` (default: one the method did not search with, :func:`~peephole.metrics.grading.held_out_fill`).
    Each curve's ``params['self_graded']`` says whether the fill is the method's own."""
    e = explanation
    target = e.targets[0] if target is None else int(target)
    fill = held_out_fill(e.params.get("masker")) if fill is None else fill
    out = {}
    for mode in ("insertion", "deletion"):
        c = perturbation_curve(model, e.input, e.map_of(target), target, mode, fill=fill, modality=e.modality, **kw)
        c.params["self_graded"] = self_graded(e.params, c.params)
        out[mode] = c
    return out


def input_for_map(model: Any, image: Any, saliency: np.ndarray, modality: str | Modality | None) -> tuple[Modality, Any]:
    """The input's modality and the loaded input, checked against the map's shape."""
    mod = input_modality(model, image, modality)
    x = mod.load(image, allow_large=True)
    shape = mod.map_shape(x)
    if tuple(np.shape(saliency)) != tuple(shape):
        raise InputError(
            f"saliency map of shape {np.shape(saliency)} does not match the {mod.name} input (maps of shape {shape})"
        )
    return mod, x


def input_modality(model: Any, x: Any, modality: str | Modality | None) -> Modality:
    from peephole.modalities import MODALITIES

    if modality is not None:
        return get_modality(modality)
    declared = declared_modality(model)
    if declared is not None:
        return get_modality(declared)
    found = next((get_modality(n) for n in MODALITIES if get_modality(n).holds(x)), None)
    if found is None:
        raise InputError(f"cannot tell the kind of input of a {type(x).__name__}; pass modality= (one of {sorted(MODALITIES)})")
    return found


def insertion(model: Any, image: Any, saliency: np.ndarray, target: int, **kw: Any) -> Curve:
    """Insertion: restore the most important features of x into the substrate first (images: a blurred copy);
    higher AUC is better."""
    return perturbation_curve(model, image, saliency, target, "insertion", **kw)


def deletion(model: Any, image: Any, saliency: np.ndarray, target: int, **kw: Any) -> Curve:
    """Deletion: replace the most important features by the substrate first (images: mid-grey); lower AUC is
    better."""
    return perturbation_curve(model, image, saliency, target, "deletion", **kw)
