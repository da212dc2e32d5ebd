"""Eager torch forward passes: the default (NCHW-contiguous) batch vs the channels-last batch ``TorchModel`` hands over.

Both layouts run the same EfficientNet-Lite0 module on the same preprocessed batch, interleaved in a
random order over ``--rounds`` rounds (the machine's load hits both alike); the script prints the median
time per batch of each and their ratio, and the largest output difference.

    python experiments/torch_layout.py [--batch-size 16] [--rounds 12]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import peephole


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=12)
    args = ap.parse_args()
    model = peephole.load_model("efficientnet-lite0", "torch")
    batch = np.random.default_rng(0).random((args.batch_size, 224, 224, 3)).astype(np.float32)
    x = torch.from_numpy(model.preprocess(batch))
    layouts = {"default (NCHW)": x, "channels-last": x.contiguous(memory_format=torch.channels_last)}

    def forward(t: torch.Tensor) -> np.ndarray:
        with torch.inference_mode():
            return model.module(t).numpy()

    outs = {k: forward(t) for k, t in layouts.items()}  # warm-up, and the outputs to compare
    times: dict[str, list[float]] = {k: [] for k in layouts}
    rng = np.random.default_rng(1)
    for _ in range(args.rounds):
        for k in rng.permutation(list(layouts)):
            t0 = time.perf_counter()
            forward(layouts[k])
            times[k].append(time.perf_counter() - t0)
    base = np.median(times["default (NCHW)"])
    print(f"EfficientNet-Lite0 (eager torch {torch.__version__}), batch {args.batch_size}, {torch.get_num_threads()} threads")
    print("| layout | s/batch (median) | speed-up |\n|---|---|---|")
    for k, v in times.items():
        print(f"| {k} | {np.median(v):.3f} | {base / np.median(v):.2f}× |")
    diff = float(np.abs(outs["channels-last"] - outs["default (NCHW)"]).max())
    print(f"\nlargest logit difference: {diff:.1e}")


if __name__ == "__main__":
    main()
