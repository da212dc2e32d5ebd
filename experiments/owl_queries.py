"""OWL-ViT with many text queries: the adapter's batches (text embeddings kept from the first batch) against the whole
model on every batch, as the adapter ran before 2026-12-07 (one row of text per query and image).

A randomly initialised OWL-ViT with the architecture of ``google/owlvit-base-patch32`` (transformers' default
``OwlViTConfig``: ViT-B/32 at 768×768, a 12-layer text tower; no download, so the timings, not the detections, are
what counts) and prompts of 7 tokens. For each number of queries, ``--repeats`` rounds, each timing one adapter batch
and one whole-model batch of the same ``--batch`` images back to back (so both see the same load); the ratio is the
median of the rounds' whole ÷ adapter times. The adapter's first (checking) batch runs before the timed rounds.

    OMP_NUM_THREADS=2 python experiments/owl_queries.py [--queries 1 50 200] [--batch 4] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    import torch
    import transformers
    from tokenizers import Tokenizer, models, pre_tokenizers

    from peephole.models.hf_detection import hf_detector
    from peephole.models.hf_image import preprocess_of

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, nargs="+", default=[1, 50, 200])
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    torch.manual_seed(0)
    model = transformers.OwlViTForObjectDetection(transformers.OwlViTConfig()).eval()
    words = [f"w{i}" for i in range(200)]
    vocab = {w: i for i, w in enumerate(["[PAD]", "[UNK]", "<s>", "</s>", *words])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", bos_token="<s>", eos_token="</s>"
    )
    processor = transformers.OwlViTProcessor(image_processor=transformers.OwlViTImageProcessorPil(), tokenizer=tokenizer)
    batch = np.random.default_rng(0).random((args.batch, 480, 640, 3), dtype=np.float32)
    pre = preprocess_of(model.config, processor.image_processor)
    print(f"OWL-ViT B/32 at 768 (random weights), batch {args.batch}, {torch.get_num_threads()} threads")
    print("| queries | adapter s/batch | whole model s/batch | whole ÷ adapter (median) |\n|---|---|---|---|")
    for q in args.queries:
        queries = [" ".join(words[(7 * i + j) % len(words)] for j in range(7)) for i in range(q)]
        det = hf_detector(model, processor, queries=queries)
        det(batch[:1])  # the first batch: whole model, checks the shortcut
        text = tokenizer(queries, padding=True, return_tensors="pt")
        ids, mask = text["input_ids"].repeat(args.batch, 1), text["attention_mask"].repeat(args.batch, 1)
        ours, whole = [], []
        for _ in range(args.repeats):
            t = time.perf_counter()
            det(batch)
            ours.append(time.perf_counter() - t)
            t = time.perf_counter()
            with torch.inference_mode():  # the adapter's resize and normalisation included on both sides
                model(pixel_values=torch.from_numpy(pre(batch)), input_ids=ids, attention_mask=mask)
            whole.append(time.perf_counter() - t)
        ratio = float(np.median(np.array(whole) / np.array(ours)))
        print(f"| {q} | {np.median(ours):.2f} | {np.median(whole):.2f} | {ratio:.2f} |", flush=True)


if __name__ == "__main__":
    main()
