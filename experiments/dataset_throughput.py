"""Dataset runs: throughput against the single-image rate, peak memory in the number of items, resume after a kill.

1. Throughput (real model): the same images explained (a) one by one — ``load_image`` + ``peephole.explain`` per
   image, nothing saved — and (b) by ``peephole.run`` over a CSV of the same images (decoding prefetched, each
   result committed to the store). The two alternate ``--rounds`` times, so both see the same machine load;
   the figure is the ratio of the summed rates (target ≥ 0.95).
2. Peak RSS (cheap model): ``peephole.run`` over 50 and over 500 small synthetic images in fresh processes;
   each child reports its own peak resident set size.
3. Resume: a 50-item run in a subprocess is SIGKILLed at a random moment, resumed, and compared item for item
   with an uninterrupted run (ids, maps, per-query outputs, targets, predictions).

    python experiments/dataset_throughput.py --data ../shared/data/imagenet-sample --images 8 --rounds 2
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import peephole

HERE = Path(__file__).resolve().parent
SRC = Path(peephole.__file__).resolve().parents[1]
TOY = {"method": "pami", "size": 64, "partition": "window", "radius": 12, "stride": 8, "top_k": 2}


class Toy:
    """A cheap 3-class image model (colour statistics), so hundreds of items take seconds."""

    output = "probs"
    class_names = ["dark", "bright", "red"]
    preferred_batch_size = 64
    modality = "image"

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay

    def __call__(self, batch):
        if self.delay:
            time.sleep(self.delay)
        b = np.asarray(batch, np.float64)
        m = b.reshape(len(b), -1, 3).mean(1)
        top = b[:, : b.shape[1] // 2].reshape(len(b), -1, 3).mean(1)
        z = np.stack([1 - m.mean(1), top.mean(1), m[:, 0] - m[:, 1:].mean(1) + 0.3], 1) * 6
        e = np.exp(z - z.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)


def make_toy() -> Toy:
    return Toy()


def make_slow_toy() -> Toy:
    return Toy(delay=0.02)


def synthetic(folder: Path, n: int, seed: int = 0) -> Path:
    from PIL import Image

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.fromarray((rng.random((80, 96, 3)) * 255).astype(np.uint8)).save(folder / f"{i:04d}.png")
    return folder


def throughput(data: Path, n: int, rounds: int, method: str, partition: str, stride: int | None) -> dict:
    from peephole.modalities.image.io import load_image

    with (data / "labels.csv").open() as f:
        rows = list(csv.DictReader(f))[:n]
    tmp = Path(tempfile.mkdtemp(prefix="peephole-throughput-"))
    sheet = tmp / "images.csv"
    with sheet.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "label"])
        w.writerows([str((data / r["file"]).resolve()), r["class_index"]] for r in rows)
    model = peephole.load_model("efficientnet-lite0")
    opts = {"partition": partition, **({"stride": stride} if stride else {})}
    peephole.explain(model, load_image(data / rows[0]["file"], size=224), method, **opts)  # warm up
    single_s, run_s, single_cpu, run_cpu = [], [], [], []
    for k in range(rounds):
        t, c = time.perf_counter(), time.process_time()
        for r in rows:
            peephole.explain(model, load_image(data / r["file"], size=224), method, **opts)
        single_s.append(time.perf_counter() - t)
        single_cpu.append(time.process_time() - c)
        t, c = time.perf_counter(), time.process_time()
        s = peephole.run(model, sheet, method, out=tmp / f"run{k}", model_name="efficientnet-lite0", progress=False, **opts)
        summary = s.complete()
        run_s.append(time.perf_counter() - t)
        run_cpu.append(time.process_time() - c)
        assert summary["done"] == n, summary
        print(
            f"  round {k + 1}: one by one {n / single_s[-1]:.3f} images/s ({single_cpu[-1] / n:.2f} CPU s/image), "
            f"peephole.run {n / run_s[-1]:.3f} images/s ({run_cpu[-1] / n:.2f} CPU s/image)"
        )
    return {
        "images": n,
        "rounds": rounds,
        "options": opts,
        "single_images_per_s": n * rounds / sum(single_s),
        "run_images_per_s": n * rounds / sum(run_s),
        "ratio": sum(single_s) / sum(run_s),
        "per_round_ratio": [a / b for a, b in zip(single_s, run_s)],
        "cpu_ratio": sum(single_cpu) / sum(run_cpu),
    }


def rss_child(n: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="peephole-rss-"))
    data = synthetic(tmp / "data", n)
    summary = peephole.run(make_toy(), data, out=tmp / "run", model_name="toy", progress=False, **TOY).complete()
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork + exec
    status = Path("/proc/self/status").read_text().splitlines()
    hwm = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    print(json.dumps({"n": n, "done": summary["done"], "peak_rss_mib": hwm / 1024}))


def env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(SRC), os.environ.get("PYTHONPATH", "")])}


def peak_rss(counts: list[int]) -> list[dict]:
    out = []
    for n in counts:
        res = subprocess.run(
            [sys.executable, __file__, "--rss-child", str(n)], env=env(), capture_output=True, text=True, check=True
        )
        out.append(json.loads(res.stdout.strip().splitlines()[-1]))
        print(f"  {n} items: peak RSS {out[-1]['peak_rss_mib']:.0f} MiB")
    return out


def done_rows(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            return con.execute("SELECT COUNT(*) FROM items WHERE status='done'").fetchone()[0]
    except sqlite3.Error:
        return 0


def resume_check(n: int, seed: int) -> dict:
    from peephole.batch import open_run

    tmp = Path(tempfile.mkdtemp(prefix="peephole-resume-"))
    data = synthetic(tmp / "data", n, seed=1)
    # the duration of a whole run, to draw the kill moment from
    t = time.perf_counter()
    peephole.run("dataset_throughput:make_slow_toy", data, out=tmp / "straight", progress=False, **TOY).complete()
    full_s = time.perf_counter() - t
    kill_at = random.Random(seed).uniform(0.1, 0.9) * full_s
    cmd = [
        sys.executable,
        "-m",
        "peephole",
        "run",
        str(data),
        "--out",
        str(tmp / "killed"),
        "--model",
        "dataset_throughput:make_slow_toy",
    ]
    cmd += ["--size", "64", "--top-k", "2", "--quiet"] + sum(
        (["--option", f"{k}={TOY[k]}"] for k in ("partition", "radius", "stride")), []
    )
    proc = subprocess.Popen(cmd, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while done_rows(tmp / "killed" / "run.sqlite") == 0:  # the child's start-up (imports) is not run time
        time.sleep(0.005)
    time.sleep(kill_at)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    at_kill = done_rows(tmp / "killed" / "run.sqlite")
    peephole.run("dataset_throughput:make_slow_toy", data, out=tmp / "killed", progress=False, **TOY).complete()
    a, b = open_run(tmp / "killed"), open_run(tmp / "straight")
    ra, rb = a.rows(), b.rows()
    same = sum(
        x["id"] == y["id"]
        and np.array_equal(a.load(x["id"]).maps, b.load(y["id"]).maps)
        and np.array_equal(a.load(x["id"]).scores, b.load(y["id"]).scores)
        and (x["targets"], x["prediction"]) == (y["targets"], y["prediction"])
        for x, y in zip(ra, rb)
    )
    res = {
        "items": n,
        "killed_after_s": round(kill_at, 2),
        "done_at_kill": at_kill,
        "rows_after_resume": len(ra),
        "equal_to_uninterrupted": same,
        "attempts_max": max(r["attempts"] for r in ra),
    }
    print(f"  {res}")
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("../shared/data/imagenet-sample"))
    ap.add_argument("--images", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--method", default="pami")
    ap.add_argument("--partition", default="superpixels")
    ap.add_argument("--stride", type=int, default=None, help="window stride in pixels (--partition window)")
    ap.add_argument("--rss", type=int, nargs="+", default=[50, 500])
    ap.add_argument("--resume-items", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--rss-child", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rss_child is not None:
        rss_child(args.rss_child)
        return
    out = {}
    print("peak RSS (toy model, 80×96 images at 64×64, window partition)")
    out["rss"] = peak_rss(args.rss)
    print(f"resume: {args.resume_items}-item run killed at a random moment")
    out["resume"] = resume_check(args.resume_items, args.seed)
    if not args.skip_throughput:
        print(f"throughput: {args.method} ({args.partition}) on {args.images} photos, EfficientNet-Lite0 (onnx)")
        out["throughput"] = throughput(args.data, args.images, args.rounds, args.method, args.partition, args.stride)
        t = out["throughput"]
        print(f"  rate ratio peephole.run / one by one: {t['ratio']:.3f} (wall), {t['cpu_ratio']:.3f} (CPU time)")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
