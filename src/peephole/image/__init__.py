"""Image-specific pieces of PAMI: partitions (windows, superpixels), maskers, I/O, overlays."""

from peephole.image.io import load_image, to_rgb_float
from peephole.image.maskers import BlurMasker, ConstantMasker, FillMasker, FunctionMasker
from peephole.image.superpixels import PAPER_SEGMENTATIONS, Segmentation, Superpixels
from peephole.image.windows import SlidingWindows

__all__ = [
    "PAPER_SEGMENTATIONS",
    "BlurMasker",
    "ConstantMasker",
    "FillMasker",
    "FunctionMasker",
    "Segmentation",
    "SlidingWindows",
    "Superpixels",
    "load_image",
    "to_rgb_float",
]
