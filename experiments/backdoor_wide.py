"""The wide trojan zoo (``peephole_lab.data.zoo``, ``wide=True``): train a stratified subset, scan every kept model
with each detector, and report leave-one-family-out rates (Wilson 95 % intervals, ROC AUC) of the raw and the
calibrated decision rules.

The full wide grid is 90 pairs (9 architecture × 10 trigger families, ``zoo_specs(90, seed, wide=True)``: pair
``i`` has architecture ``i % 9`` and trigger family ``i // 9``). ``--stride s`` keeps, for every trigger family
``p``, the pairs ``9p + (p + s·j) % 9`` for ``j = 0 .. per_family − 1``: every trigger family ``per_family`` times,
the architectures in a Latin-square rotation. Each member's training (``train_member``) and each scan are cached
under ``--root`` (per model: ``scans/DETECTOR/NAME.json``), so a killed run resumes (delete ``locks/`` first);
several workers started side by side share the tasks through lock files.

    python experiments/backdoor_wide.py run --root /work/runs/wide-zoo --extra 36 63  # several at once
    python experiments/backdoor_wide.py report --root /work/runs/wide-zoo --common --out wide.json

``report`` evaluates every rule of :func:`rules` and ranks them by :data:`CRITERION`; the first was the default scan
from 2026-12-03 (``tabor-calibrated``). The 2026-12-03 subset's scans are kept in ``experiments/wide_zoo/scans``
(copied from ``--root``): ``report --root experiments/wide_zoo --common`` reproduces docs/systems.md's table.
``search`` ranks the per-class statistics of TABOR's measures (:data:`STATISTICS`) on the wide and fresh zoos pooled
by the same criterion (its winner is the default scan, ``tabor-size``); ``blind`` applies the fixed rules to a zoo
none was fitted on (``--root experiments/blind_zoo2``); ``pooled`` reports the default scan, TABOR and Neural
Cleanse leave-one-family-out on several zoos together (``--roots experiments/*_zoo*``); ``thresholds`` compares a
plan's candidate statistics and threshold procedures on such sets (``--plan threshold_rule`` or ``gap_rule``:
experiments/threshold_rule/PLAN.md and experiments/gap_rule/PLAN.md).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

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
    done = {det: len(list((root / "scans" / det).glob("*.json"))) for det in args.detectors}
    print(f"done: no task left to claim; scans kept per detector {done}", flush=True)


def load(root: Path, detector: str):
    from peephole_lab.systems.backdoor_eval import ModelResult

    return [ModelResult(**json.loads(p.read_text())) for p in sorted((root / "scans" / detector).glob("*.json"))]


#: how the default decision rule is picked among the report's rules — written down before the leave-one-family-out
#: numbers of the TABOR-based candidates were computed (2026-12-03, ~18:15 UTC; TABOR's raw per-model scores on 19 of
#: the 22 models had been seen)
CRITERION = (  # applied by peephole_lab.systems.backdoor_eval.rank_rules
    "on the models every detector scanned (--common), leaving one trigger family out and one architecture family "
    "out: the number of the issue's targets met by the pooled unseen-family counts (detection >= 5/6, false alarms "
    "<= 1/6, ROC AUC >= 0.9), summed over both groupings (0-6); ties: the larger mean over both groupings of "
    "detection rate - false-alarm rate; then the larger mean AUC; then the fewer detectors to run"
)


def rules(res: dict) -> dict:
    """name -> (results, calibrate, fixed threshold or None, false-alarm budget when tuning, detectors run)."""
    from peephole_lab.systems.backdoor import THRESHOLD
    from peephole_lab.systems.backdoor_calibration import fit_class_reference, fit_combiner, fit_reference, merge

    ia, nc, tb = res["input-agnostic"], res["neural-cleanse"], res["tabor"]
    fid = [replace(r, anomaly=r.measures["fidelity"]) for r in ia]
    return {
        "input-agnostic (fixed threshold 6)": (ia, None, THRESHOLD, None, 1),
        "neural-cleanse (fixed threshold 2)": (nc, None, 2.0, None, 1),
        "tabor (fixed threshold 2)": (tb, None, 2.0, None, 1),
        "input-agnostic, threshold tuned on seen families": (ia, None, None, 1 / 6, 1),
        "neural-cleanse, threshold tuned on seen families": (nc, None, None, 1 / 6, 1),
        "tabor, threshold tuned on seen families": (tb, None, None, 1 / 6, 1),
        "tabor, threshold tuned on seen families at 0 false alarms": (tb, None, None, 0.0, 1),
        "input-agnostic, clean reference per architecture": (ia, fit_reference, None, 1 / 6, 1),
        "neural-cleanse, clean reference per architecture": (nc, fit_reference, None, 1 / 6, 1),
        "tabor, clean reference per architecture": (tb, fit_reference, None, 1 / 6, 1),
        "tabor, clean reference per class": (tb, fit_class_reference, None, 1 / 6, 1),
        "combined (logistic: input-agnostic anomaly + fidelity)": (merge(ia, fid), fit_combiner, None, 1 / 6, 1),
        "combined (logistic: input-agnostic + neural-cleanse)": (merge(ia, nc), fit_combiner, None, 1 / 6, 2),
        "combined (logistic: tabor + input-agnostic)": (merge(tb, ia), fit_combiner, None, 1 / 6, 2),
        "combined (logistic: tabor + neural-cleanse)": (merge(tb, nc), fit_combiner, None, 1 / 6, 2),
        "combined (logistic: tabor + input-agnostic + neural-cleanse)": (merge(tb, ia, nc), fit_combiner, None, 1 / 6, 3),
    }


def report(args: argparse.Namespace) -> None:
    from peephole_lab.systems.backdoor_eval import (
        interval_rates,
        leave_one_family_out,
        lofo_summary,
        rank_rules,
        tune_threshold,
    )

    root = Path(args.root)
    res = {d: load(root, d) for d in DETECTORS}
    if args.common:  # the same models for every rule
        names = set.intersection(*({r.name for r in v} for v in res.values() if v))
        res = {d: [r for r in v if r.name in names] for d, v in res.items()}
    missing = sorted({r.name for v in res.values() for r in v} - set.intersection(*({r.name for r in v} for v in res.values())))
    print(f"models: {', '.join(f'{d} {len(v)}' for d, v in res.items())}; not scanned by every detector: {missing or 'none'}")
    out: dict = {"criterion": CRITERION, "rules": {}}
    pooled: dict[str, dict[str, dict]] = {}
    table = rules(res)
    for name, (results, cal, fixed, budget, _) in table.items():
        if not results:
            continue
        for by in args.by:
            if fixed is not None:
                fams = sorted({str(r.attributes[by]) for r in results})
                folds = {f: interval_rates([r for r in results if str(r.attributes[by]) == f], fixed) for f in fams}
                pooled_r = interval_rates(results, fixed)
                lofo = {"by": by, "folds": folds, "pooled": pooled_r, "fixed_threshold": fixed}
            else:
                lofo = leave_one_family_out(results, by, budget, cal)
            print(f"== {name} ({len(results)} models)")
            print(lofo_summary(lofo))
            out["rules"][f"{name} | by {by}"] = lofo
            pooled.setdefault(name, {})[by] = lofo["pooled"]
    ranked = rank_rules(pooled, {n: v[4] for n, v in table.items()})
    out["ranking"] = ranked
    print(f"\nranking ({CRITERION}):")
    for n, k in ranked:
        print(f"  {k[0]} targets met, mean detection - false alarms {k[1]:.3f}, mean AUC {k[2]:.3f}, {-k[3]} detector(s): {n}")
    merged = table["combined (logistic: input-agnostic + neural-cleanse)"][0]
    if merged:  # the shipped combined scan: that procedure fitted on every model (systems/backdoor_combined.py)
        from peephole_lab.systems.backdoor_calibration import fit_combiner

        comb = fit_combiner(merged)
        th = tune_threshold(comb(merged), 1 / 6)
        out["combined scan fit on every model"] = {"weights": comb.weights(), "threshold": th, "n_models": len(merged)}
        print(f"combined scan fitted on all {len(merged)} models: weights {comb.weights()}, threshold {th:.3f}")
    best = ranked[0][0]
    results, cal, fixed, budget, _ = table[best]
    fitted: dict = {"rule": best, "n_models": len(results)}
    if cal is not None:  # the chosen procedure fitted on every model: the shipped parameters
        c = cal(results)
        results = c(results)
        fitted.update({k: v for k, v in vars(c).items() if k != "model"})
        if hasattr(c, "weights"):
            fitted["weights"] = c.weights()
    if fixed is None:
        fitted["threshold"] = tune_threshold(results, budget)
    out["chosen rule fit on every model"] = fitted
    print(f"chosen: {best}; fitted on all {len(results)} models: {fitted}")
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=1, default=float))


def pooled(args: argparse.Namespace) -> None:
    """Every zoo of ``--roots`` pooled (model names prefixed by their root as given), leave one trigger family out and
    one architecture family out: the default scan (the size rule, at its fixed threshold and with its threshold
    tuned inside each fold as ``search`` did), TABOR's index and Neural Cleanse at their fixed thresholds and tuned
    inside each fold, each on the models its detector scanned; rates, Wilson 95 % intervals, AUC."""
    from peephole_lab.systems.backdoor_eval import T5, interval_rates, leave_one_family_out, lofo_summary
    from peephole_lab.systems.tabor import CALIBRATED_THRESHOLD, SIZE_THRESHOLD

    res = {d: [replace(r, name=f"{root}/{r.name}") for root in args.roots for r in load(Path(root), d)] for d in DETECTORS}
    sized = [restat(r, _default_size) for r in res["tabor"]]
    table = {  # name -> (results, fixed threshold or None, (false-alarm rate, count) allowed when tuned in the folds)
        "tabor-size, ‖M‖₁ < 33.1 px (the size rule, fixed)": (sized, SIZE_THRESHOLD, None),
        "tabor-size, threshold tuned on the seen families at 0 false alarms": (sized, None, (0.0, 0)),
        "tabor index > 3.1 (tabor-calibrated, fixed)": (res["tabor"], CALIBRATED_THRESHOLD, None),
        "tabor index > 2 (the paper's threshold)": (res["tabor"], 2.0, None),
        "tabor index, threshold tuned on the seen families at 0 false alarms": (res["tabor"], None, (0.0, 0)),
        "tabor index, threshold tuned on the seen families at 5 % (T5)": (res["tabor"], None, T5),
        "neural-cleanse index > 2 (the paper's threshold)": (res["neural-cleanse"], 2.0, None),
        "neural-cleanse index, threshold tuned on the seen families at 0 false alarms": (res["neural-cleanse"], None, (0.0, 0)),
        "neural-cleanse index, threshold tuned on the seen families at 5 % (T5)": (res["neural-cleanse"], None, T5),
        "neural-cleanse index, threshold tuned on the seen families (1/6)": (res["neural-cleanse"], None, (1 / 6, 0)),
    }
    print(f"models: {', '.join(f'{d} {len(v)} ({sum(r.trojan for r in v)} backdoored)' for d, v in res.items())}")
    out: dict = {}
    for name, (results, fixed, budget) in table.items():
        if not results:
            continue
        if fixed is not None:  # nothing fitted: one count, whatever the grouping
            out[name] = {"pooled": interval_rates(results, fixed), "fixed_threshold": fixed}
            _print_rates(name, out[name]["pooled"])
            continue
        for by in ("pattern", "arch"):
            lofo = leave_one_family_out(results, by, budget[0], max_false_alarms=budget[1])
            print(f"== {name} ({len(results)} models)\n{lofo_summary(lofo)}")
            _print_rates(f"{name}, by {by}", lofo["pooled"])
            out[f"{name} | by {by}"] = lofo
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=1, default=float))


def _print_rates(name, p):
    """One line: detections and false alarms with their Wilson 95 % intervals, and the AUC."""
    (d0, d1), (f0, f1) = p["detection_ci"], p["false_alarm_ci"]
    print(
        f"{name}: detected {p['detected']}/{p['n_trojan']} ({d0:.2f}-{d1:.2f}), "
        f"false alarms {p['false_alarms']}/{p['n_clean']} ({f0:.2f}-{f1:.2f}), AUC {p['auc']:.3f}"
    )


def _index(a, ref=None):
    """``(median(ref) − a) / (1.4826 · MAD(ref))``, ``ref`` = ``a`` unless given: Neural Cleanse's and TABOR's index."""
    from peephole_lab.systems.neural_cleanse import mad_anomaly

    return mad_anomaly(a, ref)


def _gap(a):
    """Each class's margin below the best other class: ``min_{c' ≠ c} a_c' − a_c`` (positive only for the best)."""
    from peephole_lab.systems.tabor import margin_below_others

    return margin_below_others(a)


#: the per-class statistics of experiments/rule_search/PLAN.md (written before they were computed): measures ->
#: (anomaly per class, eligibility per class or None). A = TABOR's score, L = restored mask L1, S = trigger success.
STATISTICS = {
    "R0 MAD index of A (shipped)": lambda m: (_index(m["tabor_score"]), None),
    "R1 MAD index of log L": lambda m: (_index(np.log(m["mask_l1"])), None),
    "R2 log(median L / L)": lambda m: (np.log(np.median(m["mask_l1"]) / m["mask_l1"]), None),
    "R3 median A − A": lambda m: (np.median(m["tabor_score"]) - m["tabor_score"], None),
    "R4 top-1/top-2 gap of A": lambda m: (_gap(m["tabor_score"]), None),
    "R5 top-1/top-2 gap of A / (1.4826 MAD A)": lambda m: (_gap(m["tabor_score"]) / (1.4826 * _mad(m["tabor_score"])), None),
    "R6 MAD index of A, trigger success >= 0.9": lambda m: (_index(m["tabor_score"]), m["trigger_success"] >= 0.9),
    "R7 leave-one-out MAD index of A": lambda m: (
        np.array([_index(a, np.delete(m["tabor_score"], c)) for c, a in enumerate(m["tabor_score"])]),
        None,
    ),
    "R8 −log L": lambda m: (_size(m, 1), None),
}


def _size(m, pixels):
    """``log(pixels / L)``: the default scan's statistic (``peephole_lab.systems.tabor.size_anomaly``); −log L at 1."""
    from peephole_lab.systems.tabor import size_anomaly

    return size_anomaly(m["mask_l1"], pixels)


def _default_size(m):
    """The default scan's per-class statistic on a 28×28 MNIST image: ``log(784 / L)`` (``SIZE_THRESHOLD``'s scale)."""
    return _size(m, 28 * 28), None


def _mad(a):
    return max(float(np.median(np.abs(a - np.median(a)))), 1e-6)


def restat(r, statistic):
    """``r`` with every class's anomaly (and eligibility) replaced by ``statistic`` of its TABOR measures."""
    m = {k: np.asarray(v, np.float64) for k, v in r.measures.items()}
    anomaly, ok = statistic(m)
    eligible = r.eligible if ok is None else [bool(e and o) for e, o in zip(r.eligible, ok)]
    return replace(r, anomaly=[float(a) for a in anomaly], eligible=eligible)


def _mask_gap(m):
    """Each class's ``log(min_{c' ≠ c} L_c' / L_c)``, L the restored masks' L1 (positive only for the smallest)."""
    return _gap(np.log(m["mask_l1"])), None


def _size_gap(m):
    """The gap rule's statistic (``peephole_lab.systems.tabor.gap_anomaly``): ``log(784 / L_c)`` plus :func:`_mask_gap`."""
    from peephole_lab.systems.tabor import gap_anomaly

    return gap_anomaly(m["mask_l1"], 28 * 28), None


LOG_PIXELS = float(np.log(28 * 28))
#: plans' candidates: name -> (per-class statistic of TABOR's measures, None for SIZE_THRESHOLD fixed or the budget
#: it is tuned at inside each fold (false-alarm rate, count; ``tune_threshold``), the constant a fitted threshold is
#: rounded up to one decimal after removing); each table in its plan's tie order
CANDIDATES = {
    "threshold_rule": {  # experiments/threshold_rule/PLAN.md
        "T3 fixed 33.1 px": (_default_size, None, LOG_PIXELS),
        "T0 tuned at 0 false alarms": (_default_size, (0.0, 0), LOG_PIXELS),
        "T1 tuned allowing one false alarm": (_default_size, (0.0, 1), LOG_PIXELS),
        "T2 tuned at a false-alarm rate of 1/6": (_default_size, (1 / 6, 0), LOG_PIXELS),
    },
    "gap_rule": {  # experiments/gap_rule/PLAN.md
        "size-T1": (_default_size, (0.0, 1), LOG_PIXELS),
        "size-T0": (_default_size, (0.0, 0), LOG_PIXELS),
        "gap-T1": (_mask_gap, (0.0, 1), 0.0),
        "gap-T0": (_mask_gap, (0.0, 0), 0.0),
        "sum-T1": (_size_gap, (0.0, 1), LOG_PIXELS),
        "sum-T0": (_size_gap, (0.0, 0), LOG_PIXELS),
    },
}


def thresholds(args: argparse.Namespace) -> None:
    """A plan's :data:`CANDIDATES` (``--plan``) leave one trigger family and one architecture family out on every
    ``--set`` of zoos pooled; the candidate meeting all of the issue's targets in the most results wins (ties: the
    larger mean detection − false-alarm rate, then the table's order); every candidate's procedure is fitted on every
    model of the last set and applied to the zoos of ``--check``."""
    from peephole_lab.systems.backdoor_eval import TARGETS, interval_rates, leave_one_family_out, tune_threshold
    from peephole_lab.systems.tabor import SIZE_THRESHOLD

    def scored(roots, statistic):
        return [restat(replace(r, name=f"{root}/{r.name}"), statistic) for root in roots for r in load(Path(root), "tabor")]

    out: dict = {"plan": args.plan, "sets": args.set, "rules": {}}
    for name, (statistic, budget, constant) in CANDIDATES[args.plan].items():
        sets, got = [scored(roots, statistic) for roots in args.set], []
        for roots, results in zip(args.set, sets):
            for by in ("pattern", "arch"):
                if budget is None:
                    p = interval_rates(results, SIZE_THRESHOLD)
                else:
                    p = leave_one_family_out(results, by, budget[0], max_false_alarms=budget[1])["pooled"]
                _print_rates(f"{name} | {' '.join(roots)} | by {by}", p)
                got.append(p)
        det, fa, area = TARGETS
        met = sum(p["detection_rate"] >= det and p["false_alarm_rate"] <= fa and p["auc"] >= area for p in got)
        youden = float(np.mean([p["detection_rate"] - p["false_alarm_rate"] for p in got]))
        # fitted on every model of the last set, rounded up to one decimal (SIZE_THRESHOLD's −log ‖M‖₁ scale for size)
        th = (
            SIZE_THRESHOLD
            if budget is None
            else float(constant + np.ceil((tune_threshold(sets[-1], *budget) - constant) * 10) / 10)
        )
        out["rules"][name] = {"results": got, "met": met, "mean detection - false alarms": youden, "threshold": th}
        print(f"{name}: all targets met in {met}/{len(got)}, mean detection - false alarms {youden:.3f}; fitted {th:.3f}")
        if args.check:  # the fitted threshold on zoos none of the sets holds
            p = out["rules"][name]["check"] = interval_rates(scored(args.check, statistic), th)
            _print_rates(f"{name} at {th:.3f} on {' '.join(args.check)}", p)
    order = list(CANDIDATES[args.plan])
    rank = {n: (-v["met"], -round(v["mean detection - false alarms"], 9), order.index(n)) for n, v in out["rules"].items()}
    chosen = min(order, key=rank.__getitem__)
    out["chosen"] = {"rule": chosen, "threshold": out["rules"][chosen]["threshold"]}
    print(f"chosen: {chosen}; threshold fitted on every model of the last set {out['chosen']['threshold']:.3f}")
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=1, default=float))


def search(args: argparse.Namespace) -> None:
    """experiments/rule_search/PLAN.md: every statistic of :data:`STATISTICS` on the TABOR scans of all ``--roots``
    pooled, leave-one-family-out by trigger and by architecture family at false-alarm budgets 0 and 1/6, ranked by
    :data:`CRITERION`; each rule's procedure fitted on every model gives its threshold."""
    from peephole_lab.systems.backdoor_eval import interval_rates, leave_one_family_out, lofo_summary, rank_rules, tune_threshold
    from peephole_lab.systems.tabor import CALIBRATED_THRESHOLD

    base = [r for root in args.roots for r in load(Path(root), "tabor")]
    print(f"{len(base)} models ({sum(r.trojan for r in base)} backdoored) from {', '.join(args.roots)}")
    out: dict = {"criterion": CRITERION, "rules": {}}
    pooled: dict[str, dict[str, dict]] = {}
    for stat_name, stat in STATISTICS.items():
        results = [restat(r, stat) for r in base]
        for budget in (0.0, 1 / 6):
            name = f"{stat_name}, budget {budget:.2g}"
            row: dict = {"threshold fit on every model": tune_threshold(results, budget)}
            for by in ("pattern", "arch"):
                lofo = leave_one_family_out(results, by, budget)
                print(f"== {name}")
                print(lofo_summary(lofo))
                row[by] = lofo
                pooled.setdefault(name, {})[by] = lofo["pooled"]
            out["rules"][name] = row
            out["rules"][name]["scores"] = {r.name: r.score() for r in results}
    fixed = interval_rates([restat(r, STATISTICS["R0 MAD index of A (shipped)"]) for r in base], CALIBRATED_THRESHOLD)
    out["R0 at the shipped threshold (in-sample)"] = fixed
    det, fa = f"{fixed['detected']}/{fixed['n_trojan']}", f"{fixed['false_alarms']}/{fixed['n_clean']}"
    print(f"R0 at {CALIBRATED_THRESHOLD} (in-sample): detected {det}, false alarms {fa}, AUC {fixed['auc']:.3f}")
    params = {n: 2 if n.startswith("R6") else 1 for n in pooled}
    ranked = rank_rules(pooled, params)
    out["ranking"] = ranked
    print(f"\nranking ({CRITERION}):")
    for n, k in ranked:
        p, a, th = pooled[n]["pattern"], pooled[n]["arch"], out["rules"][n]["threshold fit on every model"]
        print(
            f"  {k[0]} met, det−fa {k[1]:.3f}, AUC {k[2]:.3f}: {n} | by pattern {p['detected']}/{p['n_trojan']}, "
            f"{p['false_alarms']}/{p['n_clean']}, {p['auc']:.3f} | by arch {a['detected']}/{a['n_trojan']}, "
            f"{a['false_alarms']}/{a['n_clean']}, {a['auc']:.3f} | threshold on all {th:.3f}"
        )
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=1, default=float))


def blind(args: argparse.Namespace) -> None:
    """The shipped decision rules at their fixed thresholds on a zoo none of them was fitted on (a fresh ``--seed``
    and pairs): per detector scanned, detections, false alarms (Wilson 95 %), ROC AUC, and every model's score."""
    from peephole_lab.systems.backdoor import THRESHOLD
    from peephole_lab.systems.backdoor_eval import interval_rates
    from peephole_lab.systems.tabor import CALIBRATED_THRESHOLD, GAP_THRESHOLD, SIZE_THRESHOLD

    root = Path(args.root)
    fixed = {  # name -> (detector, threshold, per-class statistic of STATISTICS or None: the scan's own anomaly)
        "tabor-gap (size + gap, frozen in gap_rule/PLAN.md; the default scan adds trigger transfer: trigger_transfer.py check)": (
            "tabor",
            GAP_THRESHOLD,
            "gap",
        ),
        "tabor-size (R8, restored mask L1 < 33.1 px, frozen in blind_zoo2/PLAN.md)": (
            "tabor",
            SIZE_THRESHOLD,
            "size",
        ),
        "tabor-calibrated (the default before the size rule)": ("tabor", CALIBRATED_THRESHOLD, None),
        "tabor (paper threshold 2)": ("tabor", 2.0, None),
        "R4 top-1/top-2 gap of A (information only)": ("tabor", 1.1, "R4 top-1/top-2 gap of A"),
        "neural-cleanse (threshold 2)": ("neural-cleanse", 2.0, None),
        "input-agnostic (threshold 6)": ("input-agnostic", THRESHOLD, None),
    }
    out: dict = {}
    for name, (det, th, stat) in fixed.items():
        results = load(root, det)
        if stat is not None:
            statistic = {"size": _default_size, "gap": _size_gap}.get(stat) or STATISTICS[stat]
            results = [restat(r, statistic) for r in results]
        if not results:
            continue
        r = interval_rates(results, th)
        out[name] = {**r, "threshold": th, "scores": {m.name: m.score() for m in results}}
        _print_rates(f"{name}, threshold {th:g}", r)
        for m in results:
            print(f"  {m.name}: {m.score():.2f}{' flagged' if m.score() > th else ''}")
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
    p.add_argument("--common", action="store_true", help="only the models every detector scanned")
    p.add_argument("--out", default=None)
    p.set_defaults(func=report)
    b = sub.add_parser("blind", help="the shipped rules at their fixed thresholds on a zoo they were not fitted on")
    b.add_argument("--root", required=True)
    b.add_argument("--out", default=None)
    b.set_defaults(func=blind)
    s = sub.add_parser(
        "search", help="experiments/rule_search/PLAN.md: the candidate statistics, pooled zoos, leave-one-family-out"
    )
    s.add_argument("--roots", nargs="+", default=["experiments/wide_zoo", "experiments/fresh_zoo"])
    s.add_argument("--out", default=None)
    s.set_defaults(func=search)
    q = sub.add_parser("pooled", help="the default scan, TABOR and Neural Cleanse on several zoos pooled, leave-one-family-out")
    q.add_argument("--roots", nargs="+", required=True)
    q.add_argument("--out", default=None)
    q.set_defaults(func=pooled)
    t = sub.add_parser("thresholds", help="a plan's candidate statistics and threshold procedures (CANDIDATES)")
    t.add_argument("--plan", choices=list(CANDIDATES), default="threshold_rule")
    t.add_argument("--set", nargs="+", action="append", required=True, help="zoo roots pooled together (repeat per set)")
    t.add_argument("--check", nargs="*", default=[], help="zoo roots the fitted thresholds are applied to (blind)")
    t.add_argument("--out", default=None)
    t.set_defaults(func=thresholds)
    args = ap.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
