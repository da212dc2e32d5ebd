"""Evaluation metrics for importance maps: insertion, deletion (Petsiuk et al., RISE, BMVC 2018), the pointing
game (Zhang et al., Excitation Backprop) and its energy share (Score-CAM), with the reference maps of PAMI's Table 4."""

from peephole.metrics.curves import Curve, auc, deletion, feature_order, insertion, perturbation_curve, pixel_order
from peephole.metrics.pointing import PointingResult, boxes_mask, energy_in, pointing_hit, pointing_summary
from peephole.metrics.reference import centre_gaussian_map, random_map

__all__ = [
    "Curve",
    "PointingResult",
    "auc",
    "boxes_mask",
    "centre_gaussian_map",
    "deletion",
    "energy_in",
    "feature_order",
    "insertion",
    "perturbation_curve",
    "pixel_order",
    "pointing_hit",
    "pointing_summary",
    "random_map",
]
