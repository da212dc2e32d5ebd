"""Gradient-based baselines for torch models, from Captum, behind the same interface as PAMI.

Saliency (Simonyan et al.), Guided Backprop (Springenberg et al.), SmoothGrad (Smilkov et al., a
Captum ``NoiseTunnel`` over Saliency), Integrated Gradients (Sundararajan et al.) and Grad-CAM
(Selvaraju et al., Captum ``LayerGradCam``). Pixel-space attributions become a map as the absolute
value summed over the colour channels. Score-CAM (Wang et al., CVPR-W 2020) is written on the engine:
its queries are soft masks (the CAM layer's upsampled, min–max normalised channels) blending x
towards mid-grey, weighted by the increase of the class probability over the all-grey input.

pytorch-grad-cam (PyPI ``grad-cam``) is not used: its package ``__init__`` imports torchvision
(``utils/image.py``, ``sess.py``, ``utils/model_targets.py``), which would pull a second, CUDA torch.

The model must be differentiable (a :class:`~peephole.models.TorchModel`, an ``nn.Module`` on (N, 3,
H, W) inputs in [0, 1], or ``'efficientnet-lite0'``); the image is resized to the model's input size.
``n_queries`` counts forward passes (each with a backward pass for the gradient methods).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from time import perf_counter
from typing import Any

import numpy as np

from peephole.engine.query import Query, softmax
from peephole.engine.run import run
from peephole.errors import InputError
from peephole.explanation import Explanation
from peephole.image.io import load_image, to_rgb_float
from peephole.image.maskers import ConstantMasker
from peephole.methods.differentiable import Differentiable, as_differentiable
from peephole.methods.soft_masks import FunctionPartition, ScoresOnly, SoftMasker

GRADIENT_METHODS = ("saliency", "guided-backprop", "smoothgrad", "integrated-gradients", "gradcam", "scorecam")


class _Net:
    """Builds the ``nn.Module`` Captum needs around a :class:`Differentiable` (its module a child)."""

    @staticmethod
    def make(dm: Differentiable) -> Any:
        import torch

        class Net(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.inner = dm.module

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return dm.logits(x)

        return Net().eval()


def _guided_backprop(net: Any) -> Any:
    """Captum's GuidedBackprop, also overriding ReLU6 (EfficientNet-Lite's activation) gradients."""
    import torch
    from captum._utils.common import _register_backward_hook
    from captum.attr import GuidedBackprop

    class GuidedBackpropReLU6(GuidedBackprop):
        def _register_hooks(self, module: torch.nn.Module) -> None:
            if isinstance(module, (torch.nn.ReLU, torch.nn.ReLU6)):
                self.backward_hooks.extend(_register_backward_hook(module, self._backward_hook, self))

    return GuidedBackpropReLU6(net)


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


def _activations(net: Any, layer: Any, layer_input: bool, x: Any) -> np.ndarray:
    """The CAM layer's (C, h, w) activations on x (one forward pass)."""
    import torch

    got: list[Any] = []
    handle = layer.register_forward_hook(lambda m, i, o: got.append((i[0] if layer_input else o).detach()))
    try:
        with torch.no_grad():
            net(x)
    finally:
        handle.remove()
    a = got[-1][0].float().numpy()
    if a.ndim != 3:
        raise InputError(f"the CAM layer gives activations of shape {tuple(got[-1].shape)}, not (N, C, h, w)")
    return a


def _upsample(a: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    import cv2

    return np.stack([cv2.resize(c, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR) for c in a.astype(np.float32)])


def _scorecam(
    dm: Differentiable,
    net: Any,
    x: Any,
    img: np.ndarray,
    targets: list[int],
    layer: Any,
    layer_input: bool,
    black_box: Any,
    batch_size: int,
) -> tuple[np.ndarray, int]:
    acts = _activations(net, layer, layer_input, x)
    lo, hi = acts.min(axis=(1, 2)), acts.max(axis=(1, 2))
    keep = np.flatnonzero(hi > lo)  # constant channels carry no spatial information
    shape = img.shape[:2]

    def masks(start: int, stop: int) -> np.ndarray:  # part 0 hides everything (x_b); part k shows channel k
        idx = keep[np.arange(max(start, 1), stop) - 1]
        up = np.clip(_upsample((acts[idx] - lo[idx, None, None]) / (hi - lo)[idx, None, None], shape), 0, 1)
        return np.concatenate([np.zeros((1, *shape), np.float32), up]) if start == 0 else up

    model = black_box if black_box is not None else _black_box(dm)
    query = Query(model, getattr(model, "output", "logits"))
    res = run(
        query,
        img,
        FunctionPartition(shape, len(keep) + 1, masks),
        SoftMasker(ConstantMasker("grey")),
        targets,
        batch_size,
        aggregator=ScoresOnly,
        desc="Score-CAM",
    )
    alpha = res.scores[1:, targets] - res.scores[:1, targets]  # (C', K): p_c(x∘H_k) − p_c(x_b)
    cams = np.maximum(np.tensordot(alpha.T, acts[keep], axes=1), 0)  # (K, h, w)
    return _upsample(cams, shape), res.n_queries


def _black_box(dm: Differentiable) -> Any:
    import torch

    from peephole.models.callable import CallableModel

    def fn(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return dm.logits(torch.from_numpy(np.ascontiguousarray(batch.transpose(0, 3, 1, 2)))).float().numpy()

    return CallableModel(fn, output="logits")


def gradient_explanation(
    method: str,
    model: Any,
    image: Any,
    targets: int | Sequence[int] | None = None,
    top_k: int = 1,
    layer: str | None = None,
    n_samples: int = 25,
    noise: float = 0.15,
    n_steps: int = 50,
    black_box: Any = None,
    batch_size: int = 16,
    seed: int = 0,
    output: str = "logits",
    progress: bool = False,
) -> Explanation:
    """One of :data:`GRADIENT_METHODS` on ``image``; see the module doc.

    SmoothGrad: ``n_samples`` noisy copies, noise σ = ``noise`` (fraction of the [0, 1] range).
    Integrated Gradients: ``n_steps`` from a black image. Grad-CAM / Score-CAM: ``layer`` (default: see
    :func:`cam_layer`). Score-CAM: ``black_box`` answers its masked queries (e.g. the ONNX export of
    the same network, which is faster), else the torch model does.
    """
    if method not in GRADIENT_METHODS:
        raise InputError(f"unknown gradient method {method!r}; use one of {GRADIENT_METHODS}")
    try:
        import torch
        from captum.attr import IntegratedGradients, LayerAttribution, LayerGradCam, NoiseTunnel, Saliency
    except ImportError as exc:
        raise InputError(f"{method} needs torch and Captum: pip install 'peephole[models,gradients]'") from exc
    t0 = perf_counter()
    dm = as_differentiable(model, method, output=output)
    img = load_image(image) if isinstance(image, str) else to_rgb_float(image)
    if dm.shape is not None and img.shape[:2] != dm.shape[1:]:
        import cv2

        img = np.clip(cv2.resize(img, (dm.shape[2], dm.shape[1]), interpolation=cv2.INTER_AREA), 0, 1)
    x = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))[None]
    net = _Net.make(dm)
    with torch.no_grad():
        probs = softmax(net(x).double().numpy())[0]
    from peephole.methods.differentiable import check_targets

    tl = check_targets(targets, len(probs), [int(i) for i in np.argsort(-probs, kind="stable")[: max(top_k, 1)]])
    torch.manual_seed(seed)
    n_q = 1
    maps: list[np.ndarray] = []
    if method == "scorecam":
        lay, inp = cam_layer(dm.module, layer)
        cams, nq = _scorecam(dm, net, x, img, tl, lay, inp, black_box, batch_size)
        maps, n_q = list(cams), n_q + 1 + nq
    for t in tl if method != "scorecam" else []:
        xi = x.clone().requires_grad_(True)
        if method == "gradcam":
            lay, inp = cam_layer(dm.module, layer)
            a = LayerGradCam(net, lay).attribute(xi, target=t, attribute_to_layer_input=inp, relu_attributions=True)
            m = LayerAttribution.interpolate(a.detach(), img.shape[:2], interpolate_mode="bilinear")[0, 0]
            n_q += 1
        else:
            attr: Callable[..., Any]
            if method == "saliency":
                a, n = Saliency(net).attribute(xi, target=t, abs=True), 1
            elif method == "guided-backprop":
                with warnings.catch_warnings():  # Captum warns that it sets (and removes) ReLU hooks
                    warnings.simplefilter("ignore", UserWarning)
                    a, n = _guided_backprop(net).attribute(xi, target=t), 1
            elif method == "smoothgrad":
                attr = NoiseTunnel(Saliency(net)).attribute
                a = attr(
                    xi,
                    nt_type="smoothgrad",
                    nt_samples=n_samples,
                    nt_samples_batch_size=batch_size,
                    stdevs=noise,
                    target=t,
                    abs=True,
                )
                n = n_samples
            else:
                a = IntegratedGradients(net).attribute(
                    xi, baselines=torch.zeros_like(xi), target=t, n_steps=n_steps, internal_batch_size=batch_size
                )
                n = n_steps
            m = a.detach()[0].abs().sum(0)
            n_q += n
        maps.append(m.float().numpy())
    return Explanation(
        maps=np.stack(maps).astype(np.float32),
        targets=tl,
        probabilities=probs.astype(np.float32),
        scores=np.zeros((0, len(probs)), np.float32),
        n_queries=n_q,
        input=img,
        method=method,
        class_names=list(dm.class_names) if dm.class_names else None,
        timings={"total": perf_counter() - t0},
        params={"layer": layer, "n_samples": n_samples, "noise": noise, "n_steps": n_steps, "seed": seed},
    )


def _method(name: str) -> Callable[..., Explanation]:
    def explain(model: Any, image: Any, **options: Any) -> Explanation:
        return gradient_explanation(name, model, image, **options)

    explain.__name__ = name.replace("-", "_")
    explain.__doc__ = f"{name} (see :func:`gradient_explanation`)."
    return explain


#: ``peephole.explain(model, x, method=name)`` entries.
METHODS: dict[str, Callable[..., Explanation]] = {n: _method(n) for n in GRADIENT_METHODS}
