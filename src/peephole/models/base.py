"""The model interface every adapter implements, and conversion of user objects to it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from peephole.errors import InputError


@runtime_checkable
class Model(Protocol):
    """A black box: ``model(batch) -> (N, n_classes)`` array, with ``output`` saying what it returns."""

    output: str
    class_names: Sequence[str] | None
    preferred_batch_size: int | None

    def __call__(self, batch: Any) -> np.ndarray: ...


def as_model(obj: Any, output: str | None = None, class_names: Sequence[str] | None = None) -> Model:
    """Wrap ``obj`` (a :class:`Model`, a model name, an ``.onnx`` path, a transformers image classifier or
    ``image-classification`` pipeline, a timm model, a fitted scikit-learn estimator (:mod:`peephole.models.sklearn`),
    a torch module or a callable).

    What a plain callable or torch module returns must be declared (``output=``): Peephole never
    guesses between probabilities and logits (transformers classifiers say what theirs return in
    ``config.problem_type``, :mod:`peephole.models.hf_problem`; timm classifiers return logits).
    """
    from peephole.models.callable import CallableModel
    from peephole.models.sklearn import estimator_model, is_estimator

    if isinstance(obj, str) or hasattr(obj, "__fspath__"):
        from peephole.models.registry import load_model

        model: Model = load_model(str(obj))
    elif isinstance(obj, Model):
        model = obj
    elif (hub := hub_model(obj, class_names)) is not None:
        model, class_names = hub, None  # its output kind and class names are the model's (or the names given)
    elif is_estimator(obj):
        return estimator_model(obj, output, class_names)
    elif hasattr(obj, "forward") and hasattr(obj, "parameters"):
        from peephole.models.torch import TorchModel

        if output is None:
            raise InputError("a torch module's outputs must be declared: pass output='logits' or output='probs'")
        return TorchModel(obj, output=output, class_names=class_names)
    elif callable(obj):
        if output is None:
            raise InputError("a plain callable must declare what it returns: pass output='probs', 'logits' or 'scores'")
        return CallableModel(obj, output=output, class_names=class_names)
    else:
        raise InputError(f"cannot use a {type(obj).__name__} as a model")
    if output is not None and output != model.output:
        raise InputError(f"output={output!r} contradicts the model's declared output {model.output!r}")
    if class_names is not None and list(class_names) != list(model.class_names or []):
        raise InputError(
            f"class_names= given for a {type(model).__name__} that names its classes "
            f"{'otherwise' if model.class_names else 'not at all'}: give the names to the model adapter itself"
        )
    return model


def hub_model(obj: Any, class_names: Sequence[str] | None = None) -> Model | None:
    """A transformers image classifier, object detector or segmentation model (or their pipelines), or a timm model,
    wrapped (None: none of them); a text-prompted model (CLIP, OWL-ViT, ...) is an InputError saying how to give its
    queries."""
    from peephole.models.hf_detection import hf_detector, is_detection_pipeline, is_hf_detector
    from peephole.models.hf_image import IMAGE_PIPELINES, HFImageClassifier, is_hf_image_model, is_image_pipeline
    from peephole.models.hf_segmentation import HFSegmenter, is_hf_segmenter
    from peephole.models.hf_zero_shot import HFZeroShotClassifier, is_zero_shot_model
    from peephole.models.timm import TimmModel, is_timm_model

    if is_detection_pipeline(obj) or is_hf_detector(obj):
        return hf_detector(obj, class_names=class_names)
    if is_zero_shot_model(obj):
        return HFZeroShotClassifier(obj)
    if is_hf_segmenter(obj):
        return HFSegmenter(obj, class_names=class_names)
    if is_image_pipeline(obj):
        return HFImageClassifier.from_pipeline(obj, class_names)
    if is_hf_image_model(obj):
        return HFImageClassifier(obj, class_names=class_names)
    if is_timm_model(obj):
        return TimmModel(obj, class_names)
    task = getattr(obj, "task", None)
    if isinstance(task, str) and hasattr(obj, "model") and task.startswith(IMAGE_PIPELINES):
        raise InputError(
            f"a transformers {task!r} pipeline of a {type(obj.model).__name__}: Peephole reads image-classification, "
            "zero-shot-image-classification, object-detection, zero-shot-object-detection and image-segmentation "
            "pipelines of semantic or mask-classification models (SegFormer, Mask2Former, ...)"
        )
    return None


def use_device(model: Any, device: Any) -> None:
    """Run ``model`` (a wrapped torch model) with inputs on ``device`` — its module's own device, checked: Peephole
    never moves a module. ``None``: nothing to do (a torch model runs where its parameters are)."""
    if device is None:
        return
    if not hasattr(model, "use_device"):
        raise InputError(
            f"device= is for torch models (a torch module, TorchModel or HFTextClassifier); "
            f"a {type(model).__name__} runs where it is"
        )
    model.use_device(device)


def placed(model: Any, device: Any) -> Any:
    """A model Peephole loaded by name (its own module, never a user's) moved to ``device`` and run there; ``None``:
    as loaded. A model without a torch module (ONNX, a callable) gets one :class:`InputError`."""
    if device is None:
        return model
    if not (hasattr(model, "module") and hasattr(model, "use_device")):
        raise InputError(
            f"device= is for torch models; a {type(model).__name__} runs where it is (for efficientnet-lite0: backend='torch')"
        )
    model.module.to(device)
    model.use_device(device)
    return model
