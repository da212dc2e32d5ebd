"""PAMI on text (the paper's sentiment-analysis application): keep one part of the words, hide the
rest, query the classifier, and give each word Eq. 1 over the parts that keep it."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from time import perf_counter
from typing import Any

from peephole.engine.partition import Partition
from peephole.engine.perturb import Masker
from peephole.engine.run import run
from peephole.methods.setup_any import prepare_any, resolve_target_names
from peephole.text.explanation import TextExplanation
from peephole.text.maskers import make_text_masker
from peephole.text.models import as_text_model
from peephole.text.partitions import make_text_partition
from peephole.text.tokenize import join, words


def pami_text(
    model: Any,
    text: str | bytes | Sequence[str],
    partition: str | Partition | Sequence[Sequence[int]] = "words",
    masker: str | Masker = "drop",
    targets: int | str | Sequence[int | str] | None = None,
    top_k: int = 1,
    batch_size: int | None = None,
    window: int = 3,
    stride: int = 1,
    output: str | None = None,
    class_names: Sequence[str] | None = None,
    progress: bool = False,
) -> TextExplanation:
    """Explain a text classifier's prediction on ``text``; ``maps[i]`` holds one score per word
    (a :class:`~peephole.text.explanation.TextExplanation`: ``.html()``, ``.terminal()``, ``.ranking()``).

    ``model``: ``'vader'``, ``'minilm'``, a Hugging Face model folder or pipeline, a
    :class:`peephole.models.Model`, or a callable ``list[str] -> (N, K)`` (declare ``output``).
    ``partition``: ``'words'``, ``'windows'`` (``window`` words every ``stride``), ``'phrases'``,
    word-index groups or a :class:`Partition`. ``masker``: ``'drop'`` (delete hidden words) or a
    replacement token such as ``'[MASK]'``. A one-word text has one part, the text itself: its
    score is f(x), a valid but uninformative answer (a warning says so).
    """
    t0 = perf_counter()
    ws = words(text)
    m = as_text_model(model, output=output, class_names=class_names)
    tg = resolve_target_names(targets, m.class_names)
    s = prepare_any(m, [join(ws)], tg, top_k, batch_size, what="the unperturbed text")
    if len(ws) == 1:
        warnings.warn(
            "a one-word text has a single part (the text itself): its importance is the model's output on it",
            UserWarning,
            stacklevel=2,
        )
    part = make_text_partition(ws, partition, window, stride)
    mask = make_text_masker(masker)
    res = run(s.query, ws, part, mask, s.targets, s.batch_size, progress, desc="PAMI text")
    return s.explanation(
        TextExplanation,
        "pami-text",
        ws,
        res.maps,
        res.scores,
        first_run_maps=res.maps,
        timings={**res.timings, "total": perf_counter() - t0},
        partition=part,
        params={
            "partition": partition if isinstance(partition, str) else type(part).__name__,
            "masker": masker if isinstance(masker, str) else type(mask).__name__,
            "window": window,
            "stride": stride,
            "batch_size": s.batch_size,
            "n_parts": part.n_parts,
        },
    )
