"""A TorchScript ``nn.Sequential`` classifier as an eager copy of plain ``torch.nn`` layers, and back from a saved
layer list: what :class:`~peephole_lab.systems.explainer.network.BackboneExplainer` needs to copy its stages."""

from __future__ import annotations

import inspect
from typing import Any

import torch
from torch import nn

from peephole.errors import InputError

#: the torch.nn layers a copied classifier may hold (a saved layer list names nothing else)
LAYERS = (
    "Conv2d",
    "BatchNorm2d",
    "ReLU",
    "LeakyReLU",
    "Tanh",
    "Sigmoid",
    "GELU",
    "ELU",
    "SiLU",
    "MaxPool2d",
    "AvgPool2d",
    "AdaptiveMaxPool2d",
    "AdaptiveAvgPool2d",
    "Flatten",
    "Linear",
    "Dropout",
)
MAX_PARAMETERS = 50_000_000  #: as for saved classifiers: a small file must not allocate gigabytes


def _kind(m: nn.Module) -> str:
    return str(getattr(m, "original_name", type(m).__name__))


def layer_spec(module: nn.Module) -> list[list[Any]]:
    """``[[layer name, constructor keywords], ...]`` of a (TorchScript or eager) ``nn.Sequential`` of :data:`LAYERS`,
    the keywords read from the layers' attributes."""
    if _kind(module) != "Sequential":
        raise InputError(f"BackboneExplainer copies an nn.Sequential classifier, got a {_kind(module)}")
    spec = []
    for m in module.children():
        kind = _kind(m)
        if kind not in LAYERS:
            raise InputError(f"BackboneExplainer cannot copy a {kind} layer; it copies {LAYERS}")
        params = [p for p in inspect.signature(getattr(nn, kind)).parameters if p not in ("device", "dtype")]
        kw = {p: getattr(m, p) for p in params if hasattr(m, p)}
        if "bias" in params:  # a flag in the constructor (Conv2d, Linear, BatchNorm2d), a tensor or None on the layer
            kw["bias"] = getattr(m, "bias", None) is not None
        spec.append([kind, kw])
    return spec


def build_layers(spec: Any, where: str) -> nn.Sequential:
    """The ``nn.Sequential`` a :func:`layer_spec` describes (names checked against :data:`LAYERS`, parameters
    counted on the meta device before anything is allocated)."""
    try:
        items = [(str(kind), dict(kw)) for kind, kw in spec]
        if any(kind not in LAYERS for kind, _ in items):
            raise InputError(f"{where}: a layer list may only name {LAYERS}")
        with torch.device("meta"):
            n = sum(p.numel() for kind, kw in items for p in getattr(nn, kind)(**kw).parameters())
        if n > MAX_PARAMETERS:
            raise InputError(f"{where}: the layers ask for {n:,} parameters, above the limit of {MAX_PARAMETERS:,}")
        return nn.Sequential(*(getattr(nn, kind)(**kw) for kind, kw in items))
    except (TypeError, ValueError, RuntimeError) as exc:
        raise InputError(f"{where}: not a valid layer list ({type(exc).__name__}: {exc})") from exc


def eager_copy(module: nn.Module) -> nn.Sequential:
    """An eager ``nn.Sequential`` computing what the (TorchScript) ``module`` computes, with copies of its weights;
    ``.layers`` keeps its :func:`layer_spec` for saving."""
    spec = layer_spec(module)
    net = build_layers(spec, "the classifier")
    net.load_state_dict({k: v.detach().clone() for k, v in module.state_dict().items()})
    net.layers = spec
    return net.eval()
