"""The input shape of a torch model that does not say it: from ``shape=``, an example input or the model's
config (:func:`peephole.gradients.differentiable.resolve_shape`), else a probe — the first layer's input size,
then one forward pass on each common shape — else one :class:`~peephole.errors.InputError`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from peephole.errors import InputError
from peephole.gradients.differentiable import Differentiable, resolve_shape

#: (C, H, W) tried in turn: MNIST, CIFAR, ImageNet, then the less common pairings
COMMON_SHAPES = ((1, 28, 28), (3, 32, 32), (3, 224, 224), (1, 32, 32), (3, 28, 28), (1, 224, 224))


def _layer_kind(m: Any) -> str:
    """``'Conv2d'``, ``'Linear'``, ... for eager and TorchScript modules alike (TorchScript keeps ``original_name``)."""
    return str(getattr(m, "original_name", type(m).__name__))


def first_layer_input(module: Any) -> tuple[str, int] | None:
    """``('Conv2d', in_channels)`` or ``('Linear', in_features)`` of the first such layer, from its weight."""
    for _, m in module.named_modules():
        kind = _layer_kind(m)
        w = getattr(m, "weight", None)
        if kind == "Conv2d" and w is not None and w.ndim == 4:
            return kind, int(w.shape[1]) * int(getattr(m, "groups", 1))
        if kind == "Linear" and w is not None and w.ndim == 2:
            return kind, int(w.shape[1])
    return None


def probe_shape(dm: Differentiable) -> tuple[int, int, int]:
    """The first of :data:`COMMON_SHAPES` consistent with the first layer on which the model returns
    ``(1, n_classes)`` scores (a model with global pooling takes several: the first wins)."""
    import torch

    first = first_layer_input(dm.module)
    shapes = list(COMMON_SHAPES)
    if first is not None and first[0] == "Conv2d":
        shapes = [s for s in shapes if s[0] == first[1]]
    elif first is not None:
        n = first[1]
        shapes = [s for s in shapes if s[0] * s[1] * s[2] == n]
        shapes += [(c, h, h) for c in (1, 3) for h in range(1, 1025) if c * h * h == n and (c, h, h) not in shapes]
    for s in shapes:
        try:
            with torch.no_grad():
                out = dm.logits(torch.zeros((1, *s), device=dm.device))
        except (RuntimeError, ValueError, TypeError, IndexError):
            continue
        if getattr(out, "ndim", 0) == 2 and out.shape[0] == 1:
            return s
    seen = f"its first layer is a {first[0]} taking {first[1]}" if first else "no Conv2d or Linear layer was found"
    raise InputError(
        f"cannot tell the model's input shape ({seen}; none of {shapes or list(COMMON_SHAPES)} worked): "
        "pass shape=(C, H, W) or an example input (on the command line: --shape C H W)"
    )


def model_shape(dm: Differentiable, image: Any = None, shape: Sequence[int] | None = None) -> tuple[int, int, int]:
    """``shape``, else the image's, else the model's config, else :func:`probe_shape`."""
    if shape is None and image is None and dm.shape is None:
        return probe_shape(dm)
    return resolve_shape(dm, image, shape)
