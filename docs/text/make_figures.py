"""Figures of docs/text.md: `python docs/text/make_figures.py` from the repository root (`--caption-only` skips the HTML)."""

import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from skimage.segmentation import slic

from peephole import explain
from captioner import dataset, train_captioner
from peephole.modalities.text import html_page, to_html
from peephole.models.caption import CaptionModel
from peephole.models.text.minilm import MiniLMSentiment
from peephole.models.text.vader import VaderSentiment

# 1. Sentiment: VADER and MiniLM, words / 3-word windows / phrases, as one HTML page.
vader, minilm = (VaderSentiment(), MiniLMSentiment()) if "--caption-only" not in sys.argv else (None, None)
sentences = [
    "the train arrived at the station and the food was wonderful",
    "my neighbour painted the fence a terrible shade of green",
    "The room was small, the bed was hard but the view was lovely.",
]
frags = []
for name, model in (("VADER", vader), ("MiniLM", minilm)) if vader else ():
    for s in sentences:
        for part in ("words", "windows", "phrases"):
            t = time.perf_counter()
            e = explain(model, s, partition=part)  # the models declare modality 'text'
            dt = time.perf_counter() - t
            label = e.name(e.targets[0])
            frags.append(
                to_html(
                    e.input,
                    e.maps[0],
                    title=f"{name}, {part}: {label} ({e.probabilities[e.targets[0]]:.2f}), "
                    f"{e.n_queries} queries, {dt * 1000:.0f} ms",
                )
            )
            print(name, part, label, e.n_queries, f"{dt * 1000:.0f} ms", e.input[int(np.argmax(e.maps[0]))])
if frags:
    Path("docs/text/sentiment.html").write_text(html_page(frags), encoding="utf-8")

# 2. Captioning: one map per word of a synthetic scene, from one set of queries.
t = time.perf_counter()
cap = train_captioner(seed=0)
print(f"captioner trained in {time.perf_counter() - t:.1f} s")
scenes = dataset(3, seed=123)
fig, axes = plt.subplots(len(scenes), 7, figsize=(14, 2.2 * len(scenes)))
for row, s in zip(axes, scenes):
    part = [slic(s.image, n_segments=n, compactness=10, start_label=0, channel_axis=-1) for n in (16, 32, 64)]
    e = explain(CaptionModel(cap, " ".join(s.caption)), s.image, partition=part, masker="black")
    row[0].imshow(s.image)
    row[0].set_title(f"{e.n_queries} queries", fontsize=9)
    for ax, word, m, p in zip(row[1:], s.caption, e.maps, e.probabilities):
        ax.imshow(m, cmap="magma")
        ax.contour(s.image.max(axis=2) > 0, levels=[0.5], colors="cyan", linewidths=0.8)
        ax.set_title(f"{word} ({p:.2f})", fontsize=9)
    for ax in row:
        ax.axis("off")
fig.tight_layout()
fig.savefig("docs/text/caption_maps.png", dpi=80)
