"""Small CNN classifiers trained in seconds on a CPU, for tests, demos and the documentation figures."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from peephole.core.options import require, require_count, require_finite
from peephole.core.query import to_numpy
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
    map, MNIST), ``'max'`` (conv, global max pool, linear: multi-label canvases, best with ``batchnorm``;
    receptive field 18 px with 2 stages, 54 px with 3) or ``'avg'`` (the same with global average pooling: the
    BN + GAP family). The config is kept on ``module.config``."""
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
    elif pool in ("max", "avg"):
        gp = nn.AdaptiveMaxPool2d(1) if pool == "max" else nn.AdaptiveAvgPool2d(1)
        head = [*conv(2 * width, 2 * width), gp, nn.Flatten(), nn.Linear(2 * width, n_classes)]
    else:
        raise InputError(f"unknown pool {pool!r}; use 'flatten', 'max' or 'avg'")
    net = nn.Sequential(*body, *head)
    net.config = {
        "arch": "cnn",
        "in_channels": in_channels,
        "n_classes": n_classes,
        "width": width,
        "pool": pool,
        "size": size,
        "batchnorm": batchnorm,
        "stages": stages,
    }
    return net


#: activations an MLP may use (``torch.nn`` class names)
ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "gelu": "GELU", "sigmoid": "Sigmoid", "elu": "ELU"}


def _activation(name: str) -> Any:
    if name not in ACTIVATIONS:
        raise InputError(f"unknown activation {name!r}; use one of {tuple(ACTIVATIONS)}")
    return getattr(_torch().nn, ACTIVATIONS[name])()


def MLP(in_channels: int = 1, n_classes: int = 10, size: int = 28, hidden: int = 256, activation: str = "relu") -> Any:
    """Flatten-Linear-act-Linear-act-Linear: a fully connected network (no convolution); ``activation`` in
    :data:`ACTIVATIONS`."""
    nn = _torch().nn
    d = in_channels * size * size
    net = nn.Sequential(
        nn.Flatten(),
        nn.Linear(d, hidden),
        _activation(activation),
        nn.Linear(hidden, hidden // 2),
        _activation(activation),
        nn.Linear(hidden // 2, n_classes),
    )
    net.config = {"arch": "mlp", "in_channels": in_channels, "n_classes": n_classes, "size": size, "hidden": hidden}
    if activation != "relu":  # configs of the original ReLU MLPs stay as they were saved
        net.config["activation"] = activation
    return net


def DeepCNN(in_channels: int = 1, n_classes: int = 10, width: int = 24, size: int = 28) -> Any:
    """(conv3-ReLU ×2, max-pool) ×2, then a linear head on the feature map; wider and deeper than
    :func:`SmallCNN`, no batch norm."""
    nn = _torch().nn

    def block(cin: int, cout: int) -> list[Any]:
        return [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]

    net = nn.Sequential(
        *block(in_channels, width), *block(width, 2 * width), nn.Flatten(), nn.Linear(2 * width * (size // 4) ** 2, n_classes)
    )
    net.config = {"arch": "deep-cnn", "in_channels": in_channels, "n_classes": n_classes, "width": width, "size": size}
    return net


def StridedCNN(in_channels: int = 1, n_classes: int = 10, width: int = 16, size: int = 28) -> Any:
    """conv3 stride 2-ReLU ×2 (width, 2·width), no pooling, then a linear head on the feature map."""
    nn = _torch().nn
    s = (size + 1) // 2
    s = (s + 1) // 2
    net = nn.Sequential(
        nn.Conv2d(in_channels, width, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(width, 2 * width, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(2 * width * s * s, n_classes),
    )
    net.config = {"arch": "strided-cnn", "in_channels": in_channels, "n_classes": n_classes, "width": width, "size": size}
    return net


def LeNet(in_channels: int = 1, n_classes: int = 10, size: int = 28) -> Any:
    """LeNet-5 style: conv5 (pad 2)-tanh-avg-pool, conv5-tanh-avg-pool, then tanh MLP 120-84."""
    nn = _torch().nn
    s = ((size // 2) - 4) // 2
    net = nn.Sequential(
        nn.Conv2d(in_channels, 6, 5, padding=2),
        nn.Tanh(),
        nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.Tanh(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * s * s, 120),
        nn.Tanh(),
        nn.Linear(120, 84),
        nn.Tanh(),
        nn.Linear(84, n_classes),
    )
    net.config = {"arch": "lenet", "in_channels": in_channels, "n_classes": n_classes, "size": size}
    return net


def _residual_block(width: int) -> Any:
    torch = _torch()
    nn = torch.nn

    class Residual(nn.Module):
        """x + BN(conv(ReLU(BN(conv(x))))), then ReLU (He et al., 2016, basic block)."""

        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(width, width, 3, padding=1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(),
                nn.Conv2d(width, width, 3, padding=1, bias=False),
                nn.BatchNorm2d(width),
            )

        def forward(self, x: Any) -> Any:
            return torch.relu(x + self.body(x))

    return Residual()


def ResNet(in_channels: int = 1, n_classes: int = 10, width: int = 16, size: int = 28) -> Any:
    """A small residual network: conv stem, a residual block, max-pool, a residual block, global average pool,
    linear (``size`` is recorded only: global pooling takes any input size)."""
    nn = _torch().nn
    net = nn.Sequential(
        nn.Conv2d(in_channels, width, 3, padding=1, bias=False),
        nn.BatchNorm2d(width),
        nn.ReLU(),
        _residual_block(width),
        nn.MaxPool2d(2),
        _residual_block(width),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(width, n_classes),
    )
    net.config = {"arch": "resnet", "in_channels": in_channels, "n_classes": n_classes, "width": width, "size": size}
    return net


#: architecture name -> constructor (its keyword arguments are the saved ``config`` without ``arch``)
ARCHITECTURES = {"cnn": SmallCNN, "mlp": MLP, "deep-cnn": DeepCNN, "strided-cnn": StridedCNN, "lenet": LeNet, "resnet": ResNet}


def build_classifier(config: dict[str, Any]) -> Any:
    """A fresh network of ``config['arch']`` (default ``'cnn'``) with the rest of ``config`` as its arguments."""
    cfg = dict(config)
    arch = cfg.pop("arch", "cnn")
    if arch not in ARCHITECTURES:
        raise InputError(f"unknown architecture {arch!r}; use one of {tuple(ARCHITECTURES)}")
    return ARCHITECTURES[arch](**cfg)


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
    require_count("epochs", epochs, 1)  # 0 or fewer: an untrained network saved as if trained
    require_count("batch_size", batch_size, 1)
    require_finite("lr", lr, 0, strict=True)
    torch = _torch()
    from tqdm.auto import tqdm

    xt = torch.from_numpy(np.asarray(x, np.float32))
    yt = torch.from_numpy(np.asarray(y, np.float32 if multilabel else np.int64))
    if not multilabel and len(yt):  # a label the network has no output for: one error, not torch's IndexError mid-epoch
        was = module.training
        with torch.no_grad():
            n_out = int(module.eval()(xt[:1]).shape[1])
        module.train(was)
        span = (int(yt.min()), int(yt.max()))
        require("labels (lowest, highest)", span, f"class indices in 0..{n_out - 1}", lambda r: r[0] >= 0 and r[1] < n_out)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
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
            [to_numpy(module(torch.from_numpy(x[i : i + batch_size])).argmax(1)) for i in range(0, len(x), batch_size)]
        )
    return float((pred == y).mean())


def save_classifier(module: Any, path: str | Path, **meta: Any) -> Path:
    """Save a network of :data:`ARCHITECTURES` as its config and weights (``torch.load(weights_only=True)`` can read it)."""
    torch = _torch()
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    torch.save({"config": module.config, "state_dict": module.state_dict(), "meta": meta}, tmp)
    tmp.replace(p)  # atomic: a run reading a cached classifier never sees half a file
    return p


#: Limits of integer config values read from a file, checked before anything is allocated.
CONFIG_LIMITS = {
    "in_channels": (1, 16),
    "n_classes": (1, 10_000),
    "width": (1, 512),
    "size": (4, 1024),
    "hidden": (1, 65_536),
    "stages": (2, 8),
}
#: The most parameters a loaded network may have (a 1.3 KB file used to allocate 1.7 GB).
MAX_PARAMETERS = 50_000_000


def check_config(config: Any, where: str) -> dict[str, Any]:
    """A saved config with a known architecture, only that constructor's arguments, every size within
    :data:`CONFIG_LIMITS` and at most :data:`MAX_PARAMETERS` parameters (counted on torch's ``meta``
    device, which allocates nothing), else an :class:`InputError` — before any tensor is allocated."""
    import inspect

    torch = _torch()
    if not isinstance(config, dict):
        raise InputError(f"{where}: config is a {type(config).__name__}, not a dict")
    cfg = dict(config)
    arch = cfg.pop("arch", "cnn")
    if arch not in ARCHITECTURES:
        raise InputError(f"{where}: unknown architecture {arch!r}; known: {tuple(ARCHITECTURES)}")
    known = set(inspect.signature(ARCHITECTURES[arch]).parameters)
    bad = sorted(set(cfg) - known, key=str)
    if bad:
        raise InputError(f"{where}: unknown config key {bad[0]!r} for {arch!r}; known: {sorted(known)}")
    for k, v in cfg.items():
        if k in CONFIG_LIMITS:
            lo, hi = CONFIG_LIMITS[k]
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise InputError(f"{where}: config {k}={v!r} is not an integer in {lo}..{hi}")
    if cfg.get("activation", "relu") not in ACTIVATIONS:
        raise InputError(f"{where}: config activation={cfg.get('activation')!r} is not one of {tuple(ACTIVATIONS)}")
    if cfg.get("pool", "flatten") not in ("flatten", "max", "avg") or not isinstance(cfg.get("batchnorm", False), bool):
        raise InputError(f"{where}: config pool={cfg.get('pool')!r} / batchnorm={cfg.get('batchnorm')!r} is not valid")
    with torch.device("meta"):
        n = sum(p.numel() for p in ARCHITECTURES[arch](**cfg).parameters())
    if n > MAX_PARAMETERS:
        raise InputError(f"{where}: config asks for {n:,} parameters, above the limit of {MAX_PARAMETERS:,}")
    return {"arch": arch, **cfg}


def load_classifier(path: str | Path) -> Any:
    """A network saved by :func:`save_classifier`, in eval mode (``.meta`` holds what was saved with it)."""
    torch = _torch()
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such model file")
    try:
        d = torch.load(p, weights_only=True)
        net = build_classifier(check_config(d["config"], str(p)))
        net.load_state_dict(d["state_dict"])
    except InputError:
        raise
    except (KeyError, RuntimeError, TypeError, EOFError, ValueError, AttributeError, pickle.UnpicklingError) as exc:
        raise InputError(f"{p}: not a model saved by peephole_lab.data.save_classifier ({type(exc).__name__})") from exc
    net.meta = d.get("meta", {})
    return net.eval()
