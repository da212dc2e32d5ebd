"""The PP-OCRv4 DBNet text detector (Liao et al., AAAI 2020) as a :class:`~peephole.models.detection.Detector`: a
CNN whose ONNX file ships inside the ``rapidocr-onnxruntime`` wheel (``pip install --no-deps rapidocr-onnxruntime``;
the file is found through the wheel's file list, its package is never imported), run offline on onnxruntime.

DBNet returns a text-probability map; boxes come from its own post-processing (PaddleOCR's ``DBPostProcess``):
the map thresholded at ``thresh``, dilated by 2×2, each contour's box kept when the mean probability inside the
contour (its score) is at least ``box_thresh``, then grown by ``unclip_ratio`` · area / perimeter. Boxes here are
axis-aligned (x0, y0, x1, y1 of that rectangle).
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

import numpy as np

from peephole.errors import InputError
from peephole.models.detection import Detector

MODEL = "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx"


def model_path() -> str:
    """The DBNet ONNX file inside the installed ``rapidocr-onnxruntime`` distribution (not imported: it would need
    its own dependencies, which Peephole does not)."""
    hint = "dbnet-text needs the rapidocr-onnxruntime wheel: pip install --no-deps rapidocr-onnxruntime"
    try:
        dist = metadata.distribution("rapidocr-onnxruntime")
    except metadata.PackageNotFoundError as exc:
        raise InputError(hint) from exc
    path = next((dist.locate_file(f) for f in dist.files or () if str(f) == MODEL), None)
    if path is None or not path.is_file():
        raise InputError(f"{hint} (its {MODEL} is missing)")
    return str(path)


def dbnet_detector(
    side: int = 640, thresh: float = 0.3, box_thresh: float = 0.5, unclip_ratio: float = 1.6, threshold: float | None = None
) -> Detector:
    """DBNet on images resized so that their longer side is ``side`` (both sides multiples of 32, as the network
    needs); PP-OCR's normalisation ((x - 0.5) / 0.5 on BGR)."""
    import onnxruntime as ort

    session = ort.InferenceSession(model_path(), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name

    def detect(batch: Any) -> list[dict[str, np.ndarray]]:
        import cv2

        batch = np.asarray(batch, np.float32)
        h, w = batch.shape[1:3]
        s = side / max(h, w)
        rh, rw = max(32, round(h * s / 32) * 32), max(32, round(w * s / 32) * 32)
        x = np.stack([cv2.resize(im, (rw, rh), interpolation=cv2.INTER_LINEAR) for im in batch])
        x = ((x[..., ::-1] - 0.5) / 0.5).transpose(0, 3, 1, 2)
        probs = session.run(None, {name: np.ascontiguousarray(x, np.float32)})[0][:, 0]
        return [boxes_of(p, w / rw, h / rh) for p in probs]

    def boxes_of(prob: np.ndarray, sx: float, sy: float) -> dict[str, np.ndarray]:
        import cv2

        bitmap = cv2.dilate((prob > thresh).astype(np.uint8), np.ones((2, 2), np.uint8))
        contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        boxes, scores = [], []
        for c in contours:
            x0, y0, bw, bh = cv2.boundingRect(c)
            if min(bw, bh) < 3:
                continue
            inside = np.zeros((bh, bw), np.uint8)
            cv2.fillPoly(inside, [c - [x0, y0]], 1)
            score = float(prob[y0 : y0 + bh, x0 : x0 + bw][inside > 0].mean())
            if score < box_thresh:
                continue
            d = bw * bh * unclip_ratio / (2 * (bw + bh))
            boxes.append([(x0 - d) * sx, (y0 - d) * sy, (x0 + bw + d) * sx, (y0 + bh + d) * sy])
            scores.append(score)
        b = np.clip(np.asarray(boxes, np.float64).reshape(-1, 4), 0, [prob.shape[1] * sx, prob.shape[0] * sy] * 2)
        return {"boxes": b, "scores": np.asarray(scores, np.float64), "labels": np.zeros(len(b), np.int64)}

    return Detector(detect, ["text"], threshold, batch_size=16, name="dbnet-text")
