"""OpenCV's Haar cascades (Viola-Jones) as a :class:`~peephole.models.detection.Detector`: a real detector that ships
inside the OpenCV wheel (``cv2.data.haarcascades``), offline and fast enough for tests and docs.

A box's score is the cascade's level weight (``detectMultiScale3(..., outputRejectLevels=True)``): the sum of the
last stage's weak classifiers, higher for a surer detection; negative weights are read as 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from peephole.errors import InputError
from peephole.models.detection import Detector

#: Registry name suffix -> (cascade file, class name).
CASCADES = {
    "face": ("haarcascade_frontalface_default.xml", "face"),
    "cat": ("haarcascade_frontalcatface.xml", "cat face"),
    "body": ("haarcascade_fullbody.xml", "body"),
}


def haar_detector(
    kind: str = "face",
    scale_factor: float = 1.1,
    min_neighbors: int = 5,
    max_side: int | None = None,
    threshold: float | None = None,
) -> Detector:
    """A Haar cascade detector (``kind``: one of :data:`CASCADES`); ``scale_factor`` and ``min_neighbors`` are
    ``detectMultiScale``'s; ``max_side``: images are shrunk to at most this side first (faster; boxes in the
    image's pixels)."""
    import cv2

    if kind not in CASCADES:
        raise InputError(f"unknown Haar cascade {kind!r}; use one of {sorted(CASCADES)}")
    file, name = CASCADES[kind]
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + file)
    if cascade.empty():
        raise InputError(f"OpenCV cannot read its cascade {file} from {cv2.data.haarcascades}")

    def detect_one(image: np.ndarray) -> dict[str, np.ndarray]:
        gray = cv2.cvtColor((np.clip(image, 0, 1) * 255).round().astype(np.uint8), cv2.COLOR_RGB2GRAY)
        s = 1.0 if max_side is None or max(gray.shape) <= max_side else max_side / max(gray.shape)
        if s != 1.0:
            gray = cv2.resize(gray, (round(gray.shape[1] * s), round(gray.shape[0] * s)), interpolation=cv2.INTER_AREA)
        rects, _, weights = cascade.detectMultiScale3(
            gray, scaleFactor=scale_factor, minNeighbors=min_neighbors, outputRejectLevels=True
        )
        rects = np.asarray(rects, np.float64).reshape(-1, 4) / s
        boxes = np.concatenate([rects[:, :2], rects[:, :2] + rects[:, 2:]], axis=1)
        scores = np.clip(np.asarray(weights, np.float64).reshape(-1), 0, None)
        return {"boxes": boxes, "scores": scores, "labels": np.zeros(len(boxes), np.int64)}

    def detect(batch: Any) -> list[dict[str, np.ndarray]]:
        return [detect_one(x) for x in batch]

    return Detector(detect, [name], threshold, batch_size=32, name=f"haar-{kind}")
