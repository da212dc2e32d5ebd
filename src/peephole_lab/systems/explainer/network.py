"""Explainer architectures: a small U-Net that trains on a CPU (default), or any segmentation network.

The paper uses DeepLabV3-ResNet50 with one output channel per class; pass such a network (for example
``torchvision.models.segmentation.deeplabv3_resnet50(num_classes=K)``, not a dependency of Peephole) to
:class:`SegmentationExplainer`, which upsamples its logits (or its ``'out'`` entry) to the input size.
"""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from peephole.errors import InputError
from peephole_lab.systems.explainer.layers import build_layers, eager_copy, layer_spec


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class ExplainerNet(nn.Module):
    """U-Net with ``depth`` poolings and ``width·2^i`` channels at level i; returns (N, n_classes, H, W) logits."""

    def __init__(self, n_classes: int, in_channels: int = 3, width: int = 16, depth: int = 2) -> None:
        super().__init__()
        if n_classes < 1 or in_channels < 1 or width < 1 or depth < 0:
            raise InputError(
                f"bad Explainer config: n_classes={n_classes}, in_channels={in_channels}, width={width}, depth={depth}"
            )
        self.config = {"n_classes": n_classes, "in_channels": in_channels, "width": width, "depth": depth}
        chans = [width * 2**i for i in range(depth + 1)]
        self.down = nn.ModuleList([_block(in_channels, chans[0])] + [_block(chans[i], chans[i + 1]) for i in range(depth)])
        self.up = nn.ModuleList([_block(chans[i + 1] + chans[i], chans[i]) for i in reversed(range(depth))])
        self.head = nn.Conv2d(chans[0], n_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        for block, skip in zip(self.up, reversed(skips[:-1])):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = block(torch.cat([x, skip], 1))
        return self.head(x)


class BackboneExplainer(nn.Module):
    """A U-Net whose encoder starts as a copy of the classifier's own convolutional stages (the paper's Explainer
    shares its backbone's pretraining with the classifier; here the classifier itself is the pretrained backbone).

    ``classifier``: an ``nn.Sequential`` (eager or TorchScript) of conv stages separated by ``MaxPool2d`` or
    ``AvgPool2d``, then a global pooling, and a final ``Linear`` (e.g. :func:`peephole_lab.data.SmallCNN` with
    ``pool='max'``). The class logits are the Linear applied at every position of the last features (a class
    activation map, initialised from the classifier's weights) upsampled, plus a decoder's refinement from the skip
    features (initialised to 0). The copied stages are frozen (their batch norms still follow the batches in
    training mode), the CAM head and the decoder train; the classifier is not touched. A TorchScript classifier is
    first copied into plain ``torch.nn`` layers (:mod:`peephole_lab.systems.explainer.layers`) without drawing random
    numbers, so under one seed its Explainer starts with the same weights as the eager classifier's.
    """

    def __init__(self, classifier: nn.Module, width: int = 16) -> None:
        super().__init__()
        if isinstance(classifier, torch.jit.ScriptModule):
            with torch.random.fork_rng(devices=[]):  # building the copy's layers must not draw from the seeded stream
                classifier = eager_copy(classifier)
        layers = list(classifier.children()) if isinstance(classifier, nn.Sequential) else []
        pools = [i for i, m in enumerate(layers) if isinstance(m, (nn.AdaptiveMaxPool2d, nn.AdaptiveAvgPool2d))]
        if not pools or not isinstance(layers[-1], nn.Linear):
            raise InputError("BackboneExplainer needs an nn.Sequential of conv stages, a global pooling and a final Linear")
        cfg = dict(getattr(classifier, "config", {}))
        # a lab classifier is rebuilt from its config; any other (e.g. TorchScript) from its list of layers
        self.config = {"kind": "backbone", "width": width, **({"classifier": cfg} if cfg else {"layers": layer_spec(classifier)})}
        body, stages = layers[: pools[-1]], [[]]
        for m in body:
            if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
                stages.append([])
            stages[-1].append(copy.deepcopy(m))
        self.stages = nn.ModuleList(nn.Sequential(*st) for st in stages)
        self.stages.requires_grad_(False)  # the encoder keeps the classifier's weights, however its copy was made
        with torch.no_grad():
            chans = [st(x).shape[1] for st, x in zip(self.stages, self._probe(classifier))]
        lin = layers[-1]
        self.cam = nn.Conv2d(lin.in_features, lin.out_features, 1)
        with torch.no_grad():
            self.cam.weight.copy_(lin.weight[:, :, None, None])
            self.cam.bias.copy_(lin.bias)
        self.up = nn.ModuleList([_block(chans[-1] + chans[-2], width)] + [_block(width + c, width) for c in reversed(chans[:-2])])
        self.head = nn.Conv2d(width, lin.out_features, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def _probe(self, classifier: nn.Module) -> list[torch.Tensor]:
        cfg = getattr(classifier, "config", {})
        conv = next((m for m in classifier.modules() if isinstance(m, nn.Conv2d)), None)
        cin = cfg.get("in_channels", conv.in_channels if conv is not None else 3)
        x = torch.zeros(1, cin, cfg.get("size", 32), cfg.get("size", 32))
        self.eval()
        ins = []
        for st in self.stages:
            ins.append(x)
            x = st(x)
        return ins

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for st in self.stages:
            x = st(x)
            skips.append(x)
        size = skips[0].shape[-2:]
        cam = F.interpolate(self.cam(x), size=size, mode="bilinear", align_corners=False)
        for block, skip in zip(self.up, reversed(skips[:-1])):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = block(torch.cat([x, skip], 1))
        return cam + self.head(x)


class SegmentationExplainer(nn.Module):
    """Wraps any segmentation network with one output channel per class (DeepLabV3 as in the paper)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        out = out["out"] if isinstance(out, dict) else out
        return F.interpolate(out, size=x.shape[-2:], mode="bilinear", align_corners=False)


def save_explainer(net: nn.Module, path: str | Path, **meta: Any) -> Path:
    """Save an :class:`ExplainerNet` or :class:`BackboneExplainer` as config + weights (readable with ``weights_only=True``);
    the saved meta is the net's own ``.meta`` (e.g. ``multilabel``, set by training) updated with ``meta``."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": net.config, "state_dict": net.state_dict(), "meta": {**getattr(net, "meta", {}), **meta}}, p)
    return p


def load_explainer(path: str | Path) -> nn.Module:
    """An :class:`ExplainerNet` or :class:`BackboneExplainer` saved by :func:`save_explainer` (or a training
    checkpoint), in eval mode."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such Explainer file")
    try:
        d = torch.load(p, weights_only=True)
        cfg = dict(d["config"])
        if cfg.pop("kind", "unet") == "backbone":
            from peephole_lab.data.classifiers import build_classifier, check_config

            if "layers" in cfg:
                clf = build_layers(cfg["layers"], str(p))
            else:
                clf = build_classifier(check_config(cfg["classifier"], str(p)))
            net = BackboneExplainer(clf, cfg["width"])
        else:
            net = ExplainerNet(**cfg)
        net.load_state_dict(d["state_dict"])
    except InputError:
        raise
    except (KeyError, RuntimeError, TypeError, EOFError, ValueError, AttributeError, pickle.UnpicklingError) as exc:
        raise InputError(f"{p}: not an Explainer saved by peephole ({type(exc).__name__})") from exc
    net.meta = d.get("meta", {})
    return net.eval()
