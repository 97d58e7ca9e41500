"""StanceModel: fit/predict round trip, one row per input, sklearn conventions, explain."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from japan_stance.model import StanceModel, augment_features, build_model, split_shared_classifier

from conftest import compose_settings


@pytest.fixture
def fitted(labels, schema) -> StanceModel:
    return StanceModel(issues=schema.issues, C=10.0, random_state=0).fit(labels)


def test_round_trip_recovers_training_labels(fitted, labels):
    predicted = fitted.predict(labels.drop_duplicates("text"))
    wide = labels.pivot(index="text", columns="issue", values="stance")
    truth = wide.loc[labels.drop_duplicates("text")["text"]].reset_index(drop=True)
    agreement = (predicted[list(truth.columns)].to_numpy() == truth.to_numpy()).mean()
    assert agreement > 0.9


def test_proba_has_one_row_per_input_and_sums_to_one(fitted, schema):
    texts = ["Japan urges restraint.", "Tokyo declined to join.", "Weather is fine."]
    for given in (texts, pd.Series(texts), pd.DataFrame({"text": texts, "other": 1})):
        proba = fitted.predict_proba(given)
        assert list(proba.columns) == schema.proba_columns
        assert len(proba) == 3
    for issue in schema.issues:
        assert np.allclose(proba[[f"{issue}.{s}" for s in schema.stances]].sum(axis=1), 1.0)


def test_dataframe_without_text_column_is_refused(fitted):
    with pytest.raises(ValueError, match="no 'text' column"):
        fitted.predict_proba(pd.DataFrame({"body": ["x", "y"]}))


def test_init_only_stores_params_and_clone_keeps_them():
    model = StanceModel(issues=("a", "b"), C=3.0, char_ngram_range=(2, 4))
    assert not hasattr(model, "vectorizer_")
    params = clone(model).get_params()
    assert params["C"] == 3.0 and params["issues"] == ("a", "b") and params["char_ngram_range"] == (2, 4)


@pytest.mark.parametrize("model_name", ["word", "word_char"])
def test_model_configs_build_with_their_params(tmp_path, schema, labels, model_name):
    settings = compose_settings(tmp_path, [f"model={model_name}"])
    model = build_model(settings["model"], schema, seed=settings["seed"])
    assert model.get_params()["C"] == settings["model"]["C"]
    assert model.word_ngram_range == tuple(settings["model"]["word_ngram_range"])
    assert model.random_state == settings["seed"]
    model.fit(labels)
    if model_name == "word_char":
        assert any(name.startswith("char__") for name in model.feature_names())


def test_explain_lists_top_ngrams_per_stance(fitted):
    top = fitted.explain("restraint", k=5)
    assert set(top) == {"favor", "against", "none"}
    assert all(len(v) == 5 for v in top.values())
    favor_words = " ".join(name for name, _ in top["favor"])
    assert any(w in favor_words for w in ("restraint", "ceasefire", "dialogue", "declined", "urges"))
    weights = [w for _, w in top["favor"]]
    assert weights == sorted(weights, reverse=True)


def test_fit_refuses_an_issue_outside_the_model(labels):
    with pytest.raises(ValueError, match="outside the model"):
        StanceModel(issues=("support_us",)).fit(labels)


def test_augmented_features_hold_shared_issue_and_bias_blocks():
    x = sp.csr_matrix(np.array([[1.0, 2.0], [3.0, 0.0], [0.0, 5.0]]))
    z = augment_features(x, np.array([0, 1, 0]), n_issues=2).toarray()
    assert z.shape == (3, 2 + 2 * 2 + 2)
    assert z.tolist() == [
        [1, 2, 1, 2, 0, 0, 1, 0],
        [3, 0, 0, 0, 3, 0, 0, 1],
        [0, 5, 0, 5, 0, 0, 1, 0],
    ]


@pytest.mark.parametrize("n_classes", [2, 3])
def test_split_classifiers_predict_exactly_what_the_shared_model_does(n_classes):
    rng = np.random.default_rng(0)
    x = sp.random(300, 20, density=0.3, random_state=1, format="csr")
    issue_index = rng.integers(0, 3, 300)
    y = rng.integers(0, n_classes, 300)
    shared = LogisticRegression(C=2.0, max_iter=500).fit(augment_features(x, issue_index, 3), y)
    split = split_shared_classifier(shared, n_features=20, n_issues=3)
    for k, clf in enumerate(split):
        rows = issue_index == k
        expected = shared.predict_proba(augment_features(x[rows], issue_index[rows], 3))
        assert np.allclose(clf.predict_proba(x[rows]), expected)
    assert not np.allclose(split[0].coef_, split[1].coef_)


def test_shared_weights_model_fits_predicts_and_explains(labels, schema):
    model = StanceModel(issues=schema.issues, C=10.0, share_weights=True, random_state=0).fit(labels)
    assert all(isinstance(c, LogisticRegression) for c in model.classifiers_.values())
    proba = model.predict_proba(["Japan urges restraint.", "Tokyo backs Washington."])
    for issue in schema.issues:
        assert np.allclose(proba[[f"{issue}.{s}" for s in schema.stances]].sum(axis=1), 1.0)
    restored = StanceModel.from_fitted_parts(pickle.loads(pickle.dumps(model.fitted_parts())))  # as the pyfunc stores it
    assert np.allclose(restored.predict_proba(["Japan urges restraint."]), model.predict_proba(["Japan urges restraint."]))
    assert set(model.explain("restraint", k=3)) == {"favor", "against", "none"}
    with pytest.raises(ValueError, match="share_weights cannot be combined with calibration"):
        StanceModel(issues=schema.issues, share_weights=True, calibration="sigmoid").fit(labels)
