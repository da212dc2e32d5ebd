"""Small CNN classifiers trained in seconds on a CPU, for tests, demos and the documentation figures."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from peephole.errors import InputError


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - torch is in the 'models' extra
        raise InputError("this needs torch: pip install torch") from exc
    return torch


def SmallCNN(
    in_channels: int = 1,
    n_classes: int = 10,
    width: int = 16,
    pool: str = "flatten",
    size: int = 28,
    batchnorm: bool = False,
    stages: int = 2,
) -> Any:
    """conv3-(BN)-ReLU-pool ×``stages`` (width, then 2·width) then a head: ``pool='flatten'`` (MLP on the feature
    map, MNIST) or ``'max'`` (conv, global max pool, linear: multi-label canvases, best with ``batchnorm``;
    receptive field 18 px with 2 stages, 54 px with 3). The config is kept on ``module.config``."""
    torch = _torch()
    nn = torch.nn

    def conv(cin: int, cout: int) -> list[Any]:
        return [nn.Conv2d(cin, cout, 3, padding=1), *([nn.BatchNorm2d(cout)] if batchnorm else []), nn.ReLU()]

    if stages < 2:
        raise InputError(f"stages must be >= 2, got {stages}")
    body = [*conv(in_channels, width), nn.MaxPool2d(2)]
    for i in range(1, stages):
        body += [*conv(width if i == 1 else 2 * width, 2 * width), nn.MaxPool2d(2)]
    if pool == "flatten":
        head = [nn.Flatten(), nn.Linear(2 * width * (size // 2**stages) ** 2, 64), nn.ReLU(), nn.Linear(64, n_classes)]
    elif pool == "max":
        head = [*conv(2 * width, 2 * width), nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(2 * width, n_classes)]
    else:
        raise InputError(f"unknown pool {pool!r}; use 'flatten' or 'max'")
    net = nn.Sequential(*body, *head)
    net.config = {
        "in_channels": in_channels,
        "n_classes": n_classes,
        "width": width,
        "pool": pool,
        "size": size,
        "batchnorm": batchnorm,
        "stages": stages,
    }
    return net


def train_classifier(
    module: Any,
    x: np.ndarray,
    y: np.ndarray,
    epochs: int = 2,
    batch_size: int = 64,
    lr: float = 2e-3,
    seed: int = 0,
    multilabel: bool = False,
    progress: bool = False,
) -> Any:
    """Train ``module`` with Adam (CE, or BCE-with-logits when ``multilabel``); returns it in eval mode."""
    torch = _torch()
    from tqdm.auto import tqdm

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    xt = torch.from_numpy(np.asarray(x, np.float32))
    yt = torch.from_numpy(np.asarray(y, np.float32 if multilabel else np.int64))
    loss_fn = torch.nn.BCEWithLogitsLoss() if multilabel else torch.nn.CrossEntropyLoss()
    opt = torch.optim.Adam(module.parameters(), lr=lr)
    module.train()
    for _ in tqdm(range(epochs), desc="training classifier", unit="epoch", disable=not progress):
        order = torch.from_numpy(rng.permutation(len(xt)))
        for i in range(0, len(xt), batch_size):
            idx = order[i : i + batch_size]
            opt.zero_grad()
            loss_fn(module(xt[idx]), yt[idx]).backward()
            opt.step()
    return module.eval()


def accuracy(module: Any, x: np.ndarray, y: np.ndarray, batch_size: int = 512) -> float:
    """Top-1 accuracy of ``module`` on ``(x, y)``."""
    torch = _torch()
    with torch.no_grad():
        pred = np.concatenate(
            [module(torch.from_numpy(x[i : i + batch_size])).argmax(1).numpy() for i in range(0, len(x), batch_size)]
        )
    return float((pred == y).mean())


def save_classifier(module: Any, path: str | Path, **meta: Any) -> Path:
    """Save a :func:`SmallCNN` as its config and weights (``torch.load(weights_only=True)`` can read it)."""
    torch = _torch()
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": module.config, "state_dict": module.state_dict(), "meta": meta}, p)
    return p


#: Limits of a :func:`SmallCNN` config read from a file, checked before anything is allocated.
CONFIG_LIMITS = {"in_channels": (1, 16), "n_classes": (1, 10_000), "width": (1, 512), "size": (4, 1024), "stages": (2, 8)}
#: The most parameters a loaded :func:`SmallCNN` may have (a 1.3 KB file used to allocate 1.7 GB).
MAX_PARAMETERS = 50_000_000


def check_config(config: Any, where: str) -> dict[str, Any]:
    """A :func:`SmallCNN` config with every key known, every size within :data:`CONFIG_LIMITS` and at most
    :data:`MAX_PARAMETERS` parameters, else an :class:`InputError` — before any tensor is allocated."""
    if not isinstance(config, dict):
        raise InputError(f"{where}: config is a {type(config).__name__}, not a dict")
    known = {*CONFIG_LIMITS, "pool", "batchnorm"}
    bad = sorted(set(config) - known, key=str)
    if bad:
        raise InputError(f"{where}: unknown config key {bad[0]!r}; known: {sorted(known)}")
    c = {"in_channels": 1, "n_classes": 10, "width": 16, "pool": "flatten", "size": 28, "batchnorm": False, "stages": 2}
    c.update(config)
    for k, (lo, hi) in CONFIG_LIMITS.items():
        v = c[k]
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise InputError(f"{where}: config {k}={v!r} is not an integer in {lo}..{hi}")
    if c["pool"] not in ("flatten", "max") or not isinstance(c["batchnorm"], bool):
        raise InputError(f"{where}: config pool={c['pool']!r} / batchnorm={c['batchnorm']!r} is not valid")
    w, cin = c["width"], c["in_channels"]
    more = c["stages"] - 2  # each further stage: a 2w → 2w conv
    convs = 9 * cin * w + 9 * w * 2 * w + 9 * 4 * w * w * more + (9 * 4 * w * w if c["pool"] == "max" else 0)
    cells = (c["size"] // 2 ** c["stages"]) ** 2
    head = 2 * w * cells * 64 + 64 * c["n_classes"] if c["pool"] == "flatten" else 2 * w * c["n_classes"]
    if convs + head > MAX_PARAMETERS:
        raise InputError(f"{where}: config asks for {convs + head:,} parameters, above the limit of {MAX_PARAMETERS:,}")
    return c


def load_classifier(path: str | Path) -> Any:
    """A :func:`SmallCNN` saved by :func:`save_classifier`, in eval mode (``.meta`` holds what was saved with it)."""
    torch = _torch()
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such model file")
    try:
        d = torch.load(p, weights_only=True)
        net = SmallCNN(**check_config(d["config"], str(p)))
        net.load_state_dict(d["state_dict"])
    except InputError:
        raise
    except (KeyError, RuntimeError, TypeError, EOFError, ValueError, AttributeError, pickle.UnpicklingError) as exc:
        raise InputError(f"{p}: not a model saved by peephole.data.save_classifier ({type(exc).__name__})") from exc
    net.meta = d.get("meta", {})
    return net.eval()
