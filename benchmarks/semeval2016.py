"""SemEval-2016 Task 6 subtask A from scratch: train through the package, log to MLflow, compare.

    .venv/bin/python benchmarks/semeval2016.py [HYDRA_OVERRIDE ...]

Composes ``experiment=semeval2016`` (plus any overrides, e.g. ``cv_folds=5``), trains and logs
one run with :func:`japan_stance.train.log_run` (the model is not registered), and prints the
official pooled F_avg, F_favor, F_against, the macro over targets and the per-target F_avg beside
the per-target majority baseline and the paper's figures. Hyper-parameters come from
``configs/model/semeval.yaml``, chosen by cross-validation on the training tweets only.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from japan_stance.baselines import MajorityModel
from japan_stance.config import compose_settings
from japan_stance.evaluate import evaluate
from japan_stance.train import load_split, log_run

ROOT = Path(__file__).resolve().parents[1]
#: Published Task A test figures (F in %), from the dataset README (Mohammad et al., 2016).
PAPER = (
    ("SVM-ngrams (paper baseline)", 62.98, 74.98, 68.98),
    ("MITRE (1st of 19 teams)", 59.32, 76.33, 67.82),
)


def figures(metrics: dict, issues) -> dict[str, float]:
    """The benchmark's columns, in percent, from an evaluation's metrics."""
    row = {
        "F_avg pooled": metrics["f_avg"], "F_favor": metrics["f1_favor"], "F_against": metrics["f1_against"],
        "macro over targets": metrics["f_avg_macro_issues"],
    }
    row |= {issue: metrics[f"{issue}.f_avg"] for issue in issues}
    return {k: round(100 * v, 2) for k, v in row.items()}


def majority_figures(settings: dict, schema) -> dict[str, float]:
    """The per-target majority class, fit on train and scored on test."""
    _, train, test = load_split(settings["data"], schema)
    model = MajorityModel(issues=schema.issues, stances=schema.stances).fit(train)
    return figures(evaluate(model, test, schema).metrics, schema.issues)


def main(overrides: list[str]) -> pd.DataFrame:
    """Train, log and tabulate; return the table (rows: systems, columns: figures in %)."""
    settings = compose_settings(ROOT, ["experiment=semeval2016", "tracking.register=false", *overrides])
    start = time.perf_counter()
    summary = log_run(settings, "benchmark semeval2016", None)
    seconds = time.perf_counter() - start
    schema = summary["schema"]
    rows = {"this model (test)": figures(summary["evaluation"].metrics, schema.issues)}
    if summary["cv"]:
        cv = {k.removeprefix("cv."): v for k, v in summary["cv"].items()}
        rows["this model (train CV)"] = figures(cv, schema.issues)
    rows["majority class per target"] = majority_figures(settings, schema)
    rows |= {name: {"F_avg pooled": f, "F_favor": fav, "F_against": ag} for name, fav, ag, f in PAPER}
    table = pd.DataFrame.from_dict(rows, orient="index")
    print(f"run {summary['run_id']} in {settings['tracking']['uri']} ({seconds:.0f} s, incl. logging)")
    print(f"train rows {summary['n_train']}, test rows {summary['n_eval']}; model: {settings['model']}")
    print(table.T.to_string(na_rep="-"))
    return table


if __name__ == "__main__":
    main(sys.argv[1:])
