"""What the gradient methods and systems share: a differentiable view of a torch model, the setup of one
explained image, the CAM layer, and result conversion.

The input-agnostic saliency, fill-in-the-blanks and Explainer systems need gradients of the model's
class loss w.r.t. its input, so they accept only torch models: a ``torch.nn.Module`` taking ``(N, C, H, W)``
inputs in [0, 1] (and returning logits unless ``output='probs'``), or a :class:`peephole.models.TorchModel`
(whose ``module`` and normalisation are used, on ``(N, 3, H, W)`` inputs in [0, 1]), or the name of a
model with a torch backend (``'efficientnet-lite0'``). Black boxes (ONNX, plain callables) raise an
:class:`~peephole.errors.InputError`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from peephole.errors import InputError


@dataclass
class Differentiable:
    """``logits(x)``: (N, C, H, W) [0, 1] tensor -> (N, n_classes) log-probabilities or logits, differentiable."""

    logits: Callable[[Any], Any]
    shape: tuple[int, int, int] | None  #: (C, H, W) the model needs, when known
    class_names: list[str] | None
    module: Any  #: the underlying nn.Module (its parameters, train/eval mode)

    @property
    def device(self) -> Any:
        """Where the module is (its parameters' device; never moved): inputs go there."""
        from peephole.models.torch import module_device

        return module_device(self.module)


def _is_module(obj: Any) -> bool:
    try:
        import torch
    except ImportError:
        return False
    return isinstance(obj, torch.nn.Module)


def as_differentiable(model: Any, what: str, output: str = "logits", class_names: Sequence[str] | None = None) -> Differentiable:
    """Wrap ``model`` for gradient computation; ``what`` names the system in the error a black box gets."""
    if isinstance(model, str):
        from peephole.models.registry import load_model

        model = load_model(model, "torch")
    if output not in ("logits", "probs", "scores"):
        raise InputError(f"output must be 'logits', 'probs' or 'scores', got {output!r}")
    from peephole.models.base import hub_model
    from peephole.models.torch import TorchModel

    if not isinstance(model, TorchModel):
        hub = hub_model(model, class_names)  # a transformers or timm classifier: its adapter's preprocessing and logits
        model = hub if hub is not None else model
    if isinstance(model, TorchModel):
        return _from_torch_model(model)
    if _is_module(model):
        cfg = getattr(model, "config", None)
        shape = (cfg["in_channels"], cfg["size"], cfg["size"]) if isinstance(cfg, dict) and "size" in cfg else None
        names = list(class_names) if class_names is not None else None
        return Differentiable(_log_if_probs(frozen(model), output), shape, names, model)
    raise InputError(
        f"{what} needs gradients, so it needs a differentiable torch model (a torch.nn.Module or a "
        f"peephole.models.TorchModel), not a black box ({type(model).__name__}); "
        "explain black boxes with method='pami'"
    )


def frozen(module: Any) -> Callable[[Any], Any]:
    """``module``'s forward in eval mode with its parameters detached: gradients reach the input, never the
    weights, and the user's module is left as it was (no ``eval()``, no ``requires_grad_``, not moved). A
    TorchScript module cannot be called with other weights: it runs as it is (gradients are taken with respect to
    the input only, so its weights' ``.grad`` stay untouched). A half or bfloat16 module gets its input in its own
    type and gives float32 scores."""
    import torch

    from peephole.models.torch import evaluating, module_dtype

    def forward(x: Any) -> Any:
        x = x.to(module_dtype(module))
        with evaluating(module):
            if isinstance(module, torch.jit.ScriptModule):
                out = module(x)
            else:
                weights = {name: p.detach() for name, p in module.named_parameters()}
                out = torch.func.functional_call(module, weights, (x,))
        return out.float() if torch.is_tensor(out) else out  # an output object: its adapter reads the scores

    return forward


def _log_if_probs(fn: Callable[[Any], Any], output: str) -> Callable[[Any], Any]:
    if output != "probs":
        return fn

    def log_probs(x: Any) -> Any:
        return fn(x).clamp_min(1e-12).log()

    return log_probs


def _from_torch_model(model: Any) -> Differentiable:
    import torch
    import torch.nn.functional as F

    pre, module = model.preprocess, model.module
    forward = frozen(module)
    mean = torch.tensor(pre.mean, dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.tensor(pre.std, dtype=torch.float32).view(1, -1, 1, 1)

    def logits(x: Any) -> Any:
        if pre.size is not None and tuple(x.shape[-2:]) != tuple(pre.size):
            x = F.interpolate(x, size=tuple(pre.size), mode="bilinear", align_corners=False)
        x = (x - mean.to(x.device)) / std.to(x.device)
        return model.scores_of(forward(x if pre.channels_first else x.permute(0, 2, 3, 1)))

    shape = (3, *pre.size) if pre.size is not None else None
    return Differentiable(_log_if_probs(logits, model.output), shape, model.class_names, module)


def to_chw(x: Any, shape: tuple[int, int, int] | None, name: str = "input") -> np.ndarray:
    """An image as (C, H, W) float32 in [0, 1]: accepts an image file (path), and C×H×W, H×W×C (C in 1, 3)
    and H×W arrays of floats in [0, 1] or of 8- / 16-bit integers (scaled by 1/255, 1/65535)."""
    if isinstance(x, (str, os.PathLike)):
        from peephole.modalities.image.io import load_image

        x = load_image(x)
    raw = np.asarray(x)
    scale = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(raw.dtype, 1.0)
    a = raw.astype(np.float32) / np.float32(scale)
    if a.ndim == 2:
        a = a[None]
    elif a.ndim == 3 and a.shape[0] not in (1, 3) and a.shape[-1] in (1, 3):
        a = a.transpose(2, 0, 1)
    if a.ndim != 3 or a.shape[0] not in (1, 3):
        raise InputError(f"{name}: expected H×W, C×H×W or H×W×C with C = 1 or 3, got shape {np.shape(x)}")
    if not np.isfinite(a).all() or a.min() < 0 or a.max() > 1:
        raise InputError(f"{name}: pixels must be finite and in [0, 1]")
    if shape is not None and shape[0] != a.shape[0]:
        if a.shape[0] == 3 and shape[0] == 1:
            a = a.mean(0, keepdims=True)
        elif a.shape[0] == 1 and shape[0] == 3:
            a = np.repeat(a, 3, 0)
    if shape is not None and a.shape != tuple(shape):
        raise InputError(f"{name}: the model needs inputs of shape {tuple(shape)} (C, H, W), got {a.shape}")
    return a


def resolve_shape(dm: Differentiable, image: Any, shape: Sequence[int] | None) -> tuple[int, int, int]:
    """The (C, H, W) input shape: from ``shape``, else the image, else the model."""
    if shape is not None:
        s = tuple(int(v) for v in shape)
        if len(s) != 3 or min(s) < 1:
            raise InputError(f"shape must be (C, H, W) with positive sizes, got {shape}")
        return s  # type: ignore[return-value]
    if image is not None:
        return to_chw(image, dm.shape).shape  # type: ignore[return-value]
    if dm.shape is None:
        raise InputError("cannot tell the model's input shape: pass shape=(C, H, W) or an example input")
    return dm.shape


def display(x: np.ndarray) -> np.ndarray:
    """(C, H, W) [0, 1] -> H×W×3 float32 for overlays."""
    a = np.clip(np.asarray(x, np.float32), 0, 1)
    return np.ascontiguousarray(np.repeat(a, 3, 0).transpose(1, 2, 0) if a.shape[0] == 1 else a.transpose(1, 2, 0))


def n_classes_of(dm: Differentiable, shape: tuple[int, int, int]) -> int:
    """Number of outputs, from one forward pass on a grey input."""
    import torch

    with torch.no_grad():
        out = dm.logits(torch.full((1, *shape), 0.5, device=dm.device))
    if out.ndim != 2:
        raise InputError(f"the model must return (N, n_classes) scores, got shape {tuple(out.shape)}")
    return int(out.shape[1])


@dataclass
class ImageSetup:
    """One image prepared for a gradient method: the model's view, the image at the model's size, ``f(x)``."""

    dm: Differentiable
    net: Any  #: an ``nn.Module`` computing ``dm.logits`` (what Captum wraps)
    image: np.ndarray  #: H×W×3 float32 in [0, 1], resized to the model's input size
    x: Any  #: the image as a (1, 3, H, W) tensor
    probabilities: np.ndarray
    targets: list[int]


def setup_image(req: Any, what: str) -> ImageSetup:
    """Wrap ``req.model`` (differentiable), load and resize ``req.input``, query f(x), resolve the targets.

    The image tensor is on the module's device (``req.device``, when given, must be it: the module is not moved)."""
    import torch

    from peephole.core.query import softmax
    from peephole.models.torch import module_device
    from peephole.pipeline import resolve_targets, resolve_task

    task = resolve_task(req)
    if task.name != "classification":
        raise InputError(f"{what} explains classifiers (its gradients are of class scores), not task {task.name!r}")
    dm = as_differentiable(req.model, what, output=req.output or "logits", class_names=req.class_names)
    device = module_device(dm.module, getattr(req, "device", None))
    img = req.modality.load(req.input, allow_large=req.allow_large)
    if dm.shape is not None and img.shape[:2] != dm.shape[1:]:
        import cv2

        img = np.clip(cv2.resize(img, (dm.shape[2], dm.shape[1]), interpolation=cv2.INTER_AREA), 0, 1)
    x = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))[None].to(device)

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = dm.module

        def forward(self, batch: torch.Tensor) -> torch.Tensor:
            return dm.logits(batch)

    net = Net()  # not .eval(): that would set the user's module (its child) to eval mode for good
    with torch.no_grad():
        probs = softmax(net(x).detach().double().cpu().numpy())[0]
    return ImageSetup(dm, net, img, x, probs, resolve_targets(probs, req.targets, req.top_k, dm.class_names))


def cam_layer(module: Any, layer: str | None = None) -> tuple[Any, bool]:
    """(layer module, attribute to its input?) for the CAMs.

    Default: the *input* of the last adaptive average pooling (the final feature maps after their
    activation, which global pooling turns into the classifier's features, as CAM assumes); else
    the output of the last ``Conv2d``. ``layer`` names a submodule (``module.named_modules()``).
    """
    import torch

    mods = dict(module.named_modules())
    if layer is not None:
        if layer not in mods:
            raise InputError(f"no layer {layer!r} in the model; some names: {list(mods)[-8:]}")
        return mods[layer], False
    pools = [m for m in mods.values() if isinstance(m, torch.nn.AdaptiveAvgPool2d)]
    if pools:
        return pools[-1], True
    convs = [m for m in mods.values() if isinstance(m, torch.nn.Conv2d)]
    if not convs:
        raise InputError("the model has no Conv2d layer for a CAM; pass layer='name of a conv layer'")
    return convs[-1], False
