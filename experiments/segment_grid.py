"""A mask-classification model's segments read at the mask grid against at the image's size (as the adapter read them
before 2026-12-07): the peak memory and time of one detector call on a batch of large images.

A randomly initialised Mask2Former with transformers' default architecture (``Mask2FormerConfig()``: Swin backbone,
100 queries; no download, so the timings and memory, not the segments, are what counts) and its image processor at
384×384. Each (image size, reading) runs in a fresh process: a warm-up call on one 64×64 image, then one call on
``--batch`` images of the size, timed; the memory is the process's peak resident size after the call minus before it.
``image``: the processor's ``post_process_instance_segmentation`` at each image's size, its masks then sampled to the
grid (≤ 128 a side); ``grid``: at the grid's size directly (:func:`peephole.models.detection.grid_shape`).

    OMP_NUM_THREADS=2 python experiments/segment_grid.py [--sizes 224 640 1024] [--batch 4]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys


def one(size: int, batch: int, reading: str) -> dict[str, float]:
    """One call's peak memory growth (MB) and seconds, in this process."""
    import resource
    import time

    import numpy as np
    import torch
    import transformers

    from peephole.models.detection import grid_shape
    from peephole.models.hf_detection import instances, processed

    torch.manual_seed(0)
    model = transformers.Mask2FormerForUniversalSegmentation(transformers.Mask2FormerConfig()).eval()
    processor = transformers.Mask2FormerImageProcessorPil(size={"height": 384, "width": 384})
    at = tuple if reading == "image" else grid_shape
    det = processed(model, processor, "post_process_instance_segmentation", instances, None, 0.0, None, at,
                    return_binary_maps=True)  # fmt: skip
    rng = np.random.default_rng(0)
    det(rng.random((1, 64, 64, 3)).astype(np.float32))
    images = rng.random((batch, size, size, 3)).astype(np.float32)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    found = det(images)
    seconds = time.perf_counter() - start
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    return {"mb": grown, "s": seconds, "segments": float(np.mean([len(f["masks"]) for f in found]))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[224, 640, 1024])
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--one", nargs=2, metavar=("SIZE", "READING"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(int(args.one[0]), args.batch, args.one[1])))
        return
    print("| image size | batch | reading | peak memory growth MB | seconds | segments per image |\n|---|---|---|---|---|---|")
    for size in args.sizes:
        for reading in ("image", "grid"):
            cmd = [sys.executable, __file__, "--batch", str(args.batch), "--one", str(size), reading]
            row = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
            print(f"| {size}×{size} | {args.batch} | {reading} | {row['mb']:.0f} | {row['s']:.2f} | {row['segments']:.0f} |")


if __name__ == "__main__":
    main()
