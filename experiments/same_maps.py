"""Maps of 58 seeded explanations whose queries keep many parts at once (LIME, KernelSHAP, pami-path over windows,
one and several superpixel segmentations, ``density``, ``weigh_groups``; texts and sequences) and of keep-one PAMI
over the paper's 20 segmentations (Strategy II, adaptive, second run), saved to compare two versions of Peephole:
a change to how coalition masks are built, or to how segmentations are made or kept, must leave every map
bit-identical. Each Strategy II case runs twice, so the second finds its segmentations kept.

    git archive BASE src | tar -x -C /tmp/base        # the version to compare against
    PYTHONPATH=/tmp/base/src python experiments/same_maps.py save /tmp/base.npz
    PYTHONPATH=src python experiments/same_maps.py save /tmp/new.npz
    python experiments/same_maps.py compare /tmp/base.npz /tmp/new.npz
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

W = {"partition": "window", "radius": 8, "stride": 4}


def model(b: np.ndarray) -> np.ndarray:
    b = np.asarray(b, np.float64)
    s = np.stack([b[:, 5:30, 10:40].mean((1, 2, 3)), b[:, 30:60, 20:70].mean((1, 2, 3)) ** 2, b[:, :, :, 0].mean((1, 2))], 1)
    return (s + 0.1) / (s + 0.1).sum(1, keepdims=True)


def cases() -> list[tuple[str, str, dict, int]]:
    out = []
    for seed in (0, 3):
        for m in ("lime", "kernel-shap"):
            for o in (W, {**W, "window": "square"}, {}, {"partition": "slic"}, {"density": True}, {"weigh_groups": True, **W}):
                out.append(("image", m, {"n_samples": 60, **o}, seed))
            out.append(("image", m, {"n_samples": 60, "density": True, **W}, seed))
        for o in ({}, W, {"partition": "slic", "candidates": 5}):
            out.append(("image", "pami-path", {"n_samples": 30, "max_queries": 120, **o}, seed))
        for o in ({}, {"max_queries": 40}, {"second_run": True}) * 2:
            out.append(("image", "pami", {"partition": "superpixels", **o}, seed))
        for mod in ("text", "sequence"):
            for m in ("lime", "kernel-shap", "pami-path"):
                out.append((mod, m, {"n_samples": 30, "max_queries": 60} if m == "pami-path" else {"n_samples": 30}, seed))
    return out


def save(path: str) -> None:
    import peephole

    sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "fixtures"))
    from tiny_inputs import INPUTS

    x = np.random.default_rng(0).random((64, 72, 3)).astype(np.float32)
    arrays = {}
    for i, (mod, method, opts, seed) in enumerate(cases()):
        try:
            if mod == "image":
                e = peephole.explain(model, x, method, output="probs", seed=seed, top_k=2, **opts)
            else:
                fn, item, kw = INPUTS[mod]
                e = peephole.explain(fn, item, method, seed=seed, **kw, **opts)
        except peephole.InputError as exc:  # a case a version refuses: the same refusal counts as the same
            arrays[f"maps{i}"] = arrays[f"scores{i}"] = np.array(f"InputError: {exc}")
            continue
        arrays[f"maps{i}"], arrays[f"scores{i}"] = np.asarray(e.maps), np.asarray(e.scores)
    np.savez(path, **arrays)
    print(f"{len(cases())} cases saved to {path}")


def compare(a: str, b: str) -> None:
    x, y = np.load(a), np.load(b)
    differ = [
        (i, c) for i, c in enumerate(cases()) if any(not np.array_equal(x[f"{k}{i}"], y[f"{k}{i}"]) for k in ("maps", "scores"))
    ]
    for i, c in differ:
        a, b = x[f"maps{i}"], y[f"maps{i}"]
        print("differs:", c, float(np.abs(a - b).max()) if a.shape == b.shape and a.dtype.kind == "f" else f"{a} | {b}")
    refused = sum(x[f"maps{i}"].dtype.kind == "U" for i in range(len(cases())))
    print(f"{len(cases()) - len(differ)} of {len(cases())} cases bit-identical (maps, outputs; {refused} refused by the first)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("save").add_argument("path")
    c = sub.add_parser("compare")
    c.add_argument("a")
    c.add_argument("b")
    args = ap.parse_args()
    save(args.path) if args.cmd == "save" else compare(args.a, args.b)


if __name__ == "__main__":
    main()
