"""Quality tooling: grouped cross-validation, calibration, the none weight, baselines, bootstrap,
the SemEval experiment configs and CV metrics in a logged run."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from sklearn.calibration import CalibratedClassifierCV

from japan_stance.baselines import KeywordModel, MajorityModel, japan_keyword_rules
from japan_stance.config import SettingsError
from japan_stance.data import LabelError
from japan_stance.evaluate import bootstrap_scores, cross_predict, cross_validate, issue_metric, predict_rows
from japan_stance.model import StanceModel, build_model, calibration_folds
from japan_stance.schema import LabelSchema
from japan_stance.train import log_run

from conftest import compose_settings

CV_KEYS = {"f_avg", "macro_f1", "f1_favor", "f1_against", "log_loss", "brier", "n", "f_avg_macro_issues"}


@pytest.fixture
def many(labels) -> pd.DataFrame:
    """The fixture rows three times over (fresh texts), two articles per copy sharing an article id."""
    copies = [labels.assign(text=labels["text"] + f" (copy {k})", article_id=labels["article_id"] + f"-{k % 2}")
              for k in range(3)]
    return pd.concat(copies, ignore_index=True)


def test_cross_predict_keeps_each_group_in_one_fold(many, schema):
    rows = cross_predict(StanceModel(issues=schema.issues, random_state=0), many, schema, folds=3, seed=0)
    assert len(rows) == len(many) and (rows.index == many.index).all()
    assert (rows.groupby(many["article_id"])["fold"].nunique() == 1).all()
    assert rows["fold"].nunique() == 3


def test_cross_predict_honours_given_groups(many, schema):
    groups = many["text"].str.extract(r"copy (\d)")[0].to_numpy()  # three groups: the copies
    rows = cross_predict(StanceModel(issues=schema.issues, random_state=0), many, schema, folds=3, seed=1, groups=groups)
    assert (rows.groupby(groups)["fold"].nunique() == 1).all()


def test_cross_validate_returns_pooled_and_per_issue_metrics(many, schema):
    metrics = cross_validate(StanceModel(issues=schema.issues, random_state=0), many, schema, folds=3, seed=0)
    assert CV_KEYS <= set(metrics)
    assert {f"{i}.f_avg" for i in schema.issues} <= set(metrics)
    assert metrics["n"] == len(many)
    assert 0.0 <= metrics["f_avg"] <= 1.0


def test_repeated_cross_validation_is_the_mean_over_fold_seeds(many, schema):
    model = StanceModel(issues=schema.issues, random_state=0)
    single = [cross_validate(model, many, schema, folds=3, seed=seed) for seed in (0, 1)]
    repeated = cross_validate(model, many, schema, folds=3, seed=0, repeats=2)
    assert single[0]["f_avg"] != single[1]["f_avg"]  # the fold split alone moves the figure
    for key in ("f_avg", "brier", "restraint.f_avg"):
        assert repeated[key] == pytest.approx((single[0][key] + single[1][key]) / 2)
    assert repeated["f_avg_sd"] == pytest.approx(abs(single[0]["f_avg"] - single[1]["f_avg"]) / np.sqrt(2))
    assert "f_avg_sd" not in single[0]
    with pytest.raises(ValueError, match="repeats must be at least 1"):
        cross_validate(model, many, schema, folds=3, repeats=0)


def test_issue_metric_names_follow_the_logged_metrics():
    assert issue_metric("f_avg", "restraint") == "restraint.f_avg"
    assert issue_metric("cv.f_avg", "restraint") == "cv.restraint.f_avg"


def test_calibration_folds_keep_each_article_on_one_side_and_every_stance_in_each_fold():
    y = np.array(["favor", "none", "against", "none"] * 10)
    groups = np.repeat(np.arange(20), 2)  # articles of two sentences each
    folds = calibration_folds(y, groups, seed=0)
    assert len(folds) == 5
    for train, test in folds:
        assert set(groups[train]).isdisjoint(groups[test])
        assert set(y[test]) == set(y[train]) == {"favor", "against", "none"}
    rare = np.array(["favor", "against", "none", "none"] * 2 + ["none"] * 12)
    assert len(calibration_folds(rare, np.arange(20), seed=0)) == 2  # two `favor` articles allow two folds


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibrated_model_predicts_probabilities_summing_to_one(many, schema, method):
    model = StanceModel(issues=schema.issues, calibration=method, random_state=0)
    assert model.get_params()["calibration"] == method
    model.fit(many)
    assert all(isinstance(c, CalibratedClassifierCV) for c in model.classifiers_.values())
    proba = model.predict_proba(["Japan urged restraint and dialogue.", "Tokyo declined to join."])
    for issue in schema.issues:
        assert np.allclose(proba[[f"{issue}.{s}" for s in schema.stances]].sum(axis=1), 1.0)
    assert set(model.explain("restraint", k=3)) == set(schema.stances)


def test_unknown_calibration_is_refused(labels, schema):
    with pytest.raises(ValueError, match="calibration must be one of"):
        StanceModel(issues=schema.issues, calibration="platt").fit(labels)


def test_none_weight_moves_probability_away_from_none(labels, schema):
    texts = list(labels["text"].unique())
    p_none = {
        w: StanceModel(issues=schema.issues, none_weight=w, random_state=0).fit(labels).predict_proba(texts)["restraint.none"].mean()
        for w in (1.0, 0.3)
    }
    assert p_none[0.3] < p_none[1.0]


def test_model_config_keys_reach_the_model(tmp_path, schema):
    settings = compose_settings(tmp_path, ["model.calibration=sigmoid", "model.none_weight=0.5", "model.char_analyzer=char"])
    params = build_model(settings["model"], schema).get_params()
    assert (params["calibration"], params["none_weight"], params["char_analyzer"]) == ("sigmoid", 0.5, "char")


def test_keyword_rules_score_hand_made_sentences(schema):
    model = KeywordModel(issues=schema.issues, rules=japan_keyword_rules(), stances=schema.stances).fit()
    frame = pd.DataFrame({
        "text": ["Japan urged restraint and dialogue.", "Japan will acquire a counterstrike capability.",
                 "Tokyo called for respect of international law.", "It rained in Osaka."],
        "issue": ["restraint", "restraint", "international_law", "support_us"],
        "stance": ["favor", "against", "favor", "none"],
    })
    rows = predict_rows(model, frame, schema)
    assert list(rows["predicted"]) == ["favor", "against", "favor", "none"]
    assert np.allclose(rows[["p_favor", "p_against", "p_none"]].sum(axis=1), 1.0)


def test_majority_model_predicts_each_issues_majority(labels, schema):
    rows = predict_rows(MajorityModel(issues=schema.issues).fit(labels), labels, schema)
    assert set(rows["predicted"]) == {"none"}
    assert rows.loc[rows["issue"] == "support_us", "p_favor"].iloc[0] == pytest.approx(4 / 16)


def test_bootstrap_interval_brackets_the_point_value(labels, schema):
    rows = predict_rows(StanceModel(issues=schema.issues, C=10.0, random_state=0).fit(labels), labels, schema)
    rows.loc[rows.index[::5], "predicted"] = "none"  # some errors, so the interval has width
    table = bootstrap_scores(rows, schema, n_boot=200, seed=0)
    assert list(table.index) == list(schema.issues) and (table["n"] == 16).all()
    assert ((table["f_avg_low"] <= table["f_avg"]) & (table["f_avg"] <= table["f_avg_high"])).all()
    assert (table["f_avg_low"] < table["f_avg_high"]).any()


def test_semeval_experiment_composes_with_the_chosen_model(tmp_path):
    settings = compose_settings(tmp_path, ["experiment=semeval2016"])
    assert settings["data"]["name"] == "semeval2016" and settings["model"]["name"] == "semeval"
    schema = LabelSchema.from_config(settings["data"])
    model = build_model(settings["model"], schema, seed=settings["seed"])
    assert (model.C, model.word_ngram_range, model.char_ngram_range, model.max_df) == (1.0, (1, 3), (2, 5), 0.9)
    assert model.class_weight == "balanced" and model.share_weights and settings["cv_folds"] == 0


@pytest.mark.parametrize(("experiment", "data"), [("semeval_search", "semeval2016"), ("japan_search", "japan")])
def test_search_experiments_score_by_repeated_cross_validation_alone(tmp_path, experiment, data):
    settings = compose_settings(tmp_path, [f"experiment={experiment}"])
    assert settings["search"] is True and settings["tracking"]["register"] is False
    assert (settings["cv_folds"], settings["cv_repeats"]) == (5, 3)
    assert settings["data"]["name"] == data


def test_a_search_run_never_reads_the_eval_set_and_logs_no_model(fixture_settings, tmp_path):
    unreadable = tmp_path / "missing_test.csv"  # a normal run must read it, a search run must not
    data = fixture_settings["data"] | {"eval_labels": str(unreadable)}
    with pytest.raises(LabelError, match="missing_test.csv"):
        log_run(fixture_settings | {"data": data}, "normal", None)
    settings = fixture_settings | {"data": data, "search": True, "cv_folds": 2, "cv_repeats": 2, "seed": 0}
    summary = log_run(settings, "search", None)
    assert summary["model"] is None and summary["evaluation"] is None and summary["model_uri"] is None
    assert summary["n_eval"] == 0 and summary["version"] is None
    uri = settings["tracking"]["uri"]
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    run = client.get_run(summary["run_id"])
    assert run.data.metrics["cv.f_avg"] == pytest.approx(summary["cv"]["cv.f_avg"])
    assert "cv.f_avg_sd" in run.data.metrics and "f_avg" not in run.data.metrics
    assert [d.dataset.name for d in run.inputs.dataset_inputs] == ["japan-training"]
    assert {a.path for a in client.list_artifacts(summary["run_id"])}.isdisjoint({"model", "eval_predictions.csv"})
    assert not client.search_registered_models()


@pytest.mark.parametrize(
    ("change", "message"),
    [({"search": True}, "search=true scores a run by cross-validation alone"),
     ({"cv_folds": 1}, "cv_folds must be 0 (off) or at least 2"),
     ({"cv_folds": 2, "cv_repeats": 0}, "cv_repeats must be at least 1")],
)
def test_settings_that_cannot_make_a_run_are_refused(fixture_settings, change, message):
    with pytest.raises(SettingsError, match=re.escape(message)):
        log_run(fixture_settings | change, "bad", None)


def test_a_run_with_cv_folds_logs_cv_metrics(fixture_settings):
    settings = fixture_settings | {"cv_folds": 2, "seed": 0}  # seed 0: each fold keeps two stances per issue
    summary = log_run(settings, "cv", None)
    assert {f"cv.{k}" for k in CV_KEYS} <= set(summary["cv"])
    run = MlflowClient(settings["tracking"]["uri"]).get_run(summary["run_id"])
    assert run.data.metrics["cv.f_avg"] == pytest.approx(summary["cv"]["cv.f_avg"])
    assert "cv.support_us.f_avg" in run.data.metrics
