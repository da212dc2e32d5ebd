"""scikit-learn estimators (a fitted classifier, regressor or pipeline; XGBoost's and LightGBM's scikit-learn models)
as models of rows, sequences or texts.

A classifier's scores are its ``predict_proba`` (probabilities, so no ``output=`` to declare), its class names its
``classes_`` (``[0, 1]`` gives ``"0", "1"``); a regressor's score is its ``predict`` (one value per input, one
"class"). Rows and sequences are given as rows: a batch of rows (N×F) as it is, a batch of sequences (N×T×F)
flattened to N×(T·F), as a model fitted on flattened sequences reads it; an estimator fitted on a DataFrame gets one
with its column names (``feature_names_in_``) when pandas is installed. Texts are given as a list of strings (a
``TfidfVectorizer`` + ``LogisticRegression`` pipeline reads them). A classifier without ``predict_proba`` (an ``SVC``
without ``probability=True``) or an estimator that is not fitted is an :class:`~peephole.errors.InputError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from peephole.errors import InputError
from peephole.models.callable import CallableModel


def is_estimator(obj: Any) -> bool:
    """A scikit-learn-style estimator: it has ``fit`` and ``predict`` and is not called (a Keras model is)."""
    return hasattr(obj, "fit") and hasattr(obj, "predict") and not callable(obj)


class EstimatorScores:
    """``batch -> (N, K)``: an estimator's ``method`` (``predict_proba`` or ``predict``) on the batch, given as rows
    (``rows=True``) or as it is (texts). A class, not a closure, so that a run on Ray can send it to its workers."""

    def __init__(self, estimator: Any, method: str, rows: bool) -> None:
        self.estimator, self.method, self.rows = estimator, method, rows
        self.columns = getattr(estimator, "feature_names_in_", None)

    def __call__(self, batch: Any) -> np.ndarray:
        x = self._rows(batch) if self.rows else list(batch)
        out = np.asarray(getattr(self.estimator, self.method)(x), dtype=np.float64)
        return out.reshape(len(batch), -1)

    def _rows(self, batch: Any) -> Any:
        x = np.asarray(batch, dtype=np.float64).reshape(len(batch), -1)
        if self.columns is None or len(self.columns) != x.shape[1]:
            return x
        try:
            import pandas as pd
        except ImportError:
            return x
        return pd.DataFrame(x, columns=list(self.columns))


def estimator_model(
    obj: Any, output: str | None = None, class_names: Sequence[str] | None = None, rows: bool = True
) -> CallableModel:
    """``obj`` (see :func:`is_estimator`) as a :class:`~peephole.models.CallableModel` of its probabilities (a
    classifier) or its prediction (a regressor); ``output=`` may only repeat that. ``rows``: inputs are rows or
    sequences (else texts, given as they are)."""
    name = type(obj).__name__
    classifier = getattr(obj, "_estimator_type", None) == "classifier" or hasattr(obj, "classes_")
    if not _fitted(obj):
        raise InputError(f"the {name} is not fitted: fit it before explaining its predictions")
    if classifier and not hasattr(obj, "predict_proba"):
        raise InputError(
            f"the {name} gives no probabilities (predict_proba; an SVC needs probability=True): pass a function of a "
            "batch returning its scores, with output='scores'"
        )
    method, own = ("predict_proba", "probs") if classifier else ("predict", "scores")
    if output is not None and output != own:
        raise InputError(f"output={output!r} contradicts the {name}, whose {method} gives {own}")
    names = class_names
    if names is None and classifier and hasattr(obj, "classes_"):
        names = [str(c) for c in obj.classes_]
    return CallableModel(EstimatorScores(obj, method, rows), own, names)


def _fitted(obj: Any) -> bool:
    """Whether ``obj`` is fitted (scikit-learn's ``check_is_fitted``: the attributes fitting sets)."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(obj)
    except NotFittedError:
        return False
    except TypeError:  # not an estimator check_is_fitted reads: its first call tells
        return True
    return True
