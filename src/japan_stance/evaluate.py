"""Evaluation: per-issue and pooled metrics, confusion matrices, plots.

``F_avg`` is SemEval-2016 Task 6's measure: the mean of F1(favor) and F1(against);
``none`` is a valid prediction but is not averaged in. Pooled figures put the rows of
every issue together, as the official scorer does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.base import clone
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    accuracy_score,
    confusion_matrix,
    f1_score,
    log_loss,
)
from sklearn.model_selection import GroupKFold

from japan_stance.data import split_groups
from japan_stance.schema import LabelSchema
from japan_stance.stats import f1_from_counts

METRICS = ("f_avg", "macro_f1", "accuracy", "log_loss", "brier")


@dataclass
class Evaluation:
    """The result of scoring a model on labelled rows."""

    metrics: dict[str, float]
    confusion: dict[str, np.ndarray]
    predictions: pd.DataFrame

    def table(self, schema: LabelSchema) -> pd.DataFrame:
        """Metrics as a table: one row per issue plus ``pooled``, one column per metric."""
        rows = [*schema.issues, "pooled"]
        return pd.DataFrame(
            {m: [self.metrics.get(f"{r}.{m}" if r != "pooled" else m, np.nan) for r in rows] for m in METRICS}
            | {"n": [self.metrics.get(f"{r}.n" if r != "pooled" else "n", 0) for r in rows]},
            index=pd.Index(rows, name="issue"),
        )


def predict_rows(model, frame: pd.DataFrame, schema: LabelSchema) -> pd.DataFrame:
    """Each labelled row with the model's probabilities for its own issue and its predicted stance.

    Adds ``p_favor``, ``p_against``, ``p_none`` and ``predicted``.
    """
    texts = pd.unique(frame["text"])
    proba = model.predict_proba(list(texts)).set_index(pd.Index(texts))
    out = frame[["text", "issue", "stance"]].copy()
    for role, stance in zip(("p_favor", "p_against", "p_none"), schema.stances, strict=True):
        columns = [schema.proba_column(issue, stance) for issue in out["issue"]]
        out[role] = [proba.at[t, c] for t, c in zip(out["text"], columns, strict=True)]
    p = out[["p_favor", "p_against", "p_none"]].to_numpy()
    out["predicted"] = np.asarray(schema.stances)[p.argmax(axis=1)]
    return out


def _clip_rows(proba: np.ndarray) -> np.ndarray:
    """Probabilities clipped away from 0 and renormalised to sum to 1 (for log-loss)."""
    clipped = np.clip(proba.astype(float), 1e-15, 1)
    return clipped / clipped.sum(axis=1, keepdims=True)


def score_predictions(rows: pd.DataFrame, schema: LabelSchema) -> dict[str, float]:
    """Metrics of predicted rows (``stance``, ``predicted``, ``p_favor``, ``p_against``, ``p_none``)."""
    y, pred = rows["stance"].to_numpy(), rows["predicted"].to_numpy()
    labels = list(schema.stances)
    f1 = f1_score(y, pred, labels=labels, average=None, zero_division=0)
    proba = rows[["p_favor", "p_against", "p_none"]].to_numpy()
    onehot = (y[:, None] == np.asarray(labels)[None, :]).astype(float)
    order = np.argsort(labels)  # log_loss wants its labels sorted
    return {
        "f_avg": float((f1[0] + f1[1]) / 2),
        "macro_f1": float(f1.mean()),
        "f1_favor": float(f1[0]),
        "f1_against": float(f1[1]),
        "accuracy": float(accuracy_score(y, pred)),
        "log_loss": float(log_loss(y, _clip_rows(proba[:, order]), labels=sorted(labels))),
        "brier": float(((proba - onehot) ** 2).sum(axis=1).mean()),
        "n": float(len(rows)),
    }


def evaluate(model, frame: pd.DataFrame, schema: LabelSchema) -> Evaluation:
    """Score ``model`` on labelled rows: per issue (``{issue}.{metric}``) and pooled (``{metric}``)."""
    if frame.empty:
        raise ValueError("no rows to evaluate on (is the eval fraction 0 and no eval file given?)")
    return evaluate_rows(predict_rows(model, frame, schema), schema)


def issue_metric(metric: str, issue: str) -> str:
    """The per-issue name of a pooled metric: ``f_avg`` -> ``{issue}.f_avg``, ``cv.f_avg`` -> ``cv.{issue}.f_avg``."""
    prefix, _, name = metric.rpartition(".")
    return f"{prefix}.{issue}.{name}" if prefix else f"{issue}.{name}"


def evaluate_rows(rows: pd.DataFrame, schema: LabelSchema) -> Evaluation:
    """Metrics and confusion matrices of predicted rows (as :func:`predict_rows` makes them)."""
    metrics = dict(score_predictions(rows, schema))
    confusion = {}
    for issue in schema.issues:
        part = rows[rows["issue"] == issue]
        if part.empty:
            continue
        metrics |= {issue_metric(k, issue): v for k, v in score_predictions(part, schema).items()}
        confusion[issue] = confusion_matrix(part["stance"], part["predicted"], labels=list(schema.stances))
    per_issue = [metrics[issue_metric("f_avg", i)] for i in confusion]
    metrics["f_avg_macro_issues"] = float(np.mean(per_issue))
    return Evaluation(metrics=metrics, confusion=confusion, predictions=rows)


def cross_predict(
    model, frame: pd.DataFrame, schema: LabelSchema, folds: int = 5, seed: int | None = 0, groups=None
) -> pd.DataFrame:
    """Out-of-fold predictions of ``model`` on ``frame`` by grouped K-fold cross-validation.

    Parameters
    ----------
    model : estimator
        Unfitted; cloned and fit once per fold on the other folds' rows.
    frame : DataFrame
        Labelled rows (``text``, ``issue``, ``stance``, optionally ``article_id``).
    folds : int
        Number of folds (at least 2).
    seed : int or None
        Shuffles the groups into folds.
    groups : array-like, optional
        One group per row; rows of a group are never on both sides of a fold. Default: the
        split groups (the article, else the sentence), so one text's issues stay together.

    Returns
    -------
    DataFrame
        Every row of ``frame`` once, as :func:`predict_rows` makes them, plus ``fold``.
    """
    frame = frame.reset_index(drop=True)
    groups = split_groups(frame) if groups is None else np.asarray(groups)
    splitter = GroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    parts = []
    for fold, (train, test) in enumerate(splitter.split(frame, groups=groups)):
        fitted = clone(model).fit(frame.iloc[train])
        parts.append(predict_rows(fitted, frame.iloc[test], schema).assign(fold=fold))
    return pd.concat(parts).sort_index()


def cross_validate(
    model, frame: pd.DataFrame, schema: LabelSchema, folds: int = 5, seed: int = 0, groups=None, repeats: int = 1
) -> dict[str, float]:
    """Grouped K-fold figures of ``model`` on ``frame``: the metrics of :func:`evaluate`,
    computed over the pooled out-of-fold predictions (see :func:`cross_predict`).

    With ``repeats`` > 1 the K-fold is repeated with fold seeds ``seed``, ``seed + 1``, ...;
    every metric is the mean over repeats, and ``f_avg_sd`` is the standard deviation of the
    pooled F_avg across them (how much the choice of folds alone moves the figure).
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    runs = pd.DataFrame(
        [evaluate_rows(cross_predict(model, frame, schema, folds, seed + r, groups), schema).metrics for r in range(repeats)]
    )
    metrics = {key: float(value) for key, value in runs.mean().items()}
    if repeats > 1:
        metrics["f_avg_sd"] = float(runs["f_avg"].std(ddof=1))
    return metrics


def plot_confusion(matrix: np.ndarray, issue: str, schema: LabelSchema) -> Figure:
    """A confusion matrix figure (rows: true stance, columns: predicted)."""
    fig = Figure(figsize=(4.2, 3.6), layout="constrained")
    ax = fig.add_subplot()
    ConfusionMatrixDisplay(matrix, display_labels=list(schema.stances)).plot(
        ax=ax, colorbar=False, cmap="Blues", values_format="d"
    )
    ax.set_title(f"{issue} (n={int(matrix.sum())})")
    return fig


def _f1_per_stance(y: np.ndarray, pred: np.ndarray, n_stances: int = 3) -> np.ndarray:
    """F1 of each stance code ``0..n_stances-1`` (0 where undefined), from integer codes."""
    tp = np.bincount(y[y == pred], minlength=n_stances)
    return f1_from_counts(tp, np.bincount(pred, minlength=n_stances), np.bincount(y, minlength=n_stances))


def bootstrap_scores(
    rows: pd.DataFrame, schema: LabelSchema, n_boot: int = 1000, level: float = 0.9, seed: int = 0
) -> pd.DataFrame:
    """F_avg and macro-F1 per issue with a bootstrap interval that resamples sentences.

    Parameters
    ----------
    rows : DataFrame
        Predicted rows (:func:`predict_rows`); a sentence's rows on every issue are drawn together.
    n_boot, level, seed
        Number of resamples, interval coverage, and the seed of the resampling.

    Returns
    -------
    DataFrame
        One row per issue: ``n``, ``f_avg``, ``f_avg_low``, ``f_avg_high``, ``macro_f1``,
        ``macro_f1_low``, ``macro_f1_high``.
    """
    rng = np.random.default_rng(seed)
    texts = pd.unique(rows["text"])
    draws = rng.integers(0, len(texts), size=(n_boot, len(texts)))
    code = {s: i for i, s in enumerate(schema.stances)}
    out = []
    for issue in schema.issues:
        part = rows[rows["issue"] == issue].set_index("text").reindex(texts)
        y, pred = part["stance"].map(code).to_numpy(), part["predicted"].map(code).to_numpy()
        f1 = np.array([_f1_per_stance(y[d], pred[d]) for d in draws])
        point = _f1_per_stance(y, pred)
        record = {"issue": issue, "n": len(texts)}
        for name, values, value in (("f_avg", f1[:, :2].mean(1), point[:2].mean()), ("macro_f1", f1.mean(1), point.mean())):
            low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
            record |= {name: float(value), f"{name}_low": float(low), f"{name}_high": float(high)}
        out.append(record)
    return pd.DataFrame(out).set_index("issue")


def plot_reliability(predictions: dict[str, pd.DataFrame], issue: str, schema: LabelSchema, bins: int = 10) -> Figure:
    """Reliability diagram of one issue: P(favor) and P(against), one curve per named prediction set.

    Parameters
    ----------
    predictions : dict of str to DataFrame
        Predicted rows (:func:`predict_rows`) per label, e.g. ``{"uncalibrated": ..., "sigmoid": ...}``.
    """
    from sklearn.calibration import calibration_curve

    fig = Figure(figsize=(8, 3.8), layout="constrained")
    for ax, (role, stance) in zip(fig.subplots(1, 2), (("p_favor", schema.favor), ("p_against", schema.against)), strict=True):
        ax.plot([0, 1], [0, 1], ls=":", c="grey")
        for label, rows in predictions.items():
            part = rows[rows["issue"] == issue]
            truth, proba = part["stance"] == stance, part[role]
            frac, mean = calibration_curve(truth, proba, n_bins=bins, strategy="quantile")
            brier = float(((proba - truth) ** 2).mean())
            ax.plot(mean, frac, marker="o", label=f"{label} (Brier {brier:.3f})")
        ax.set(title=f"{issue}: {stance}", xlabel="predicted probability", ylabel="observed frequency")
        ax.legend(fontsize=7)
    return fig
