"""Gradient baselines from Captum, one rule per method (rules as data, as zennit's composites).

Saliency (Simonyan et al.), Guided Backprop (Springenberg et al.), SmoothGrad (Smilkov et al., a
Captum ``NoiseTunnel`` over Saliency), Integrated Gradients (Sundararajan et al.) and Grad-CAM
(Selvaraju et al., Captum ``LayerGradCam``). Pixel-space attributions become a map as the absolute
value summed over the colour channels; Grad-CAM's layer map is upsampled bilinearly.

pytorch-grad-cam (PyPI ``grad-cam``) is not used: its package ``__init__`` imports torchvision,
which would pull a second, CUDA torch. The model must be differentiable (a
:class:`~peephole.models.TorchModel`, an ``nn.Module`` on (N, 3, H, W) inputs in [0, 1], or
``'efficientnet-lite0'``); the image is resized to the model's input size. ``n_queries`` counts
forward passes (each with a backward pass).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import numpy as np

from peephole.core.options import require_count, require_finite
from peephole.core.partition import MAX_PARTS
from peephole.errors import InputError
from peephole.gradients.differentiable import ImageSetup, cam_layer, setup_image
from peephole.pipeline import Request, build
from peephole.result import Explanation


@dataclass(frozen=True)
class Rule:
    """How one Captum method attributes class ``t``: ``attribute(setup, xi, t, options) -> tensor``, and its cost."""

    attribute: Callable[[ImageSetup, Any, int, dict[str, Any]], Any]
    queries: Callable[[dict[str, Any]], int]
    layer_map: bool = False  #: the attribution is a layer map (upsampled), not pixel-space


def _saliency(s: ImageSetup, xi: Any, t: int, o: dict[str, Any]) -> Any:
    from captum.attr import Saliency

    return Saliency(s.net).attribute(xi, target=t, abs=True)


def _guided_backprop(s: ImageSetup, xi: Any, t: int, o: dict[str, Any]) -> Any:
    """Captum's GuidedBackprop, also overriding ReLU6 (EfficientNet-Lite's activation) gradients."""
    import torch
    from captum._utils.common import _register_backward_hook
    from captum.attr import GuidedBackprop

    class GuidedBackpropReLU6(GuidedBackprop):
        def _register_hooks(self, module: torch.nn.Module) -> None:
            if isinstance(module, (torch.nn.ReLU, torch.nn.ReLU6)):
                self.backward_hooks.extend(_register_backward_hook(module, self._backward_hook, self))

    with warnings.catch_warnings():  # Captum warns that it sets (and removes) ReLU hooks
        warnings.simplefilter("ignore", UserWarning)
        return GuidedBackpropReLU6(s.net).attribute(xi, target=t)


def _smoothgrad(s: ImageSetup, xi: Any, t: int, o: dict[str, Any]) -> Any:
    from captum.attr import NoiseTunnel, Saliency

    return NoiseTunnel(Saliency(s.net)).attribute(
        xi,
        nt_type="smoothgrad",
        nt_samples=o["n_samples"],
        nt_samples_batch_size=o["batch_size"],
        stdevs=float(o["noise"]),  # Captum asserts a float: noise=0 (an int) failed
        target=t,
        abs=True,
    )


def _integrated_gradients(s: ImageSetup, xi: Any, t: int, o: dict[str, Any]) -> Any:
    import torch
    from captum.attr import IntegratedGradients

    return IntegratedGradients(s.net).attribute(
        xi, baselines=torch.zeros_like(xi), target=t, n_steps=o["n_steps"], internal_batch_size=o["batch_size"]
    )


def _gradcam(s: ImageSetup, xi: Any, t: int, o: dict[str, Any]) -> Any:
    from captum.attr import LayerAttribution, LayerGradCam

    lay, inp = cam_layer(s.dm.module, o["layer"])
    a = LayerGradCam(s.net, lay).attribute(xi, target=t, attribute_to_layer_input=inp, relu_attributions=True)
    if a.ndim != 4:  # a linear layer, the whole model: no map to upsample
        raise InputError(
            f"Grad-CAM's layer {o['layer']!r} gives activations of shape {tuple(a.shape)}, not a feature map "
            "(N×C×H×W): choose a convolutional layer"
        )
    return LayerAttribution.interpolate(a.detach(), s.image.shape[:2], interpolate_mode="bilinear")


#: The Captum methods by name.
RULES: dict[str, Rule] = {
    "saliency": Rule(_saliency, lambda o: 1),
    "guided-backprop": Rule(_guided_backprop, lambda o: 1),
    "smoothgrad": Rule(_smoothgrad, lambda o: o["n_samples"]),
    "integrated-gradients": Rule(_integrated_gradients, lambda o: o["n_steps"]),
    "gradcam": Rule(_gradcam, lambda o: 1, layer_map=True),
}


def attribute(req: Request, method: str, **options: Any) -> Explanation:
    """The Captum method ``method`` on ``req``'s image, one map per target."""
    try:
        import captum.attr  # noqa: F401
        import torch
    except ImportError as exc:
        raise InputError(f"{method} needs torch and Captum: pip install 'peephole[models,gradients]'") from exc
    t0 = perf_counter()
    rule = RULES[method]
    s = setup_image(req, method)
    o = {**options, "batch_size": req.batch_size or 16}
    torch.manual_seed(req.seed)
    maps = []
    for t in s.targets:
        a = rule.attribute(s, s.x.clone().requires_grad_(True), t, o)
        maps.append((a.detach()[0, 0] if rule.layer_map else a.detach()[0].abs().sum(0)).float().cpu().numpy())
    return build(
        method,
        "image",
        s.image,
        np.stack(maps),
        s.targets,
        s.probabilities,
        s.dm.class_names,
        n_queries=1 + len(s.targets) * rule.queries(o),
        timings={"total": perf_counter() - t0},
        params={**options, "seed": req.seed},
    )


def saliency(req: Request) -> Explanation:
    """|∂f_k/∂x| summed over colour channels."""
    return attribute(req, "saliency")


def guided_backprop(req: Request) -> Explanation:
    """Guided backpropagation (ReLU and ReLU6 gradients clipped at 0)."""
    return attribute(req, "guided-backprop")


def smoothgrad(req: Request, n_samples: int = 25, noise: float = 0.15) -> Explanation:
    """Saliency averaged over ``n_samples`` copies with Gaussian noise σ = ``noise`` (fraction of [0, 1])."""
    require_count("n_samples", n_samples, 1, MAX_PARTS)  # a forward and a backward pass each
    require_finite("noise", noise, 0)
    return attribute(req, "smoothgrad", n_samples=n_samples, noise=noise)


def integrated_gradients(req: Request, n_steps: int = 50) -> Explanation:
    """Integrated Gradients from a black image in ``n_steps``."""
    require_count("n_steps", n_steps, 1, MAX_PARTS)
    return attribute(req, "integrated-gradients", n_steps=n_steps)


def gradcam(req: Request, layer: str | None = None) -> Explanation:
    """Grad-CAM at ``layer`` (default: see :func:`~peephole.gradients.differentiable.cam_layer`)."""
    return attribute(req, "gradcam", layer=layer)
