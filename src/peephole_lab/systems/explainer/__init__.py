"""The Explainer network (Stalder et al., "What you see is what you classify: black box attributions",
NeurIPS 2022): a segmentation network trained to output one mask per class of a frozen classifier."""

from peephole_lab.systems.explainer.infer import explainer
from peephole_lab.systems.explainer.losses import ExplainerLoss, area_loss, entropy_loss, extract_masks, tv_loss
from peephole_lab.systems.explainer.network import (
    BackboneExplainer,
    ExplainerNet,
    SegmentationExplainer,
    load_explainer,
    save_explainer,
)
from peephole_lab.systems.explainer.train import TrainResult, train_explainer, train_from_teacher

__all__ = [
    "BackboneExplainer",
    "ExplainerLoss",
    "ExplainerNet",
    "SegmentationExplainer",
    "TrainResult",
    "area_loss",
    "entropy_loss",
    "explainer",
    "extract_masks",
    "load_explainer",
    "save_explainer",
    "train_explainer",
    "train_from_teacher",
    "tv_loss",
]
