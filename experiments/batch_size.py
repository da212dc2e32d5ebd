"""Per-image time of EfficientNet-Lite0 forward passes at several batch sizes, both backends, one process.

Batch sizes are timed in rotating order over ``--rounds`` rounds (the machine's load hits all alike);
the script prints the median milliseconds per image and each size's ratio to the fastest. This is what
``load_model("efficientnet-lite0")``'s default batch size is chosen from (docs/pami.md, "Models").

    python experiments/batch_size.py [--sizes 1 2 4 8 16 32] [--rounds 4]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import peephole


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32])
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--images", type=int, default=64, help="images per timing (a multiple of every size)")
    args = ap.parse_args()
    batch = np.random.default_rng(0).random((args.images, 224, 224, 3)).astype(np.float32)
    print("| backend | " + " | ".join(f"batch {b}" for b in args.sizes) + " |")
    print("|---|" + "---|" * len(args.sizes))
    for backend in ("onnx", "torch"):
        model = peephole.load_model("efficientnet-lite0", backend)
        model(batch[: max(args.sizes)])  # warm-up (and the torch adapter's one layout check)
        times: dict[int, list[float]] = {b: [] for b in args.sizes}
        for r in range(args.rounds):
            for b in np.roll(args.sizes, r):
                t0 = time.perf_counter()
                for s in range(0, len(batch), b):
                    model(batch[s : s + b])
                times[int(b)].append((time.perf_counter() - t0) / len(batch))
        ms = {b: 1000 * float(np.median(v)) for b, v in times.items()}
        best = min(ms.values())
        print(f"| {backend} | " + " | ".join(f"{ms[b]:.2f} ms ({ms[b] / best:.2f}×)" for b in args.sizes) + " |")


if __name__ == "__main__":
    main()
