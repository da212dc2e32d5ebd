"""Evaluation metrics for importance maps: insertion, deletion (Petsiuk et al., RISE, BMVC 2018) with held-out
fills (ROAD's imputation, Rong et al. 2022), µFidelity (Bhatt et al. 2020), the pointing game (Zhang et al.,
Excitation Backprop) and its energy variant (Score-CAM; also per detector box), randomisation checks (MPRT, random logit), seed
stability, ground truth (relevance mass accuracy, mask ROC AUC), the self-graded label, and the reference maps
of PAMI's Table 4."""

from peephole.metrics.curves import (
    Curve,
    auc,
    deletion,
    feature_order,
    held_out_curves,
    insertion,
    perturbation_curve,
    pixel_order,
)
from peephole.metrics.fidelity import MuFidelity, mu_fidelity
from peephole.metrics.grading import held_out_fill, self_graded
from peephole.metrics.ground_truth import mask_auc, relevance_mass_accuracy
from peephole.metrics.pointing import PointingResult, boxes_mask, energy_pointing, pointing_hit, pointing_summary
from peephole.metrics.randomisation import mprt, random_logit
from peephole.metrics.reference import centre_gaussian_map, random_map
from peephole.metrics.stability import rank_correlation, seed_stability

__all__ = [
    "Curve",
    "MuFidelity",
    "PointingResult",
    "auc",
    "boxes_mask",
    "centre_gaussian_map",
    "deletion",
    "energy_pointing",
    "feature_order",
    "held_out_curves",
    "held_out_fill",
    "insertion",
    "mask_auc",
    "mprt",
    "mu_fidelity",
    "perturbation_curve",
    "pixel_order",
    "pointing_hit",
    "pointing_summary",
    "random_logit",
    "random_map",
    "rank_correlation",
    "relevance_mass_accuracy",
    "seed_stability",
    "self_graded",
]
