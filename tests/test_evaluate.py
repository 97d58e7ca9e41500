"""Metrics against hand-computed values; confusion matrices; plots."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from japan_stance.evaluate import evaluate, plot_confusion, score_predictions
from japan_stance.model import StanceModel


def rows(stance, predicted):
    n = len(stance)
    p = {"favor": [0.8, 0.1, 0.1], "against": [0.1, 0.8, 0.1], "none": [0.1, 0.1, 0.8]}
    proba = np.array([p[s] for s in predicted])
    return pd.DataFrame(
        {"stance": stance, "predicted": predicted, "p_favor": proba[:, 0], "p_against": proba[:, 1], "p_none": proba[:, 2]},
        index=range(n),
    )


def test_f_avg_is_mean_of_favor_and_against_f1(schema):
    # favor: tp=1 fp=1 fn=1 -> F1 0.5; against: tp=2 fp=0 fn=0 -> 1.0; none is not averaged in.
    m = score_predictions(rows(["favor", "favor", "against", "against", "none"], ["favor", "none", "against", "against", "favor"]), schema)
    assert m["f_avg"] == pytest.approx(0.75)
    assert m["f1_favor"] == pytest.approx(0.5)
    assert m["accuracy"] == pytest.approx(0.6)
    # right with 0.8: 0.2^2 + 0.1^2 + 0.1^2 = 0.06; wrong: 0.9^2 + 0.1^2 + 0.8^2 = 1.46
    assert m["brier"] == pytest.approx((3 * 0.06 + 2 * 1.46) / 5)


def test_evaluate_reports_every_issue_and_pooled(labels, schema):
    model = StanceModel(issues=schema.issues, random_state=0).fit(labels)
    evaluation = evaluate(model, labels, schema)
    for issue in schema.issues:
        for metric in ("f_avg", "macro_f1", "accuracy", "log_loss", "brier"):
            assert f"{issue}.{metric}" in evaluation.metrics
        assert evaluation.confusion[issue].shape == (3, 3)
        assert evaluation.confusion[issue].sum() == (labels["issue"] == issue).sum()
    assert evaluation.metrics["n"] == len(labels)
    table = evaluation.table(schema)
    assert list(table.index) == [*schema.issues, "pooled"]
    assert len(evaluation.predictions) == len(labels)


def test_confusion_plot_has_the_stance_labels(schema):
    fig = plot_confusion(np.array([[2, 0, 1], [0, 3, 0], [1, 0, 4]]), "restraint", schema)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(schema.stances)
    assert "n=11" in ax.get_title()
