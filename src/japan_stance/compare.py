"""The experiment loop's pure parts: what changed in the labels, how runs differ, who is better.

No MLflow here: ``tracking.py`` fetches runs and rows, these functions compare them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from japan_stance.evaluate import issue_metric
from japan_stance.stats import f1_from_counts, resample_counts

KEY = ["text", "issue"]


def label_changes(old: pd.DataFrame, new: pd.DataFrame, examples: int = 3) -> dict:
    """Rows added, removed and relabelled between two label sets (keyed by text and issue).

    Parameters
    ----------
    old, new : DataFrame
        Label rows with ``text``, ``issue``, ``stance``.
    """
    merged = old[[*KEY, "stance"]].drop_duplicates(KEY).merge(
        new[[*KEY, "stance"]].drop_duplicates(KEY), on=KEY, how="outer", suffixes=("_old", "_new"), indicator=True
    )
    added = merged[merged["_merge"] == "right_only"]
    removed = merged[merged["_merge"] == "left_only"]
    both = merged[merged["_merge"] == "both"]
    changed = both[both["stance_old"] != both["stance_new"]]

    def sample(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
        return frame[columns].head(examples).to_dict("records")

    return {
        "added": len(added), "removed": len(removed), "changed": len(changed), "unchanged": len(both) - len(changed),
        "examples": {
            "added": sample(added, [*KEY, "stance_new"]),
            "removed": sample(removed, [*KEY, "stance_old"]),
            "changed": sample(changed, [*KEY, "stance_old", "stance_new"]),
        },
    }


def describe_changes(changes: dict, against: str) -> str:
    """One line for the terminal."""
    return (
        f"labels since {against}: {changes['added']} rows added, {changes['changed']} relabelled, "
        f"{changes['removed']} removed, {changes['unchanged']} unchanged"
    )


def differing_params(runs: pd.DataFrame) -> list[str]:
    """The ``params.*`` columns whose value is not the same in every run."""
    params = [c for c in runs.columns if c.startswith("params.")]
    return [c for c in params if runs[c].astype(str).nunique(dropna=False) > 1]


def paired_bootstrap(
    gold: Sequence[str], pred_a: Sequence[str], pred_b: Sequence[str], stances: Sequence[str],
    n_boot: int = 2000, ci: float = 0.90, seed: int = 0, groups: Sequence | None = None,
) -> dict:
    """F_avg of A minus F_avg of B on the same rows, with a bootstrap interval.

    Every resample draws the same rows for both models (paired), so the interval is of the
    difference itself. With ``groups`` (one per row) whole groups are drawn, e.g. every issue
    row of a sentence or every sentence of an article together, since they are not independent;
    without, single rows. ``stances`` starts with favor, against.
    """
    gold, pred_a, pred_b = (np.asarray(x) for x in (gold, pred_a, pred_b))
    n = len(gold)
    unit = np.arange(n) if groups is None else pd.factorize(np.asarray(groups))[0]
    n_groups = int(unit.max()) + 1 if n else 0
    rng = np.random.default_rng(seed)
    drawn = resample_counts(rng, n_groups, n_boot)[:, unit]  # each row counts as often as its group
    counts = np.vstack([np.ones(n), drawn])  # row 0: the observed sample

    def f_avg(pred: np.ndarray) -> np.ndarray:
        classes = list(stances[:2])
        tp = np.stack([(gold == c) & (pred == c) for c in classes], axis=1).astype(float)
        p = np.stack([pred == c for c in classes], axis=1).astype(float)
        g = np.stack([gold == c for c in classes], axis=1).astype(float)
        return f1_from_counts(counts @ tp, counts @ p, counts @ g).mean(axis=-1)  # SemEval's F_avg

    a, b = f_avg(pred_a), f_avg(pred_b)
    diff = a - b
    tail = (1 - ci) / 2
    low, high = np.quantile(diff[1:], [tail, 1 - tail])
    return {
        "f_avg_a": float(a[0]), "f_avg_b": float(b[0]), "diff": float(diff[0]),
        "ci_low": float(low), "ci_high": float(high), "p_better": float((diff[1:] > 0).mean()), "n": n,
        "n_groups": n_groups,
    }


def runs_table(
    runs: pd.DataFrame, issues: Sequence[str], metric: str, champion_run: str | None, eval_digest: str | None,
) -> pd.DataFrame:
    """A comparison table: one row per run, the params that differ, metrics per issue and pooled.

    Marks the champion's run and flags runs evaluated on another eval set than ``eval_digest``.
    """
    params = differing_params(runs)
    metrics = [f"metrics.{metric}"] + [f"metrics.{issue_metric(metric, i)}" for i in issues]
    table = pd.DataFrame({
        "run": runs["run_id"].str[:8],
        "name": runs.get("tags.mlflow.runName", pd.Series("", index=runs.index)).fillna(""),
        "champion": np.where(runs["run_id"] == champion_run, "*", ""),
    })
    for column in params:
        table[column.removeprefix("params.")] = runs[column]
    for column in metrics:
        table[column.removeprefix("metrics.")] = runs[column] if column in runs else np.nan
    digest = runs.get("tags.data.eval_digest", pd.Series(None, index=runs.index))
    searched = runs.get("params.search", pd.Series(None, index=runs.index)) == "True"
    table["eval_set"] = np.select(
        [digest == eval_digest, searched, digest.isna()], ["current", "none (search)", "unknown"], "OTHER"
    )
    return table.sort_values(metric, ascending=False, na_position="last").reset_index(drop=True)
