"""Peak memory of a PAMI run against the number of parts: streaming keeps it bounded by the batch size.

A cheap numpy black box stands in for the model so that only Peephole's own allocations are measured
(tracemalloc traces numpy buffers). Building every mask and perturbed image up front, as the authors'
code does, would need the "all up front" column.

    python experiments/memory.py [--batch-size 16]
"""

from __future__ import annotations

import argparse
import tracemalloc

import numpy as np

import peephole


def model(batch: np.ndarray) -> np.ndarray:
    m = batch.mean(axis=(1, 2, 3))
    return np.stack([m, 1 - m], axis=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch-size", type=int, default=16)
    args = ap.parse_args()
    img = np.random.default_rng(0).random((224, 224, 3)).astype(np.float32)
    print(f"PAMI peak memory (tracemalloc), 224×224 image, sliding windows radius 40, batch size {args.batch_size}\n")
    print("| stride | parts | peak MiB | all masks + perturbed images up front, MiB |")
    print("|---|---|---|---|")
    for stride in (24, 12, 6, 3):
        tracemalloc.start()
        e = peephole.explain(model, img, "pami", partition="window", stride=stride, output="probs", batch_size=args.batch_size)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        n = e.params["n_parts"]
        upfront = n * (img.nbytes + 224 * 224) / 2**20
        print(f"| {stride} | {n} | {peak:.1f} | {upfront:.0f} |")


if __name__ == "__main__":
    main()
