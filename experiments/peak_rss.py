"""Peak RSS of one process explaining an H×W image, by default with keep-one PAMI (20 superpixel
segmentations, blur masker): the bound that the maximum work size (640×640 pixels) keeps. ``--method`` and
``--option key=value`` (a JSON value, else text) measure any other method and partition.

A cheap numpy black box stands in for the model so that only Peephole's own memory is measured. Inputs
above the work size are resized to it (with a warning) unless ``--allow-large``.

    python experiments/peak_rss.py H W [--allow-large] [--method lime --option partition=window --option n_samples=100]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import warnings

import cv2
import numpy as np

import peephole
from peephole.modalities.image.io import load_image


def model(batch: np.ndarray) -> np.ndarray:
    z = 4 * batch.mean(axis=(1, 2))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("height", type=int)
    ap.add_argument("width", type=int)
    ap.add_argument("--allow-large", action="store_true")
    ap.add_argument("--method", default="pami")
    ap.add_argument("--option", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    options = {}
    for kv in args.option:
        key, _, value = kv.partition("=")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    img = np.clip(cv2.resize(load_image("skimage:chelsea"), (args.width, args.height)), 0, 1)
    t = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        e = peephole.explain(model, img, args.method, output="probs", allow_large=args.allow_large, **options)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    h, w = e.maps.shape[1:]
    print(f"| {args.height}×{args.width} | {h}×{w} | {e.n_queries} | {rss:.0f} MB | {time.perf_counter() - t:.0f} s |")
    for c in caught:
        print(f"warning: {c.message}")


if __name__ == "__main__":
    main()
