"""Does a restored trigger transfer to clean models the scan never saw? (issue 28; the statistic of the default scan,
``peephole_lab.systems.trigger_transfer``.)

The gap rule's false alarms are clean models whose smallest restored mask is as small as a trigger's. If such a mask
is a natural feature of the digit class, it also sends held-out images to the class on *other* clean models; a
backdoor's trigger does not. Per class c among the three with the smallest kept masks, c's restored trigger is
re-searched with the zoo's seed (TABOR seeds each class with ``seed + c``: the kept mask comes back; each row records
both sizes) and stamped on 1,000 MNIST test images of other classes; transfer is the fraction that each reference
clean model labels c (``trigger_transfer``).

Three sets of rows: ``rows-pilot.jsonl`` (the plans' evidence: experiments/trigger_transfer/PLAN.md and
experiments/blind_zoo6/PLAN.md; made at 02f5558–b0be7e7 with references built before their seed was set),
``rows.jsonl`` (the first release's three references, ``--seeds 1``, seeded before the network is built) and
``rows-nine.jsonl`` (the nine shipped references, ``--seeds 3``, the default; zoos 2–9; the first three columns are
``rows.jsonl``'s):

    python experiments/trigger_transfer.py run --zoo 2 /work/runs/blind-zoo2 experiments/blind_zoo2/rerun \
        --zoo 3 /work/runs/blind-zoo3 experiments/blind_zoo3 --zoo 4 /work/runs/blind-zoo4 experiments/blind_zoo4 \
        --zoo 5 /work/runs/blind-zoo5 experiments/blind_zoo5 --zoo 6 /work/runs/blind-zoo6 experiments/blind_zoo6 \
        --zoo 7 /work/runs/blind-zoo7 experiments/blind_zoo7 \
        --refs /work/runs/transfer-references --out experiments/trigger_transfer/rows-nine.jsonl
    python experiments/trigger_transfer.py summary experiments/trigger_transfer/rows-nine.jsonl
    python experiments/trigger_transfer.py check --zoo 2 experiments/blind_zoo2/rerun --zoo 3 experiments/blind_zoo3 \
        --zoo 4 experiments/blind_zoo4 --zoo 5 experiments/blind_zoo5 --zoo 6 experiments/blind_zoo6 \
        --zoo 7 experiments/blind_zoo7 --rows experiments/trigger_transfer/rows-nine.jsonl

``check``: every rule of :data:`RULES` on every zoo at the shipped threshold (gap-natural-nine is the default scan;
gap-natural-class at :data:`THRESHOLDS`), and leave one trigger / architecture family out on the zoos pooled (one
false alarm allowed per fold; for the default rule also T5, 5 % of the seen clean models); ``--new SEED``: that
zoo's models at the T5 thresholds of folds fitted on the other zoos only (experiments/blind_zoo10/PLAN.md's (A)).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from functools import cache
from pathlib import Path

import numpy as np


def run(args: argparse.Namespace) -> None:
    import torch

    from peephole_lab.data.zoo import load_classifier
    from peephole_lab.systems.tabor import tabor
    from peephole_lab.systems.trigger_transfer import CANDIDATES, REFERENCES, reference_models, trigger_transfer

    torch.set_num_threads(1)
    refs = reference_models(args.refs, REFERENCES[: FIRST * args.seeds])
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
            classes = [int(c) for c in np.argsort(base["measures"]["mask_l1"], kind="stable")[:CANDIDATES]]
            t = time.perf_counter()
            r = tabor(load_classifier(path), classes=classes, seed=int(seed))
            transfer = trigger_transfer(r.extras["masks"], r.extras["patterns"], classes, refs)
            row = {
                "name": name,
                "trojan": base["trojan"],
                "target": base["target"],
                "base": base["measures"]["mask_l1"],
                "classes": classes,
                "rescanned": [float(v) for v in r.measures["mask_l1"]],
                "transfer": transfer.tolist(),
                "seconds": round(time.perf_counter() - t, 1),
            }
            with out.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(name, f"{row['seconds']:.0f} s", flush=True)


def summary(args: argparse.Namespace) -> None:
    from peephole_lab.systems.tabor import GAP_THRESHOLD, gap_anomaly

    rows = [json.loads(line) for line in Path(args.rows).read_text().splitlines()]
    print("model                              smallest  mask px  gap   flagged  transfer (refs)          target's transfer")
    for r in rows:
        a = gap_anomaly(r["base"], 784)
        c = int(np.argmax(a))
        i = r["classes"].index(c)
        tt = ""
        if r["trojan"] and r["target"] in r["classes"]:
            tt = f"{np.mean(r['transfer'][r['classes'].index(r['target'])]):.3f}"
        print(
            f"{r['name']:34s} {c:8d}  {r['base'][c]:7.1f}  {a[c]:4.2f}  {str(a[c] > GAP_THRESHOLD):7s}  "
            f"{np.mean(r['transfer'][i]):.3f} {np.round(r['transfer'][i], 2).tolist()}  {tt}"
        )


def rescored(r, row: dict, rule: str):
    """The kept TABOR scan ``r`` re-scored by ``rule`` (:data:`RULES`): ``'gap'`` the gap rule's statistic;
    ``'gap-transfer'`` natural classes not eligible (trigger_transfer/PLAN.md); ``'gap-natural'`` natural classes not
    eligible and left out of every other class's gap (blind_zoo6/PLAN.md; the library's ``natural_rule``), with the
    transfer averaged over the rows' first :data:`FIRST` references or, for the rules of :data:`AVERAGES`, over all
    nine."""
    from peephole_lab.systems.tabor import gap_anomaly
    from peephole_lab.systems.trigger_transfer import GATE, natural_anomaly

    size = np.asarray(r.measures["mask_l1"], np.float64)
    nat = np.zeros(len(size), bool)
    if rule != "gap":
        average, n_refs = AVERAGES.get(rule, (np.mean, FIRST))
        for c, t in zip(row["classes"], row["transfer"]):
            nat[r.targets.index(c)] = float(average(t[:n_refs])) >= GATE
    if rule == "gap-natural-class":
        size = class_scaled(size, r.targets)
    anomaly = natural_anomaly(size, nat, 784) if rule.startswith("gap-natural") else gap_anomaly(size, 784)
    return replace(r, anomaly=anomaly.tolist(), eligible=[bool(e and not n) for e, n in zip(r.eligible, nat)])


RULES = ("gap", "gap-transfer", "gap-natural", "gap-natural-median", "gap-natural-nine", "gap-natural-class")
#: how the rules over nine references (``run --seeds 3``) average a class's transfer: PLAN-next.md's median candidate
#: and blind_zoo7/PLAN.md's mean (the default scan since); every other rule takes the mean over the rows' first
#: :data:`FIRST` columns, the three references of the first release (seeds 9001-9003)
AVERAGES = {
    "gap-natural-median": (np.median, None),
    "gap-natural-nine": (np.mean, None),
    "gap-natural-class": (np.mean, None),
}
FIRST = 3
#: fixed thresholds other than the shipped GAP_THRESHOLD: blind_zoo8/PLAN.md's (at most one false alarm among the
#: eight zoos' 95 clean models)
THRESHOLDS = {"gap-natural-class": 3.622}
#: the default scan's rule (the one T5, ``peephole_lab.systems.backdoor_eval.T5``, is reported for)
DEFAULT_RULE = "gap-natural-nine"
#: TABOR's restored mask size of every class on each of the nine references (seed 0; blind_zoo8/PLAN.md)
REFERENCE_SIZES = Path(__file__).parent / "blind_zoo8" / "reference_sizes.json"


@cache
def _reference_log_sizes() -> np.ndarray:
    """``g_c``: the references' mean log mask size of each class (read once)."""
    return np.log(np.asarray(list(json.loads(REFERENCE_SIZES.read_text()).values()), np.float64)).mean(0)


def class_scaled(size: np.ndarray, targets: list[int]) -> np.ndarray:
    """blind_zoo8/PLAN.md's candidate: each class's mask size divided by how large the references restore that
    class, ``L_c · exp(ḡ − g_c)`` with ``g_c`` the references' mean log size of class c and ``ḡ`` the mean of g."""
    g = _reference_log_sizes()
    return size * np.exp(g.mean() - g[list(targets)])


def evaluate(zoos: list[tuple[str, str]], rows: list[dict]) -> dict:
    """The plans' check: per zoo at the shipped threshold (or :data:`THRESHOLDS`), and pooled leave-one-family-out,
    for every rule of :data:`RULES` (those of :data:`AVERAGES` only on rows made with nine references)."""
    from peephole_lab.systems.backdoor_eval import T5, ModelResult, interval_rates, leave_one_family_out
    from peephole_lab.systems.tabor import GAP_THRESHOLD

    by_name = {r["name"]: r for r in rows}
    out: dict = {"zoos": {}, "pooled": {}, "transfer": {}, "results": {}}
    nine = all(len(t) > FIRST for r in rows for t in r["transfer"])
    rules: dict[str, list] = {rule: [] for rule in RULES if nine or rule not in AVERAGES}
    for seed, scans in zoos:
        kept = [ModelResult(**json.loads(p.read_text())) for p in sorted((Path(scans) / "scans" / "tabor").glob("*.json"))]
        kept = [r for r in kept if f"zoo{seed}/{r.name}" in by_name]
        for rule in rules:
            res = [replace(rescored(r, by_name[f"zoo{seed}/{r.name}"], rule), name=f"zoo{seed}/{r.name}") for r in kept]
            out["zoos"][f"zoo{seed} {rule}"] = interval_rates(res, THRESHOLDS.get(rule, GAP_THRESHOLD))
            rules[rule] += res
    out["results"] = rules
    for rule, res in rules.items():
        out["zoos"][f"pooled {rule}"] = interval_rates(res, THRESHOLDS.get(rule, GAP_THRESHOLD))
        for by in ("pattern", "arch"):
            out["pooled"][f"{rule} by {by}"] = leave_one_family_out(res, by, 0.0, max_false_alarms=1)["pooled"]
            if rule == DEFAULT_RULE:
                t5 = leave_one_family_out(res, by, max_false_alarm_rate=T5[0], max_false_alarms=T5[1])
                out["pooled"][f"{rule} T5 by {by}"] = t5["pooled"]
    troj = [r for r in rows if r["trojan"]]
    out["transfer"] = {
        "targets (among the 3 smallest)": [
            float(np.mean(r["transfer"][r["classes"].index(r["target"])])) for r in troj if r["target"] in r["classes"]
        ],
        "targets not among the 3 smallest": sum(r["target"] not in r["classes"] for r in troj),
        "clean models' smallest class": [float(np.mean(r["transfer"][0])) for r in rows if not r["trojan"]],
    }
    return out


def frozen_folds(results: list, new: str, by: str) -> dict:
    """blind_zoo10/PLAN.md's (A): each model of zoo ``new`` at the T5 threshold fitted on the other zoos' models
    outside its family (``by``), so neither the zoo nor the family was seen; ``'thresholds'``: family -> threshold."""
    from peephole_lab.systems.backdoor_eval import T5, family_of, interval_rates, tune_threshold

    seen = [r for r in results if not r.name.startswith(f"zoo{new}/")]
    fresh = [r for r in results if r.name.startswith(f"zoo{new}/")]
    ths = {f: tune_threshold([r for r in seen if family_of(r, by) != f], *T5) for f in {family_of(r, by) for r in results}}
    flagged = [replace(r, anomaly=[a - ths[family_of(r, by)] for a in r.anomaly]) for r in fresh]
    return {"thresholds": ths, **interval_rates(flagged, 0.0)}


def check(args: argparse.Namespace) -> None:
    rows = [json.loads(line) for f in args.rows for line in Path(f).read_text().splitlines()]
    out = evaluate(args.zoo, rows)
    if args.new:
        for by in ("pattern", "arch"):
            out["zoos"][f"zoo{args.new} T5 frozen by {by}"] = frozen_folds(out["results"][DEFAULT_RULE], args.new, by)
    out.pop("results")
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
    r.add_argument("--seeds", type=int, default=3, help="references per family (3: the shipped nine; 1: the first three)")
    r.add_argument("--out", required=True)
    s = sub.add_parser("summary")
    s.add_argument("rows")
    c = sub.add_parser("check")
    c.add_argument("--zoo", nargs=2, action="append", required=True, metavar=("SEED", "SCANS"))
    c.add_argument("--rows", nargs="+", required=True)
    c.add_argument("--new", default="", help="a zoo's seed: its models at frozen T5 fold thresholds (blind_zoo10/PLAN.md)")
    c.add_argument("--out", default="")
    args = ap.parse_args()
    {"run": run, "summary": summary, "check": check}[args.cmd](args)


if __name__ == "__main__":
    main()
