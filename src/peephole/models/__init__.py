"""Model adapters. Every image model is called on N×H×W×3 float32 batches in [0, 1] (RGB) and returns, for its task
(:mod:`peephole.tasks`), ``(N, n_classes)`` scores (classification), per-pixel ``(N, n_classes, h, w)`` scores
(segmentation) or boxes (detection); it declares what scores are with ``output`` (``'probs'``, ``'logits'`` —
softmax is applied — or ``'scores'``). Preprocessing (resizing, normalisation, channel order) is the adapter's job.
"""

from peephole.models.base import Model, as_model
from peephole.models.callable import CallableModel
from peephole.models.onnx import OnnxModel
from peephole.models.preprocess import ImagePreprocess
from peephole.models.registry import load_model
from peephole.models.torch import TorchModel

__all__ = ["CallableModel", "ImagePreprocess", "Model", "OnnxModel", "TorchModel", "as_model", "load_model"]
