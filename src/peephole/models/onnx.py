"""Adapter for an ONNX file run with onnxruntime."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from peephole.engine.query import OUTPUT_KINDS
from peephole.errors import InputError
from peephole.models.preprocess import ImagePreprocess


class OnnxModel:
    """Runs an ONNX graph with onnxruntime (CPU unless ``providers`` says otherwise).

    ``preprocess=None`` feeds the N×H×W×3 [0, 1] batch unchanged (the graph does its own
    preprocessing, as Peephole's exported EfficientNet-Lite0 does).
    """

    modality = "image"  #: inputs are N×H×W×3 float32 RGB images in [0, 1]

    def __init__(
        self,
        path: str | Path,
        output: str,
        preprocess: ImagePreprocess | None = None,
        class_names: Sequence[str] | None = None,
        batch_size: int | None = 16,
        providers: Sequence[str] = ("CPUExecutionProvider",),
    ) -> None:
        import onnxruntime as ort

        if output not in OUTPUT_KINDS:
            raise InputError(f"output must be one of {OUTPUT_KINDS}, got {output!r}")
        p = Path(path)
        if not p.is_file():
            raise InputError(f"{p}: no such ONNX file")
        try:
            self.session = ort.InferenceSession(str(p), providers=list(providers))
        except Exception as exc:
            raise InputError(f"{p}: onnxruntime cannot load it ({exc})") from exc
        self.input_name = self.session.get_inputs()[0].name
        self.output, self.preprocess = output, preprocess
        self.class_names = list(class_names) if class_names is not None else None
        self.preferred_batch_size = batch_size

    def __call__(self, batch: Any) -> np.ndarray:
        x = self.preprocess(batch) if self.preprocess else np.ascontiguousarray(batch, dtype=np.float32)
        return self.session.run(None, {self.input_name: x})[0]
