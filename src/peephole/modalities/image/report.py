"""What a run's report shows of an image result: the input, and per class the map over it."""

from __future__ import annotations

from typing import Any

import numpy as np

from peephole.modalities.image.view import overlay


def input_picture(explanation: Any) -> np.ndarray:
    return (np.clip(explanation.input, 0, 1) * 255).round().astype(np.uint8)


def class_picture(explanation: Any, cls: int) -> np.ndarray:
    """The overlay of the map of ``cls`` (scaled to its own range) on the image."""
    return overlay(explanation.input, explanation.map_of(cls))
