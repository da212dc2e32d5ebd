"""Hugging Face ``transformers`` segmentation models, with their image processor, or an ``image-segmentation`` pipeline
holding one, explained with the segmentation task (:class:`peephole.tasks.Segmentation`), class names from
``config.id2label``: a ``...ForSemanticSegmentation`` (SegFormer, UperNet, DPT, MobileViT, BEiT, ...) by its per-pixel
``logits``; a mask-classification model (Mask2Former, MaskFormer, EoMT, OneFormer: per-query class and mask logits)
by the semantic scores its processor's ``post_process_semantic_segmentation`` makes of them, Σ_q softmax(class_q)[c] ·
sigmoid(mask_q) without the no-object class (Cheng et al., CVPR 2022), at the masks' own size. OneFormer also reads a
task text ("the task is semantic", tokenised by its processor once and given with every batch: :func:`task_text`).

The model runs where its parameters are (a :class:`~peephole.models.TorchModel`); its input is the processor's size and
normalisation (:func:`peephole.models.hf_image.preprocess_of`: the whole image, resized); its logits are read at the
size it returns them (a SegFormer's: a quarter of its input), each class's region drawn over the input.

A mask-classification model is also an instance segmenter: :func:`peephole.models.hf_detection.instance_detector`
explains it instance by instance with the detection task (each instance's mask IoU, :mod:`peephole.tasks.detection`),
the instances being what its processor's ``post_process_instance_segmentation`` finds.
"""

from __future__ import annotations

import inspect
from typing import Any

from peephole.errors import InputError
from peephole.models.hf_image import id2label_names, preprocess_of
from peephole.models.torch import TorchModel

#: class-name endings of the mask-classification heads (per-query class logits and mask logits)
QUERY_HEADS = ("ForUniversalSegmentation", "ForInstanceSegmentation")
#: every segmentation head this adapter reads
SEGMENTATION_HEADS = ("ForSemanticSegmentation", *QUERY_HEADS)


def reads_pixels(model: Any) -> bool:
    """A transformers model whose main input is ``pixel_values`` (OneFormer's: ``pixel_values`` and its task text)."""
    main = getattr(model, "main_input_name", None)
    return main == "pixel_values" or (isinstance(main, (list, tuple)) and list(main[:1]) == ["pixel_values"])


def is_hf_segmenter(obj: Any) -> bool:
    """A transformers segmentation model (see the module's doc), or an ``image-segmentation`` pipeline holding one."""
    model = obj.model if getattr(obj, "task", None) == "image-segmentation" and hasattr(obj, "model") else obj
    name = type(model).__name__
    return reads_pixels(model) and ("ForSemanticSegmentation" in name or name.endswith(QUERY_HEADS))


def is_mask_classifier(obj: Any) -> bool:
    """A transformers mask-classification model (Mask2Former, MaskFormer, EoMT, OneFormer: per-query class and mask
    logits)."""
    return reads_pixels(obj) and type(obj).__name__.endswith(QUERY_HEADS)


def task_text(model: Any, processor: Any, task: str) -> dict[str, Any]:
    """The inputs beside the pixels that tell ``model`` its ``task``: none for a model that reads the image alone; for
    OneFormer (Jain et al., CVPR 2023), which reads a task text, ``task_inputs``: "the task is semantic" (or
    "instance") as its processor tokenises it (one InputError without a processor that can)."""
    if "task_inputs" not in inspect.signature(model.forward).parameters:
        return {}
    import numpy as np

    try:
        tokens = processor(images=np.zeros((8, 8, 3), np.uint8), task_inputs=[task], return_tensors="pt")["task_inputs"]
    except (TypeError, ValueError, KeyError, AttributeError):  # no processor, or one that takes no task
        tokens = None
    if getattr(tokens, "ndim", None) != 2:  # an image processor alone gives the text untokenised
        raise InputError(
            f"a {type(model).__name__} reads a task text beside the image: pass its processor (image processor and "
            f"tokenizer, e.g. OneFormerProcessor), which tokenises it; got {type(processor).__name__}"
        )
    return {"task_inputs": tokens}


def with_inputs(model: Any, inputs: dict[str, Any]) -> Any:
    """``model`` as a module of the pixels alone, ``inputs`` (one row each) repeated for every image of a batch."""
    if not inputs:
        return model
    import torch

    from peephole.models.torch import module_device

    class Prompted(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model
            self.inputs = {k: v.to(module_device(model)) for k, v in inputs.items()}

        def forward(self, pixel_values: Any) -> Any:
            n = len(pixel_values)
            return self.model(pixel_values=pixel_values, **{k: v.expand(n, *v.shape[1:]) for k, v in self.inputs.items()})

    return Prompted()


def image_processor(processor: Any) -> Any:
    """The image processor in ``processor`` (a processor holding one, as OneFormer's does), or ``processor`` itself."""
    return getattr(processor, "image_processor", None) or processor


class HFSegmenter(TorchModel):
    """``N×H×W×3`` [0, 1] batches -> ``(N, K, h, w)`` per-pixel class scores of a transformers segmentation model:
    logits of a semantic head, the semantic scores of a mask-classification one (``output='scores'``)."""

    modality = "image"
    task = "segmentation"

    def __init__(
        self, model: Any, processor: Any = None, class_names: Any = None, device: Any = None, batch_size: int | None = None
    ) -> None:
        if getattr(model, "task", None) == "image-segmentation":  # a pipeline: its model and image processor
            processor, model = processor if processor is not None else getattr(model, "image_processor", None), model.model
        self.queries = is_mask_classifier(model)
        names = class_names if class_names is not None else id2label_names(model.config)
        output = "scores" if self.queries else "logits"
        module = with_inputs(model, task_text(model, processor, "semantic"))
        super().__init__(module, output, preprocess_of(model.config, image_processor(processor)), device, names, batch_size)
        self.network, self.processor = model, processor  # the transformers model (module: it with its task text)

    def instance_detector(self, segments: str = "instance") -> Any:
        """This model explained segment by segment (``task="detection"``): a mask-classification model's
        :func:`~peephole.models.hf_detection.instance_detector` of its ``"instance"`` or ``"panoptic"`` segments; a
        semantic head, which finds no instances, one InputError."""
        if not self.queries:
            raise InputError(
                f"a {type(self.module).__name__} labels pixels and finds no instances: explain it with task='segmentation'"
            )
        from peephole.models.hf_detection import instance_detector

        return instance_detector(self.network, self.processor, self.class_names, segments=segments)

    def scores_of(self, out: Any) -> Any:
        """The per-pixel logits, or a mask-classification model's semantic scores."""
        if not self.queries:
            return out.logits
        import torch

        classes = out.class_queries_logits.softmax(dim=-1)[..., :-1]  # without the no-object class
        return torch.einsum("bqc,bqhw->bchw", classes, out.masks_queries_logits.sigmoid())
