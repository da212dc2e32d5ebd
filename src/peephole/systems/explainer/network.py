"""Explainer architectures: a small U-Net that trains on a CPU (default), or any segmentation network.

The paper uses DeepLabV3-ResNet50 with one output channel per class; pass such a network (for example
``torchvision.models.segmentation.deeplabv3_resnet50(num_classes=K)``, not a dependency of Peephole) to
:class:`SegmentationExplainer`, which upsamples its logits (or its ``'out'`` entry) to the input size.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from peephole.errors import InputError


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


class SegmentationExplainer(nn.Module):
    """Wraps any segmentation network with one output channel per class (DeepLabV3 as in the paper)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        out = out["out"] if isinstance(out, dict) else out
        return F.interpolate(out, size=x.shape[-2:], mode="bilinear", align_corners=False)


def save_explainer(net: ExplainerNet, path: str | Path, **meta: Any) -> Path:
    """Save an :class:`ExplainerNet` as config + weights (readable with ``weights_only=True``)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": net.config, "state_dict": net.state_dict(), "meta": meta}, p)
    return p


def load_explainer(path: str | Path) -> ExplainerNet:
    """An :class:`ExplainerNet` saved by :func:`save_explainer` (or a training checkpoint), in eval mode."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such Explainer file")
    try:
        d = torch.load(p, weights_only=True)
        net = ExplainerNet(**d["config"])
        net.load_state_dict(d["state_dict"])
    except (KeyError, RuntimeError, TypeError, EOFError, ValueError, AttributeError, pickle.UnpicklingError) as exc:
        raise InputError(f"{p}: not an Explainer saved by peephole ({type(exc).__name__})") from exc
    net.meta = d.get("meta", {})
    return net.eval()
