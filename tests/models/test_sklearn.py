"""scikit-learn estimators as models (peephole.models.sklearn): classifiers' probabilities and class names,
regressors' predictions, text pipelines, DataFrame column names; unfitted or probability-less ones refused."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

import peephole
from peephole.errors import InputError
from peephole.modalities.sequence import FeatureBaseline

RNG = np.random.default_rng(0)
X = RNG.normal(size=(300, 6))
Y = np.where(X[:, 2] > 0, "churn", "stay")  # only feature 2 decides


def test_a_classifier_is_explained_by_its_probabilities_and_named_by_its_classes():
    clf = RandomForestClassifier(50, random_state=0).fit(X, Y)
    e = peephole.explain(clf, X[0], modality="sequence", partition="single", masker=FeatureBaseline(X.mean(0)),
                         targets="churn")  # fmt: skip
    assert e.class_names == ["churn", "stay"] and e.targets == [0]
    np.testing.assert_allclose(e.probabilities, clf.predict_proba(X[:1])[0])
    assert int(np.argmax(np.abs(e.maps[0]))) == 2


def test_a_regressor_is_explained_by_its_prediction():
    reg = GradientBoostingRegressor(random_state=0).fit(X, 3 * X[:, 4])
    e = peephole.explain(reg, X[1], modality="sequence", partition="single", masker=FeatureBaseline(X.mean(0)))
    np.testing.assert_allclose(e.probabilities, reg.predict(X[1:2]))
    assert int(np.argmax(np.abs(e.maps[0]))) == 4


def test_a_text_pipeline_reads_the_texts():
    texts = ["good film", "bad film", "great acting", "awful plot", "good plot", "bad acting"] * 5
    pipe = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(texts, ["pos", "neg", "pos", "neg", "pos", "neg"] * 5)
    e = peephole.explain(pipe, "a good film with an awful plot", modality="text", targets="pos")
    words = dict(zip(e.input, e.maps[0]))
    assert e.class_names == ["neg", "pos"] and words["good"] > words["film"] > words["awful"]


def test_an_estimator_fitted_on_a_dataframe_gets_its_column_names():
    pd = pytest.importorskip("pandas")
    clf = LogisticRegression().fit(pd.DataFrame(X, columns=list("abcdef")), Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # sklearn: "X does not have valid feature names" when given an array
        e = peephole.explain(clf, X[0], modality="sequence", partition="single")
    np.testing.assert_allclose(e.probabilities, clf.predict_proba(pd.DataFrame(X[:1], columns=list("abcdef")))[0])


def test_a_run_over_rows_explains_each_with_the_estimator(tmp_path):
    np.save(tmp_path / "rows.npy", X[:3])
    clf = RandomForestClassifier(20, random_state=0).fit(X, Y)
    run = peephole.run(clf, tmp_path / "rows.npy", out=tmp_path / "run", modality="sequence", progress=False, partition="single")
    assert run.complete()["done"] == 3


@pytest.mark.parametrize(
    ("estimator", "kw", "match"),
    [
        (LogisticRegression(), {}, "is not fitted"),
        (SVC().fit(X, Y), {}, "gives no probabilities .* probability=True"),
        (LogisticRegression().fit(X, Y), {"output": "logits"}, "output='logits' contradicts the LogisticRegression"),
    ],
)
def test_an_estimator_that_cannot_give_scores_is_one_error(estimator, kw, match):
    with pytest.raises(InputError, match=match):
        peephole.explain(estimator, X[0], modality="sequence", partition="single", **kw)
