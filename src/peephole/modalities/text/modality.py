"""Texts: a str (or UTF-8 bytes, or a word list) split into whitespace words; partitions group words. A list of
texts is a batch (:meth:`TextModality.split`)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from peephole.core.partition import Partition
from peephole.core.perturb import Masker
from peephole.errors import InputError
from peephole.modalities.base import MaskerSpec, Modality, PartitionSpec
from peephole.modalities.sequence.partitions import singletons, windows
from peephole.modalities.text.maskers import DropMasker, make_text_masker
from peephole.modalities.text.partitions import WordWindowOptions, make_text_partition, phrases
from peephole.modalities.text.view import TextView
from peephole.models.text.tokenize import join, words


def names_a_file(text: str) -> bool:
    """Whether ``text`` is one word with a suffix naming an existing file."""
    if len(text.split()) != 1 or not Path(text.strip()).suffix:
        return False
    try:
        return Path(text.strip()).is_file()
    except (OSError, ValueError):  # too long, or a NUL: no file
        return False


class TextModality(Modality):
    """Partitions: ``'words'``, ``'windows'`` (``window`` words every ``stride``), ``'phrases'``, word-index
    groups or a :class:`Partition`. Maskers: ``'drop'`` (delete hidden words) or a replacement token
    such as ``'[MASK]'``. Models: ``'vader'``, ``'minilm'``, a Hugging Face folder or pipeline, a
    callable ``list[str] -> (N, K)``."""

    name = "text"
    partitions = {
        "words": PartitionSpec("words", lambda x, o, seed: singletons(len(x)), help="one part per word"),
        "windows": PartitionSpec(
            "windows", lambda x, o, seed: windows(len(x), o.window, o.stride), WordWindowOptions, "n-word windows"
        ),
        "phrases": PartitionSpec("phrases", lambda x, o, seed: phrases(x), help="phrases split at punctuation and clause words"),
    }
    maskers = {"drop": MaskerSpec("drop", lambda o: DropMasker(), help="delete the hidden words")}
    default_partition = "words"
    smaller_parts = "partition='words'"
    default_masker = "drop"

    def load(self, x: Any, allow_large: bool = False) -> list[str]:
        """The words of ``x``; a string that names a file (``photo.png``, ``reviews.txt``: one word with a suffix, an
        existing file) is an :class:`InputError`: a text model given it explained its name as a one-word text."""
        if isinstance(x, str) and names_a_file(x):
            raise InputError(
                f"{x} is a file, not a text: a text model explains the text it is given (quote a sentence); "
                f"an image needs an image model, and peephole run {x} explains each line of a text file"
            )
        return words(x)

    def split(self, x: Any) -> list[Any] | None:
        """Several texts: a list or tuple holding a text of several words, a word list or anything but a single
        word (each item is then one input; a bad one fails alone). A list of single words is one text, already
        split (what ``Explanation.input`` holds); one-word texts as a batch: ``[["good"], ["bad"]]``."""
        if not isinstance(x, (list, tuple)) or not x:
            return None
        one_word = lambda w: isinstance(w, str) and len(w.split()) == 1 and w == w.strip()  # noqa: E731
        return None if all(one_word(w) for w in x) else list(x)

    def batch_of_one(self, x: list[str]) -> list[str]:
        return [join(x)]

    def named_model(self, name: str, **settings: Any) -> Any:
        """``name`` as it is, or with ``queries`` (and a ``template``) the zero-shot classifier of a
        natural-language-inference folder."""
        queries, template = settings.pop("queries", None), settings.pop("template", None)
        name = super().named_model(name, **settings)
        if queries is None and template is None:
            return name
        from peephole.models.text import load_text_model

        return load_text_model(name, queries=queries, template=template)

    def as_model(self, model: Any, output: str | None, class_names: Any) -> Any:
        from peephole.models.text import as_text_model

        return as_text_model(model, output=output, class_names=class_names)

    def partition(self, x: list[str], spec: Any, seed: int = 0, options: Any = None) -> Partition:
        if len(x) == 1:
            warnings.warn(
                "a one-word text has a single part (the text itself): its importance is the model's output on it",
                UserWarning,
                stacklevel=3,
            )
        return super().partition(x, spec, seed, options)

    def partition_of(self, x: list[str], spec: Any, seed: int = 0) -> Partition:
        return make_text_partition(x, spec)

    def masker_of(self, spec: Any) -> Masker:
        """A replacement token such as ``'[MASK]'``."""
        return make_text_masker(spec)

    def view(self, explanation: Any) -> TextView:
        return TextView(explanation)

    # --- datasets, runs, reports, curves, the command line (see Modality) ---

    default_model = "vader"

    def read_items(self, source: Any, column: str | None = None, labels: str | None = None, asked: bool = False) -> list:
        from pathlib import Path

        from peephole.modalities.text.items import read_text_items

        return read_text_items(Path(source), column, labels, asked)

    def holds(self, x: Any) -> bool:
        return isinstance(x, str)

    def load_item(self, source: Any, **work: Any) -> str:
        from peephole.modalities.text.items import load_text_item

        return load_text_item(source)

    def report_view(self, explanation: Any, cls: int, vrange: tuple[float, float] | None = None) -> str:
        from peephole.modalities.text.report import class_fragment

        return class_fragment(explanation, cls, vrange)

    def report_ramp(self) -> list[str]:
        from peephole.modalities.text.report import ramp

        return ramp()

    def input_title(self, source: Any) -> str:
        from peephole.modalities.text.report import title

        return title(source)

    def detail_lines(self, explanation: Any, colour: bool = False, score: Any = None) -> list[str]:
        from peephole.modalities.text.report import lines

        return lines(explanation, colour, score)

    def map_shape(self, x: list[str]) -> tuple[int, ...]:
        return (len(x),)

    def curve_masker(self, mode: str) -> Masker:
        """Words not yet inserted / already deleted are dropped from the text."""
        return self.masker(self.default_masker)
