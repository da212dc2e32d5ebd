"""Images: H×W×3 float32 RGB in [0, 1]; partitions are windows (Strategy I) or superpixels (Strategy II)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from peephole.core.partition import Partition
from peephole.core.perturb import Masker
from peephole.errors import InputError
from peephole.modalities.base import BudgetDefault, MaskerSpec, Modality, PartitionSpec
from peephole.modalities.image.io import fit_work_size, host_array, load_image, to_rgb_float
from peephole.modalities.image.maskers import MASKERS
from peephole.modalities.image.superpixels import Segmentation, SlicOptions, SlicsOptions, SuperpixelOptions, Superpixels
from peephole.modalities.image.view import ImageView, normalise
from peephole.modalities.image.windows import GridOptions, SlidingWindows, WindowOptions, grid_labels

#: Auto batch size: as many inputs as fit in this many bytes (at most 64), unless the model prefers one.
AUTO_BATCH_BYTES = 256 * 2**20


def segmented(x: np.ndarray, segmentations: Any, seed: int) -> Superpixels:
    """``x`` segmented with every setting; SEEDS draws from OpenCV's generator: the same seed gives the same parts
    (and the same image, setting and seed again reuse the kept label maps)."""
    return Superpixels.from_image(x, segmentations, seed=seed)


def windows(x: np.ndarray, o: WindowOptions, seed: int) -> SlidingWindows:
    return SlidingWindows(*x.shape[:2], radius=o.radius, stride=o.stride, shape=o.window)


def slic(x: np.ndarray, o: SlicOptions, seed: int) -> Superpixels:
    return segmented(x, [Segmentation("slic", {"n_segments": o.n_segments, "compactness": o.compactness})], seed)


def slics(x: np.ndarray, o: SlicsOptions, seed: int) -> Superpixels:
    return segmented(x, [Segmentation("slic", {"n_segments": n, "compactness": o.compactness}) for n in o.segments], seed)


def grid(x: np.ndarray, o: GridOptions, seed: int) -> Superpixels:
    return Superpixels(grid_labels(*x.shape[:2], o.cells), [f"grid {o.cells}x{o.cells}"])


PARTITIONS = {
    "window": PartitionSpec(
        "window", windows, WindowOptions, "sliding windows (PAMI Strategy I)", sized=lambda x, o: o.sized(*x.shape[:2])
    ),
    "superpixels": PartitionSpec(
        "superpixels",
        lambda x, o, seed: segmented(x, o.segmentations, seed),
        SuperpixelOptions,
        "superpixels of several segmentations, one group each (PAMI Strategy II; default: the paper's Table 3)",
    ),
    "slic": PartitionSpec("slic", slic, SlicOptions, "one SLIC segmentation (LIME's ~50 superpixels)"),
    "slics": PartitionSpec(
        "slics", slics, SlicsOptions, "several SLIC segmentations, one group each (PAMI path's ~40 and ~60 superpixels)"
    ),
    "grid": PartitionSpec("grid", grid, GridOptions, "a grid of cells×cells squares (HSIC and Sobol attribution)"),
}


class ImageModality(Modality):
    """Partitions: ``'window'`` (``radius``, ``stride``, ``window`` shape), ``'superpixels'`` (``segmentations``,
    default the paper's Table 3), ``'slic'`` (``n_segments``, ``compactness``), ``'slics'`` (``segments``,
    ``compactness``), ``'grid'`` (``cells``), one :class:`Segmentation` or a list of them, H×W label maps, or a
    :class:`Partition`. Maskers: ``'blur'``, ``'black'``, ``'white'``, ``'grey'``, ``'mean'`` or a :class:`Masker`."""

    name = "image"
    partitions = PARTITIONS
    maskers = {n: MaskerSpec(n, lambda o, n=n: MASKERS[n](), help=f"hidden pixels: {n}") for n in MASKERS}
    default_partition = "superpixels"
    smaller_parts = "partition='window' with a radius below the input's shorter side"
    default_masker = "blur"
    #: Occlusion hides PAMI Strategy I's windows; LIME and KernelSHAP read one segmentation of ~50 superpixels
    #: (over grey, as LIME), PAMI path two SLIC segmentations of ~40 and ~60 (one path each, maps averaged;
    #: docs/results.md, "PAMI path over two segmentations"); RISE blends towards mid-grey (the mean colour);
    #: HSIC and Sobol attribution perturb their papers' 8×8 grid towards black (Xplique's 'inpainting').
    method_defaults = {
        "occlusion": {"partition": "window"},
        "lime": {"partition": "slic", "masker": "grey"},
        "kernel-shap": {"partition": "slic", "masker": "grey"},
        "pami-path": {"partition": "slics"},
        "rise": {"masker": "grey"},
        "hsic": {"partition": "grid", "masker": "black"},
        "sobol": {"partition": "grid", "masker": "black"},
    }
    #: At ``max_queries`` <= 50 PAMI path walks one SLIC-50 segmentation: two paths on half the budget each take too
    #: few greedy steps (experiments/path_budget_segs/PLAN.md; docs/results.md, "The budget table on the test split").
    budget_defaults = {"pami-path": BudgetDefault("max_queries", 50, {"partition": "slic"})}

    def load(self, x: Any, allow_large: bool = False) -> np.ndarray:
        """A file or array as H×W×3 float32 in [0, 1]; above ``MAX_WORK_PIXELS`` resized unless ``allow_large``."""
        if isinstance(x, (str, Path)):
            return load_image(x, allow_large=allow_large)
        try:
            a = host_array(x)  # a tensor detached, on the host, bfloat16 widened
        except (TypeError, ValueError, RuntimeError) as exc:  # e.g. a ragged list, a sparse tensor
            raise InputError(f"the input image is not an array: {type(x).__name__} ({exc})") from exc
        return fit_work_size(to_rgb_float(a), allow_large, "the input image")

    def batch_of_one(self, x: np.ndarray) -> np.ndarray:
        return x[None]

    def split(self, x: Any) -> list[Any] | None:
        """A list or tuple of images (paths, arrays, tensors), or an N×H×W×C / N×C×H×W array or tensor."""
        from peephole.modalities.image.io import images_of

        return images_of(x)

    def default_batch_size(self, x: np.ndarray) -> int:
        return int(np.clip(AUTO_BATCH_BYTES // max(x.nbytes, 1), 1, 64))

    def partition_of(self, x: np.ndarray, spec: Any, seed: int = 0) -> Partition:
        h, w = x.shape[:2]
        if isinstance(spec, Partition):
            if spec.shape != (h, w):
                raise InputError(f"partition of shape {spec.shape} does not match the image ({h}×{w})")
            return spec
        if isinstance(spec, Segmentation):
            return segmented(x, [spec], seed)
        if isinstance(spec, (list, tuple)) and spec and all(isinstance(s, Segmentation) for s in spec):
            return segmented(x, spec, seed)
        labels = f"use one of {sorted(self.partitions)}, a Partition, Segmentations or label maps (H×W integer arrays)"
        if not isinstance(spec, (np.ndarray, list, tuple)):
            raise InputError(f"partition {str(spec)[:80]!r} ({type(spec).__name__}) is not one: {labels}")
        try:
            sp = Superpixels(spec)
        except (TypeError, ValueError) as exc:  # not arrays of one shape (an InputError is a ValueError: kept as it is)
            if isinstance(exc, InputError):
                raise
            raise InputError(f"partition {str(spec)[:80]!r} is not label maps: {labels}") from exc
        if sp.shape != (h, w):
            raise InputError(f"label maps of shape {sp.shape} do not match the image ({h}×{w})")
        return sp

    def refine(self, x: np.ndarray, importance: np.ndarray, seed: int = 0, options: Any = None) -> Partition:
        """Segment the first-run map with the first run's segmenters (the paper's Table 3 unless it had others)."""
        segs = options.segmentations if isinstance(options, SuperpixelOptions) else SuperpixelOptions().segmentations
        return segmented(normalise(importance), segs, seed)

    def view(self, explanation: Any) -> ImageView:
        return ImageView(explanation)

    # --- datasets, runs, reports, curves, the command line (see Modality) ---

    default_model = "efficientnet-lite0"
    resizes = True

    def read_items(self, source: Any, column: str | None = None, labels: str | None = None, asked: bool = False) -> list:
        from peephole.modalities.image.items import read_image_items

        return read_image_items(Path(source), column, labels, asked)

    def holds(self, x: Any) -> bool:
        from peephole.modalities.image.items import holds_image

        return holds_image(x)

    def load_item(self, source: Any, **work: Any) -> np.ndarray:
        from peephole.modalities.image.items import load_image_item

        return load_image_item(source, **work)

    def named_model(self, name: str, **settings: Any) -> Any:
        from peephole.models import load_model
        from peephole.models.base import placed

        device = settings.pop("device", None)  # a model loaded by name is Peephole's own: it may be moved there
        return placed(load_model(name, **settings), device)

    def report_input(self, explanation: Any) -> np.ndarray:
        from peephole.modalities.image.report import input_picture

        return input_picture(explanation)

    def report_view(self, explanation: Any, cls: int, vrange: tuple[float, float] | None = None) -> np.ndarray:
        from peephole.modalities.image.report import class_picture

        return class_picture(explanation, cls, vrange)

    def report_ramp(self) -> list[str]:
        from peephole.modalities.image.report import ramp

        return ramp()

    def map_shape(self, x: np.ndarray) -> tuple[int, ...]:
        return tuple(np.shape(x)[:2])

    def curve_masker(self, mode: str) -> Masker:
        """Insertion starts from PAMI's blurred copy (49×49, σ=100); deletion ends at mid-grey (Petsiuk et al.)."""
        return self.masker("blur" if mode == "insertion" else "grey")
