"""Text models: any callable ``list[str] -> (N, K)``, Hugging Face classifiers, VADER and MiniLM sentiment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from peephole.errors import InputError

BUILTIN = ("vader", "minilm")
#: the transformers pipelines read as text classifiers (their model's logits over its labels)
TEXT_PIPELINES = ("text-classification", "sentiment-analysis")


def load_text_model(name: str | Path, queries: Any = None, template: str | None = None, **kwargs: Any) -> Any:
    """``'vader'``, ``'minilm'`` or the path of a Hugging Face sequence-classifier folder (loaded offline); with
    ``queries``, the folder of a natural-language-inference model as a zero-shot classifier of them, each written
    into ``template`` (:class:`~peephole.models.text.zero_shot.HFZeroShotTextClassifier`)."""
    if template is not None and queries is None:
        raise InputError("template= is the hypothesis each query goes into: give queries= with it")
    if queries is not None:
        if not Path(name).is_dir():
            raise InputError(f"queries are for the folder of a natural-language-inference model; {str(name)!r} is none")
        from peephole.models.text.hf import load_sequence_classifier
        from peephole.models.text.zero_shot import HFZeroShotTextClassifier

        hypothesis = {} if template is None else {"template": template}
        return HFZeroShotTextClassifier(*load_sequence_classifier(name), queries=queries, **hypothesis, **kwargs)
    if name == "vader":
        from peephole.models.text.vader import VaderSentiment

        return VaderSentiment()
    if name == "minilm":
        from peephole.models.text.minilm import MiniLMSentiment

        return MiniLMSentiment(**kwargs)
    if Path(name).is_dir():
        from peephole.models.text.hf import HFTextClassifier

        return HFTextClassifier.from_pretrained(name, **kwargs)
    raise InputError(f"unknown text model {str(name)!r}: use one of {BUILTIN} or the folder of a Hugging Face classifier")


def as_text_model(obj: Any, output: str | None = None, class_names: Any = None) -> Any:
    """A :class:`peephole.models.Model` for text: a name/folder, a ``transformers`` pipeline or model, a scikit-learn
    text pipeline (:mod:`peephole.models.sklearn`) or a callable."""
    from peephole.models.base import as_model
    from peephole.models.sklearn import estimator_model, is_estimator

    if isinstance(obj, (str, Path)):
        obj = load_text_model(obj)
    elif hasattr(obj, "task") and hasattr(obj, "tokenizer") and hasattr(obj, "model"):
        from peephole.models.text.hf import HFTextClassifier
        from peephole.models.text.zero_shot import HFZeroShotTextClassifier, is_zero_shot_text_pipeline

        if is_zero_shot_text_pipeline(obj):
            obj = HFZeroShotTextClassifier(obj)  # an InputError saying how to give its queries
        elif obj.task not in TEXT_PIPELINES:
            raise InputError(
                f"a transformers {obj.task!r} pipeline: Peephole reads text-classification (sentiment-analysis) "
                "pipelines, and zero-shot-classification ones through HFZeroShotTextClassifier(pipe, queries=[...])"
            )
        else:
            obj = HFTextClassifier.from_pipeline(obj)
    elif hasattr(obj, "config") and hasattr(obj, "forward"):
        raise InputError(
            "a transformers model needs its tokenizer: pass HFTextClassifier(model, tokenizer), "
            "a text-classification pipeline, or the model's folder"
        )
    elif is_estimator(obj):  # a scikit-learn text pipeline (TfidfVectorizer + a classifier) reads the texts
        return estimator_model(obj, output, class_names, rows=False)
    return as_model(obj, output=output, class_names=class_names)
