"""The wide trojan zoo (``peephole_lab.data.zoo``, ``wide=True``): train a stratified subset, scan every kept model
with each detector, and report leave-one-family-out rates (Wilson 95 % intervals, ROC AUC) of the raw and the
calibrated decision rules.

The full wide grid is 90 pairs (9 architecture × 10 trigger families, ``zoo_specs(90, seed, wide=True)``: pair
``i`` has architecture ``i % 9`` and trigger family ``i // 9``). ``--stride s`` keeps, for every trigger family
``p``, the pairs ``9p + (p + s·j) % 9`` for ``j = 0 .. per_family − 1``: every trigger family ``per_family`` times,
the architectures in a Latin-square rotation. Each member's training (``train_member``) and each scan are cached
under ``--root`` (per model: ``scans/DETECTOR/NAME.json``), so a killed run resumes (delete ``locks/`` first);
several workers started side by side share the tasks through lock files.

    python experiments/backdoor_wide.py run --root /work/runs/wide-zoo --extra 36  # several at once
    python experiments/backdoor_wide.py report --root /work/runs/wide-zoo --out wide.json
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, replace
from pathlib import Path

DETECTORS = ("input-agnostic", "neural-cleanse", "tabor")
#: architecture families from the cheapest to scan to the dearest (measured on this machine)
COST = ("mlp", "mlp-tanh", "mlp-gelu", "strided-cnn", "lenet", "cnn", "cnn-bn-gap", "resnet", "deep-cnn")


def pairs(per_family: int, stride: int) -> list[int]:
    return sorted({9 * p + (p + stride * j) % 9 for p in range(10) for j in range(per_family)})


def scan(member, detector: str, seed: int):
    """One model's :class:`ModelResult` under ``detector`` with its documented defaults."""
    from peephole_lab.systems.backdoor_eval import evaluate, evaluate_detector

    if detector == "tabor":
        from peephole_lab.systems.tabor import tabor

        return evaluate([member], lambda net: tabor(net, seed=seed), "tabor")[""].results[0]
    return evaluate_detector([member], detector, seed=seed)[""].results[0]


def claim(path: Path) -> bool:
    """Take ``path`` as a lock (False when another worker holds it)."""
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL))
        return True
    except FileExistsError:
        return False


def run(args: argparse.Namespace) -> None:
    """Work through (pair, detector) tasks, detectors in the given order for every pair before the next detector;
    every task is claimed with a lock file, so several workers share the list (a task that fails frees its lock)."""
    import torch

    from peephole_lab.data.zoo import train_member, zoo_specs

    torch.set_num_threads(1)
    root = Path(args.root)
    chosen = sorted(set(pairs(args.per_family, args.stride)) | set(args.extra))
    specs = [m for m in zoo_specs(90, args.seed, wide=True) if m.pair in chosen]
    specs.sort(key=lambda m: COST.index(m.arch))  # cheap networks first: more models scanned if time runs out
    print(f"pairs {chosen}", flush=True)
    trained: dict[str, object] = {}
    for det in args.detectors:
        for m in specs:
            out = root / "scans" / det / f"{m.name}.json"
            if out.exists() or not claim(root / "locks" / f"{det}-{m.name}"):
                continue
            if m.name not in trained:
                t = time.time()
                trained[m.name] = mm = train_member(m, root)  # cached: a worker that finds the file loads it
                acc, asr = mm.clean_accuracy, mm.attack_success
                print(f"{m.name}: {time.time() - t:.0f} s, acc {acc:.3f}, attack {asr:.3f}, kept {mm.kept}", flush=True)
            mm = trained[m.name]
            if not mm.kept:
                continue
            t = time.time()
            try:
                r = scan(mm, det, args.seed)
            except Exception as exc:  # noqa: BLE001 - report, free the task, go on
                print(f"  {m.name} {det}: failed ({exc!r})", flush=True)
                (root / "locks" / f"{det}-{m.name}").unlink()
                continue
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(asdict(r), default=float))
            print(f"  {m.name} {det}: {time.time() - t:.0f} s, score {r.score():.2f}", flush=True)


def load(root: Path, detector: str):
    from peephole_lab.systems.backdoor_eval import ModelResult

    return [ModelResult(**json.loads(p.read_text())) for p in sorted((root / "scans" / detector).glob("*.json"))]


def report(args: argparse.Namespace) -> None:
    from peephole_lab.systems.backdoor import THRESHOLD
    from peephole_lab.systems.backdoor_calibration import fit_combiner, fit_reference, merge
    from peephole_lab.systems.backdoor_eval import interval_rates, leave_one_family_out, lofo_summary

    root = Path(args.root)
    res = {d: load(root, d) for d in DETECTORS}
    both = {r.name for r in res["input-agnostic"]} & {r.name for r in res["neural-cleanse"]}
    if args.common:  # the same models for every rule
        names = both & ({r.name for r in res["tabor"]} if res["tabor"] else both)
        res = {d: [r for r in v if r.name in names] for d, v in res.items()}
    rules = {
        "input-agnostic (fixed threshold 6)": (res["input-agnostic"], None, THRESHOLD),
        "neural-cleanse (fixed threshold 2)": (res["neural-cleanse"], None, 2.0),
        "tabor (fixed threshold 2)": (res["tabor"], None, 2.0),
        "input-agnostic, threshold tuned on seen families": (res["input-agnostic"], None, None),
        "neural-cleanse, threshold tuned on seen families": (res["neural-cleanse"], None, None),
        "tabor, threshold tuned on seen families": (res["tabor"], None, None),
        "input-agnostic, clean reference per architecture": (res["input-agnostic"], fit_reference, None),
        "neural-cleanse, clean reference per architecture": (res["neural-cleanse"], fit_reference, None),
        "combined (logistic: input-agnostic anomaly + fidelity)": (
            merge(res["input-agnostic"], [replace(r, anomaly=r.measures["fidelity"]) for r in res["input-agnostic"]]),
            fit_combiner,
            None,
        ),
        "combined (logistic: input-agnostic + neural-cleanse)": (
            merge(res["input-agnostic"], res["neural-cleanse"]),
            fit_combiner,
            None,
        ),
    }
    out = {}
    for name, (results, cal, fixed) in rules.items():
        if not results:
            continue
        for by in args.by:
            if fixed is not None:
                fams = sorted({str(r.attributes[by]) for r in results})
                folds = {f: interval_rates([r for r in results if str(r.attributes[by]) == f], fixed) for f in fams}
                pooled = interval_rates(results, fixed)
                lofo = {"by": by, "folds": folds, "pooled": pooled, "fixed_threshold": fixed}
            else:
                lofo = leave_one_family_out(results, by, args.max_false_alarms, cal)
            print(f"== {name} ({len(results)} models)")
            print(lofo_summary(lofo))
            out[f"{name} | by {by}"] = lofo
    merged = rules["combined (logistic: input-agnostic + neural-cleanse)"][0]
    if merged:  # the shipped combiner: the same procedure fitted on every model (systems/backdoor_combined.py)
        from peephole_lab.systems.backdoor_eval import tune_threshold

        comb = fit_combiner(merged)
        th = tune_threshold(comb(merged), args.max_false_alarms)
        out["fit on every model"] = {"weights": comb.weights(), "threshold": th, "n_models": len(merged)}
        print(f"fit on all {len(merged)} models: weights {comb.weights()}, tuned threshold {th:.3f}")
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=1, default=float))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--root", required=True)
    r.add_argument("--per-family", type=int, default=1, help="pairs per trigger family (default 1: 10 pairs)")
    r.add_argument("--stride", type=int, default=4)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--extra", type=int, nargs="*", default=[], help="further pairs of the 90-pair grid")
    r.add_argument("--detectors", nargs="+", default=list(DETECTORS), choices=DETECTORS)
    r.set_defaults(func=run)
    p = sub.add_parser("report")
    p.add_argument("--root", required=True)
    p.add_argument("--by", nargs="+", default=["pattern", "arch"])
    p.add_argument("--max-false-alarms", type=float, default=1 / 6)
    p.add_argument("--common", action="store_true", help="only the models every detector scanned")
    p.add_argument("--out", default=None)
    p.set_defaults(func=report)
    args = ap.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
