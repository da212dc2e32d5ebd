"""Text partitions over the word list: single words, n-word windows, phrases, user groups.

Each word's importance is Eq. 1 over the parts that keep it (PAMI, Eq. 1): the mean model output
over those parts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from peephole.core.partition import Partition
from peephole.errors import InputError
from peephole.modalities.sequence.partitions import IndexPartition, WindowOptions

#: A phrase ends after a word ending in one of these characters (closing quotes/brackets ignored).
PHRASE_END = re.compile(r"[.,;:!?…]+[\"'”’)\]]*$")
#: A new clause starts at these words (a phrase boundary before them).
CLAUSE_WORDS = frozenset(
    [
        "but",
        "and",
        "or",
        "because",
        "although",
        "though",
        "while",
        "whereas",
        "however",
        "so",
        "yet",
        "since",
        "unless",
        "which",
        "who",
        "that",
    ]
)


@dataclass(frozen=True)
class WordWindowOptions(WindowOptions):
    """The options of the text ``'windows'`` partition: the sequence windows' options, counted in words."""

    window: int = 3  #: words per window
    stride: int = 1  #: words between window starts


def phrase_labels(ws: Sequence[str], clause_words: frozenset[str] = CLAUSE_WORDS) -> list[int]:
    """Phrase index of each word: split after punctuation and before clause words."""
    labels, cur = [], 0
    for i, w in enumerate(ws):
        if i > 0 and (PHRASE_END.search(ws[i - 1]) or w.lower().strip("\"'“‘(") in clause_words):
            cur += 1
        labels.append(cur)
    return labels


def phrases(ws: Sequence[str], clause_words: frozenset[str] = CLAUSE_WORDS) -> IndexPartition:
    """One part per phrase (split at punctuation and clause words)."""
    labels = phrase_labels(ws, clause_words)
    parts = [[i for i, lab in enumerate(labels) if lab == k] for k in range(labels[-1] + 1)]
    return IndexPartition(len(ws), parts, names=[" ".join(ws[i] for i in p) for p in parts])


def make_text_partition(ws: Sequence[str], partition: Partition | Sequence[Sequence[int]]) -> Partition:
    """A partition given as an object: a :class:`Partition` over ``(n_words,)``, or user groups as lists of word
    indices (the named ones, ``'words'``, ``'windows'``, ``'phrases'``, are the text modality's)."""
    n = len(ws)
    if isinstance(partition, Partition):
        if partition.shape != (n,):
            raise InputError(f"partition of shape {partition.shape} does not match the text ({n} words)")
        return partition
    return IndexPartition(n, partition)
