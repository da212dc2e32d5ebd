"""Text maskers: what happens to the words a part does not keep.

The choice matters to the model and is always explicit: :class:`DropMasker` deletes hidden words
(the model sees a shorter text), :class:`TokenMasker` replaces each with a token such as
``[MASK]``, ``[UNK]`` or a pad token (the model sees the same length).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from peephole.core.perturb import BoundMasker, Masker
from peephole.errors import InputError
from peephole.models.text.tokenize import join


def _check(keep: np.ndarray, n: int) -> None:
    if keep.ndim != 2 or keep.shape[1] != n:
        raise InputError(f"keep-masks of shape {keep.shape[1:]} do not match a text of {n} words")


class DropMasker(Masker):
    """x_j = the kept words only, in their order, joined by spaces."""

    def bind(self, x: Sequence[str]) -> BoundMasker:
        ws = list(x)

        def apply(keep: np.ndarray) -> list[str]:
            _check(keep, len(ws))
            return [join([w for w, k in zip(ws, row) if k]) for row in keep]

        return apply


class TokenMasker(Masker):
    """x_j = the text with each hidden word replaced by ``token``; ``collapse`` merges runs of hidden words into one token."""

    def __init__(self, token: str = "[MASK]", collapse: bool = False) -> None:
        if not isinstance(token, str) or not token.strip() or len(token.split()) > 1:
            raise InputError(f"the mask token must be one non-empty word, got {token!r}")
        self.token, self.collapse = token, collapse

    def bind(self, x: Sequence[str]) -> BoundMasker:
        ws = list(x)

        def apply(keep: np.ndarray) -> list[str]:
            _check(keep, len(ws))
            out = []
            for row in keep:
                toks = [w if k else self.token for w, k in zip(ws, row)]
                if self.collapse:
                    toks = [t for i, t in enumerate(toks) if row[i] or i == 0 or row[i - 1]]
                out.append(join(toks))
            return out

        return apply


def make_text_masker(masker: str | Masker) -> Masker:
    """``'drop'`` or a replacement token (``'[MASK]'``, ``'[UNK]'``, ``'<pad>'`` ...), or a :class:`Masker`."""
    if isinstance(masker, Masker):
        return masker
    if isinstance(masker, str):  # a str first: an array compared with 'drop' has no single truth value
        return DropMasker() if masker == "drop" else TokenMasker(masker)
    raise InputError(f"unknown text masker {masker!r}; use 'drop', a replacement token such as '[MASK]', or a Masker")
