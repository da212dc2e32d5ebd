"""timm image classifiers: the torch module ``timm.create_model`` returns, with the preprocessing and class names its
``pretrained_cfg`` carries — no ``output=`` to declare (timm models return logits).

timm itself needs torchvision (it imports ``torchvision.ops`` when imported, up to at least timm 1.0.31), which must
match your torch; Peephole never installs either. This adapter reads only the attributes of the model you built.
"""

from __future__ import annotations

from typing import Any

from peephole.models.preprocess import IMAGENET_MEAN_STD, ImagePreprocess
from peephole.models.torch import TorchModel


def is_timm_model(obj: Any) -> bool:
    """A torch module carrying timm's ``pretrained_cfg`` (what ``timm.create_model`` sets)."""
    return isinstance(getattr(obj, "pretrained_cfg", None), dict) and hasattr(obj, "forward") and hasattr(obj, "parameters")


class TimmModel(TorchModel):
    """``N×H×W×3`` [0, 1] batches -> ``(N, K)`` logits of a timm model, resized to its ``input_size`` and normalised
    with its ``mean`` / ``std`` (ImageNet's when its config has none). A vision transformer built with another
    ``img_size`` than its config's (``create_model(..., img_size=32)`` leaves ``pretrained_cfg`` at 224) is resized to
    the size its patch embedding enforces. Class names: the config's ``label_names``, else ImageNet's for a
    1000-class model, else none (``class_names=`` names them)."""

    modality = "image"

    def __init__(self, model: Any, class_names: Any = None, device: Any = None, batch_size: int | None = None) -> None:
        cfg = model.pretrained_cfg
        size = cfg.get("input_size")
        size = tuple(size[-2:]) if size else None
        embed = getattr(model, "patch_embed", None)
        if getattr(embed, "strict_img_size", False) and getattr(embed, "img_size", None) is not None:
            size = tuple(int(s) for s in embed.img_size)  # the only size the model takes
        pre = ImagePreprocess(
            size=size,
            mean=tuple(cfg.get("mean") or IMAGENET_MEAN_STD[0]),
            std=tuple(cfg.get("std") or IMAGENET_MEAN_STD[1]),
        )
        if class_names is None:
            class_names = cfg.get("label_names")
        if class_names is None and getattr(model, "num_classes", None) == 1000:
            from peephole.models.imagenet import imagenet_class_names

            class_names = list(imagenet_class_names())
        super().__init__(model, "logits", pre, device, class_names, batch_size)
