"""What a transformers classifier's logits mean, from its config's ``problem_type`` (as its pipelines read it).

A single-label classifier's logits take a softmax over the classes; a multi-label one's each take their own sigmoid
(every label a yes/no probability: a softmax over labels would make them compete, and a map would explain the wrong
number); a regression head's outputs are values, used as they are.
"""

from __future__ import annotations

from typing import Any

from peephole.errors import InputError

#: ``config.problem_type`` -> (the output kind the adapter declares, whether it applies a sigmoid to the logits)
PROBLEM_OUTPUTS: dict[str | None, tuple[str, bool]] = {
    None: ("logits", False),  # transformers' default: single-label
    "single_label_classification": ("logits", False),
    "multi_label_classification": ("probs", True),
    "regression": ("scores", False),
}


def problem_output(config: Any) -> tuple[str, bool]:
    """``(output kind, sigmoid?)`` for a transformers model's ``config`` (see :data:`PROBLEM_OUTPUTS`)."""
    kind = getattr(config, "problem_type", None)
    if kind not in PROBLEM_OUTPUTS:
        raise InputError(f"the model's config.problem_type is {kind!r}; Peephole reads {sorted(map(str, PROBLEM_OUTPUTS))}")
    return PROBLEM_OUTPUTS[kind]
