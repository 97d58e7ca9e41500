"""StanceModel: fit/predict round trip, one row per input, sklearn conventions, explain."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from japan_stance.model import StanceModel, build_model

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
