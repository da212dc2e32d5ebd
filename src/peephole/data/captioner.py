"""A synthetic captioning task with a known answer: coloured shapes on black, captions such as
"red cross left of blue square", and a tiny CNN + GRU captioner trained on it in seconds (CPU).

Each scene has two objects, one in the left and one in the right half, named left first, so the
region each object word names is known exactly (``Scene.masks``). Used by the tests and docs of
PAMI on a :class:`~peephole.models.caption.CaptionModel`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COLOURS = {"red": (1.0, 0.0, 0.0), "green": (0.0, 1.0, 0.0), "blue": (0.0, 0.0, 1.0)}
SHAPES = ("square", "triangle", "cross")
VOCAB = ("<bos>", *COLOURS, *SHAPES, "left", "of")


@dataclass
class Scene:
    image: np.ndarray  #: H×W×3 float32 in [0, 1]
    caption: list[str]  #: e.g. ['red', 'circle', 'left', 'of', 'blue', 'square']
    masks: list[np.ndarray]  #: H×W bool pixels of the first- and second-named object


def _shape_mask(shape: str, cy: int, cx: int, r: int, size: int) -> np.ndarray:
    from skimage.draw import polygon

    m = np.zeros((size, size), dtype=bool)
    if shape == "cross":
        m[cy - r : cy + r + 1, cx - 1 : cx + 2] = True
        m[cy - 1 : cy + 2, cx - r : cx + r + 1] = True
    elif shape == "square":
        m[max(cy - r, 0) : cy + r, max(cx - r, 0) : cx + r] = True
    else:
        m[polygon([cy - r, cy + r, cy + r], [cx, cx - r, cx + r], shape=m.shape)] = True
    return m


def scene(rng: np.random.Generator, size: int = 32, radius: int = 6, drop: float = 0.0) -> Scene:
    """A random scene, its caption naming the left object first.

    With probability ``drop`` one object is left out of the image (not of the caption).
    """
    objs = []
    for half in (0, 1):
        colour, shape = rng.choice(list(COLOURS)), rng.choice(SHAPES)
        cx = int(rng.integers(radius + 1 + half * size // 2, (half + 1) * size // 2 - radius))
        cy = int(rng.integers(radius + 1, size - radius - 1))
        objs.append((str(colour), str(shape), _shape_mask(str(shape), cy, cx, radius, size)))
    image = np.zeros((size, size, 3), dtype=np.float32)
    hidden = int(rng.integers(2)) if rng.random() < drop else -1
    for i, (colour, _, m) in enumerate(objs):
        if i != hidden:
            image[m] = COLOURS[colour]
    (a, b) = objs
    caption = [a[0], a[1], "left", "of", b[0], b[1]]
    return Scene(image, caption, [a[2], b[2]])


def dataset(n: int, seed: int = 0, size: int = 32, drop: float = 0.0) -> list[Scene]:
    rng = np.random.default_rng(seed)
    return [scene(rng, size, drop=drop) for _ in range(n)]


def _module(size: int):  # noqa: ANN202 - torch is imported lazily
    import torch
    from torch import nn

    class TinyCaptioner(nn.Module):
        """CNN encoder (max-pooled per image half) -> initial GRU state; the GRU reads <bos> + tokens, predicts the next."""

        def __init__(self) -> None:
            super().__init__()
            self.cnn = nn.Sequential(
                nn.Conv2d(3, 16, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(16, 32, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(32, 32, 3, padding=1),
                nn.ReLU(),
                nn.AdaptiveMaxPool2d((1, 2)),  # one feature vector per image half: shift-invariant within it
                nn.Flatten(),
                nn.Linear(64, 64),
                nn.Tanh(),
            )
            self.emb = nn.Embedding(len(VOCAB), 32)
            self.gru = nn.GRU(32, 64, batch_first=True)
            self.out = nn.Linear(64, len(VOCAB))

        def forward(self, images: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
            h = self.cnn(images)[None]
            prev = torch.cat([torch.zeros_like(tokens[:, :1]), tokens[:, :-1]], dim=1)  # <bos> is id 0
            y, _ = self.gru(self.emb(prev), h)
            return self.out(y)

    return TinyCaptioner()


class SyntheticCaptioner:
    """The trained captioner; ``captioner(images, tokens) -> (B, T)`` token probabilities (teacher forcing)."""

    def __init__(self, module, size: int) -> None:  # noqa: ANN001
        self.module, self.size = module.eval(), size

    def __call__(self, images: np.ndarray, tokens: list[str]) -> np.ndarray:
        import torch

        ids = torch.tensor([[VOCAB.index(t) for t in tokens]] * len(images))
        x = torch.from_numpy(np.ascontiguousarray(np.asarray(images, dtype=np.float32).transpose(0, 3, 1, 2)))
        with torch.inference_mode():
            p = self.module(x, ids).softmax(-1)
        return p.gather(2, ids[:, :, None])[:, :, 0].numpy()


def train_captioner(
    n: int = 3000, epochs: int = 14, seed: int = 0, size: int = 32, drop: float = 0.2, threads: int = 1
) -> SyntheticCaptioner:
    """Train the tiny captioner on ``n`` synthetic scenes, ``drop`` of them missing one object (so it
    learns to fall back to its prior for an object it cannot see); a fixed seed gives the same weights.
    One thread by default: on a busy machine, torch's thread pool spins and is many times slower."""
    import torch

    torch.manual_seed(seed)
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        data = dataset(n, seed, size, drop=drop)
        x = torch.from_numpy(np.stack([s.image for s in data]).transpose(0, 3, 1, 2).copy())
        y = torch.tensor([[VOCAB.index(t) for t in s.caption] for s in data])
        module = _module(size)
        opt = torch.optim.Adam(module.parameters(), lr=3e-3)
        gen = torch.Generator().manual_seed(seed)
        for _ in range(epochs):
            for idx in torch.randperm(n, generator=gen).split(64):
                loss = torch.nn.functional.cross_entropy(module(x[idx], y[idx]).reshape(-1, len(VOCAB)), y[idx].reshape(-1))
                opt.zero_grad()
                loss.backward()
                opt.step()
    finally:
        torch.set_num_threads(old)
    return SyntheticCaptioner(module, size)
