"""Hugging Face ``transformers`` semantic segmentation models (SegFormer, UperNet, DPT, MobileViT, BEiT, ...: a
``...ForSemanticSegmentation`` returning per-pixel ``logits``), with their image processor, or an ``image-segmentation``
pipeline holding one: explained with the segmentation task (:class:`peephole.tasks.Segmentation`), class names from
``config.id2label``.

The model runs where its parameters are (a :class:`~peephole.models.TorchModel`); its input is the processor's size and
normalisation (:func:`peephole.models.hf_image.preprocess_of`: the whole image, resized); its logits are read at the
size it returns them (a SegFormer's: a quarter of its input), each class's region drawn over the input.
"""

from __future__ import annotations

from typing import Any

from peephole.models.hf_image import id2label_names, preprocess_of
from peephole.models.torch import TorchModel


def is_hf_segmenter(obj: Any) -> bool:
    """A transformers semantic segmentation model, or an ``image-segmentation`` pipeline holding one."""
    model = obj.model if getattr(obj, "task", None) == "image-segmentation" and hasattr(obj, "model") else obj
    return "ForSemanticSegmentation" in type(model).__name__ and getattr(model, "main_input_name", None) == "pixel_values"


class HFSegmenter(TorchModel):
    """``N×H×W×3`` [0, 1] batches -> ``(N, K, h, w)`` per-pixel logits of a transformers segmentation model."""

    modality = "image"
    task = "segmentation"

    def __init__(
        self, model: Any, processor: Any = None, class_names: Any = None, device: Any = None, batch_size: int | None = None
    ) -> None:
        if getattr(model, "task", None) == "image-segmentation":  # a pipeline: its model and image processor
            processor, model = processor if processor is not None else getattr(model, "image_processor", None), model.model
        names = class_names if class_names is not None else id2label_names(model.config)
        super().__init__(model, "logits", preprocess_of(model.config, processor), device, names, batch_size)
        self.processor = processor

    def scores_of(self, out: Any) -> Any:
        """The output object's per-pixel logits."""
        return out.logits
