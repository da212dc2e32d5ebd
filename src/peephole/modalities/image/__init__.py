"""Images: partitions (windows, superpixels), maskers, I/O, views."""

from peephole.modalities.image.io import load_image, to_rgb_float
from peephole.modalities.image.maskers import BlurMasker, ConstantMasker, FeatheredMasker, FillMasker, FunctionMasker
from peephole.modalities.image.superpixels import PAPER_SEGMENTATIONS, Segmentation, Superpixels
from peephole.modalities.image.windows import SlidingWindows

__all__ = [
    "PAPER_SEGMENTATIONS",
    "BlurMasker",
    "ConstantMasker",
    "FeatheredMasker",
    "FillMasker",
    "FunctionMasker",
    "Segmentation",
    "SlidingWindows",
    "Superpixels",
    "load_image",
    "to_rgb_float",
]
