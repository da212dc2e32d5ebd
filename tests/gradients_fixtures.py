"""A tiny torch model shared by the gradient-method tests (Captum methods and Score-CAM): its class-1
evidence lies only in a known region."""

from __future__ import annotations

import numpy as np
import torch

H = W = 24
REGION = (slice(4, 10), slice(12, 20))


class Tiny(torch.nn.Module):
    """Sees only REGION (the input is multiplied by a fixed 0/1 mask), conv → ReLU6 → pool → linear."""

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        mask = torch.zeros(1, 1, H, W)
        mask[..., REGION[0], REGION[1]] = 1.0
        self.register_buffer("mask", mask)
        self.conv = torch.nn.Conv2d(3, 6, 3, padding=1, bias=False)
        self.act = torch.nn.ReLU6()
        self.pool = torch.nn.AdaptiveAvgPool2d(1)
        self.fc = torch.nn.Linear(6, 2)
        with torch.no_grad():
            self.conv.weight.copy_(torch.randn(6, 3, 3, 3, generator=g))
            self.fc.weight.copy_(torch.tensor([[-1.0] * 6, [1.0, 1.0, -0.5, 1.0, 2.0, -1.0]]))
            self.fc.bias.zero_()

    def forward(self, x):
        return self.fc(self.pool(self.act(self.conv(x * self.mask))).flatten(1))


def image() -> np.ndarray:
    return np.random.default_rng(1).random((H, W, 3)).astype(np.float32)


def far_from_region() -> np.ndarray:
    far = np.ones((H, W), bool)
    far[REGION[0].start - 1 : REGION[0].stop + 1, REGION[1].start - 1 : REGION[1].stop + 1] = False  # 3×3 conv reach
    return far


def write_png(path, img: np.ndarray):
    """``img`` (H×W×3 in [0, 1]) as an 8-bit PNG at ``path``; returns the path and the 8-bit image as floats."""
    from PIL import Image

    u8 = np.round(img * 255).astype(np.uint8)
    Image.fromarray(u8).save(path)
    return path, (u8 / 255.0).astype(np.float32)


#: Small settings for the gradient methods that take them (options are checked per method).
FAST = {"smoothgrad": {"n_samples": 4}, "integrated-gradients": {"n_steps": 8}}
