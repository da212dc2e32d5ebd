"""Images: H×W×3 float32 RGB in [0, 1]; partitions are windows (Strategy I) or superpixels (Strategy II)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from peephole.core.partition import Partition
from peephole.core.perturb import Masker
from peephole.errors import InputError
from peephole.modalities.base import Modality
from peephole.modalities.image.io import fit_work_size, load_image, to_rgb_float
from peephole.modalities.image.maskers import MASKERS
from peephole.modalities.image.superpixels import PAPER_SEGMENTATIONS, Segmentation, Superpixels
from peephole.modalities.image.view import ImageView, normalise
from peephole.modalities.image.windows import SlidingWindows

#: Auto batch size: as many inputs as fit in this many bytes (at most 64), unless the model prefers one.
AUTO_BATCH_BYTES = 256 * 2**20
STRATEGIES = ("superpixels", "window")


class ImageModality(Modality):
    """Partitions: ``'window'`` (``radius``, ``stride``, ``window`` shape), ``'superpixels'`` (``segmentations``,
    default the paper's Table 3), one :class:`Segmentation` or a list of them, H×W label maps, or a
    :class:`Partition`. Maskers: ``'blur'``, ``'black'``, ``'white'``, ``'grey'``, ``'mean'`` or a :class:`Masker`."""

    name = "image"
    default_partition = "superpixels"
    default_masker = "blur"
    partition_options = {"radius": 40, "stride": 6, "window": "circle", "segmentations": PAPER_SEGMENTATIONS}

    def load(self, x: Any, allow_large: bool = False) -> np.ndarray:
        """A file or array as H×W×3 float32 in [0, 1]; above ``MAX_WORK_PIXELS`` resized unless ``allow_large``."""
        if isinstance(x, (str, Path)):
            return load_image(x, allow_large=allow_large)
        return fit_work_size(to_rgb_float(x), allow_large, "the input image")

    def batch_of_one(self, x: np.ndarray) -> np.ndarray:
        return x[None]

    def default_batch_size(self, x: np.ndarray) -> int:
        return int(np.clip(AUTO_BATCH_BYTES // max(x.nbytes, 1), 1, 64))

    def partition(self, x: np.ndarray, spec: Any, seed: int = 0, **options: Any) -> Partition:
        o = self.check_partition_options(options)
        h, w = x.shape[:2]
        if isinstance(spec, Partition):
            if spec.shape != (h, w):
                raise InputError(f"partition of shape {spec.shape} does not match the image ({h}×{w})")
            return spec
        import cv2

        cv2.setRNGSeed(seed)  # SEEDS draws from OpenCV's generator: the same seed gives the same parts
        if isinstance(spec, str):
            if spec == "window":
                return SlidingWindows(h, w, radius=o["radius"], stride=o["stride"], shape=o["window"])
            if spec == "superpixels":
                return Superpixels.from_image(x, o["segmentations"])
            raise InputError(f"unknown partition strategy {spec!r}; use one of {STRATEGIES}, a Partition or label maps")
        if isinstance(spec, Segmentation):
            return Superpixels.from_image(x, [spec])
        if isinstance(spec, (list, tuple)) and spec and all(isinstance(s, Segmentation) for s in spec):
            return Superpixels.from_image(x, spec)
        sp = Superpixels(spec)
        if sp.shape != (h, w):
            raise InputError(f"label maps of shape {sp.shape} do not match the image ({h}×{w})")
        return sp

    def masker(self, spec: Any) -> Masker:
        if isinstance(spec, Masker):
            return spec
        if isinstance(spec, str) and spec in MASKERS:
            return MASKERS[spec]()
        raise InputError(f"unknown masker {spec!r}; use one of {sorted(MASKERS)} or a Masker")

    def refine(self, x: np.ndarray, importance: np.ndarray, seed: int = 0, **options: Any) -> Partition:
        """Segment the first-run map with the same segmenters (PAMI's second run)."""
        import cv2

        segs: Sequence[Segmentation] = self.check_partition_options(options)["segmentations"]
        cv2.setRNGSeed(seed)
        return Superpixels.from_image(normalise(importance), segs)

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

        return load_model(name, **settings)

    def report_input(self, explanation: Any) -> np.ndarray:
        from peephole.modalities.image.report import input_picture

        return input_picture(explanation)

    def report_view(self, explanation: Any, cls: int) -> np.ndarray:
        from peephole.modalities.image.report import class_picture

        return class_picture(explanation, cls)

    def map_shape(self, x: np.ndarray) -> tuple[int, ...]:
        return tuple(np.shape(x)[:2])

    def curve_masker(self, mode: str) -> Masker:
        """Insertion starts from PAMI's blurred copy (49×49, σ=100); deletion ends at mid-grey (Petsiuk et al.)."""
        return self.masker("blur" if mode == "insertion" else "grey")
