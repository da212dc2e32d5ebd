"""Randomisation checks of the image methods on EfficientNet-Lite0 (issue 27, docs/results.md "Randomisation checks"):
model-parameter randomisation (MPRT, Adebayo et al. 2018: the network re-initialised from the output down, the map
compared with the trained network's at a few depths) and random logit (Sixt et al. 2020: the map of a random other
class against the explained class's), per photo and method. A map that passes changes: ρ well below 1.

Photos: the first N of the test split in its seed-0 permutation (the cards' order), each explaining the model's top-1
class; every method at 500 queries (``budget_options``, as the budget table); the torch network (the same weights
as the cards' ONNX export) for every method, so the randomised copy is what every method queries.

    PYTHONPATH=src python experiments/randomisation.py ../shared/data/imagenet-sample --limit 10 --out rows.jsonl
    python experiments/randomisation.py --summary rows.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from time import perf_counter

import numpy as np

#: cascade depths compared (from the output): the classifier, the head convolution, blocks 8-15, everything
LAYERS = ("_fc", "_conv_head", "_blocks.8._expand_conv", "_conv_stem")
METHODS = ("pami-path", "lime", "kernel-shap", "rise", "rise-centred", "hsic", "sobol", "gradcam", "centre")
BUDGET = 500


def torch_model(net):
    """``net`` as the cards' torch backend wraps EfficientNet-Lite0 (resize, TF-Lite normalisation, logits)."""
    from peephole.models.efficientnet import INPUT_SIZE, TFLITE_MEAN_STD
    from peephole.models.imagenet import imagenet_class_names
    from peephole.models.preprocess import ImagePreprocess
    from peephole.models.torch import TorchModel

    pre = ImagePreprocess(size=INPUT_SIZE, mean=TFLITE_MEAN_STD[0], std=TFLITE_MEAN_STD[1])
    return TorchModel(net, output="logits", preprocess=pre, class_names=imagenet_class_names(), batch_size=16)


def maker_for(net, methods):
    """A harness MapMaker whose every backend is ``net`` (so perturbation, gradient and Score-CAM methods query it)."""
    from peephole.evaluation.card import budget_options
    from peephole.evaluation.methods import MapMaker

    model = torch_model(net)
    return MapMaker(options=budget_options(methods, BUDGET), _models={"onnx": model, "torch": model})


def rows_for(sample, index, net, methods):
    """One row per method: ρ at each of :data:`LAYERS` and the random-logit ρ."""
    from peephole.metrics.randomisation import mprt
    from peephole.metrics.stability import rank_correlation

    logits = maker_for(net, methods).model("torch")(sample.image[None])[0]
    target = int(np.argmax(logits))
    other = int(np.random.default_rng(index).choice([k for k in range(len(logits)) if k != target]))
    for m in methods:
        t0 = perf_counter()

        def explain(model, m=m, target=target):
            return maker_for(model, methods)(m, sample.image, target, index).map

        cascade = dict(mprt(net, explain, seed=0, layers=list(LAYERS)))
        rho_logit = rank_correlation(explain(net), explain(net, target=other))
        yield {
            "photo": sample.name,
            "method": m,
            "target": target,
            "other": other,
            "mprt": {k: round(float(cascade[k]), 6) for k in LAYERS},
            "random_logit": round(float(rho_logit), 6),
            "seconds": round(perf_counter() - t0, 1),
        }


def summary(paths: list[Path]) -> list[str]:
    """Markdown rows: per method, mean ± s.e. of ρ at each depth and of the random-logit ρ, and the photo count."""
    rows = [json.loads(line) for p in paths for line in p.read_text().splitlines() if line.strip()]
    methods = [m for m in METHODS if any(r["method"] == m for r in rows)]
    out = []
    for m in methods:
        mine = [r for r in rows if r["method"] == m]
        cells = [np.array([r["mprt"][k] for r in mine]) for k in LAYERS] + [np.array([r["random_logit"] for r in mine])]
        text = [f"{c.mean():+.3f} ± {c.std(ddof=1) / np.sqrt(len(c)):.3f}" for c in cells]
        out.append(f"| {m} | {len(mine)} | " + " | ".join(text) + " |")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", nargs="?", help="an ImageNet sample folder (labels.csv)")
    p.add_argument("--limit", type=int, default=10, help="photos (the first of the test split's seed-0 permutation)")
    p.add_argument("--skip", type=int, default=0, help="photos to pass over first")
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--out", type=Path, help="JSON lines, appended; photo/method pairs already there are not made again")
    p.add_argument("--summary", nargs="+", type=Path, help="print the table of these row files instead")
    args = p.parse_args()
    if args.summary:
        print("\n".join(summary(args.summary)))
        return
    from peephole.evaluation.card import folder_samples
    from peephole.models.efficientnet import efficientnet_lite0_module

    methods = args.methods.split(",")
    done = set()
    if args.out.exists():
        done = {(r["photo"], r["method"]) for r in map(json.loads, args.out.read_text().splitlines())}
    net = efficientnet_lite0_module()
    for index, sample in enumerate(folder_samples(args.data, "test", shuffle=0)):
        if index >= args.limit:
            break
        todo = [m for m in methods if (sample.name, m) not in done]
        if index < args.skip or not todo:
            continue
        for row in rows_for(sample, index, net, todo):
            with args.out.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(index + 1, row, flush=True)


if __name__ == "__main__":
    main()
