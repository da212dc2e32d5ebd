"""Texts: word lists, word partitions (words, n-word windows, phrases, groups), text maskers, rendering."""

from peephole.modalities.text.maskers import DropMasker, TokenMasker, make_text_masker
from peephole.modalities.text.partitions import make_text_partition, phrase_labels, phrases
from peephole.modalities.text.render import html_page, ranking, to_html, to_terminal
from peephole.models.text.tokenize import decode, join, words

__all__ = [
    "DropMasker",
    "TokenMasker",
    "decode",
    "html_page",
    "join",
    "make_text_masker",
    "make_text_partition",
    "phrase_labels",
    "phrases",
    "ranking",
    "to_html",
    "to_terminal",
    "words",
]
