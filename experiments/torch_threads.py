"""One eager-torch forward pass timed from the main thread and from a worker thread, with torch's default number of
threads and with one: on a CPU shared with other jobs, more OpenMP threads than the process gets cores make every
call wait at OpenMP's barriers for a descheduled thread (docs/devices.md, "Measured").

    python experiments/torch_threads.py [--batch-size 1] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import threading
import time

import numpy as np
import torch

import peephole


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch-size", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    model = peephole.load_model("efficientnet-lite0", "torch")
    x = np.random.default_rng(0).random((args.batch_size, 224, 224, 3)).astype(np.float32)
    model(x)  # warm-up (and the adapter's channels-last check)

    def timed(where: str) -> None:
        wall, cpu = [], []
        for _ in range(args.rounds):
            t, c = time.perf_counter(), time.thread_time()
            model(x)
            wall.append(time.perf_counter() - t)
            cpu.append(time.thread_time() - c)
        print(
            f"{torch.get_num_threads()} torch threads, {where}: wall {np.median(wall):.2f} s, "
            f"calling thread's CPU {np.median(cpu):.2f} s (median of {args.rounds}), batch {args.batch_size}",
            flush=True,
        )

    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    for threads in (torch.get_num_threads(), 1):
        torch.set_num_threads(threads)
        timed("main thread")
        worker = threading.Thread(target=timed, args=("worker thread",))
        worker.start()
        worker.join()


if __name__ == "__main__":
    main()
