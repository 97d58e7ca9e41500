"""Japan stance quality on the default config: eval-set figures with bootstrap intervals,
baselines, grouped cross-validation, and calibration before/after.

    .venv/bin/python benchmarks/japan_quality.py [HYDRA_OVERRIDE ...]

Prints per issue the macro-F1 and F_avg on the held-out eval set (n = eval sentences, 90%
bootstrap interval resampling sentences) for the default model, the majority class and the
keyword rules; 5-fold CV figures on the training rows grouped by article; and Brier / log-loss /
F_avg with ``model.calibration`` null, sigmoid and isotonic (eval set and CV). Writes one
reliability plot per issue to ``benchmarks/figures/reliability_<issue>.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from japan_stance.baselines import KeywordModel, MajorityModel, japan_keyword_rules
from japan_stance.config import compose_settings
from japan_stance.evaluate import (
    bootstrap_scores,
    cross_validate,
    evaluate_rows,
    plot_reliability,
    predict_rows,
)
from japan_stance.model import build_model
from japan_stance.schema import LabelSchema
from japan_stance.train import load_split

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "benchmarks" / "figures"
CALIBRATIONS = (None, "sigmoid", "isotonic")


def eval_table(models: dict, train: pd.DataFrame, eval_: pd.DataFrame, schema: LabelSchema) -> pd.DataFrame:
    """Fit each model on ``train``; per issue F_avg and macro-F1 on ``eval_`` with 90% intervals."""
    parts = []
    for name, model in models.items():
        rows = predict_rows(model.fit(train), eval_, schema)
        parts.append(bootstrap_scores(rows, schema).assign(model=name))
    table = pd.concat(parts).reset_index().set_index(["model", "issue"])
    for m in ("f_avg", "macro_f1"):
        table[m] = [f"{v:.3f} [{lo:.3f}, {hi:.3f}]" for v, lo, hi in table[[m, f"{m}_low", f"{m}_high"]].to_numpy()]
    return table[["n", "f_avg", "macro_f1"]]


def cv_table(models: dict, train: pd.DataFrame, schema: LabelSchema, seed: int) -> pd.DataFrame:
    """Per issue 5-fold CV figures on the training rows, grouped by article (else sentence)."""
    out = {}
    for name, model in models.items():
        m = cross_validate(model, train, schema, folds=5, seed=seed)
        out[name] = {f"{i} {k}": m[f"{i}.{k}"] for i in [*schema.issues] for k in ("f_avg", "macro_f1")}
        out[name] |= {"pooled f_avg": m["f_avg"], "pooled macro_f1": m["macro_f1"]}
    return pd.DataFrame(out).T.round(3)


def calibration_tables(settings, train, eval_, schema) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Brier, log-loss and F_avg per calibration method (eval set and train CV), and the eval predictions."""
    records, predictions = [], {}
    for method in CALIBRATIONS:
        model = build_model(settings["model"] | {"calibration": method}, schema, seed=settings["seed"])
        rows = predict_rows(model.fit(train), eval_, schema)
        predictions[method or "uncalibrated"] = rows
        ev, cv = evaluate_rows(rows, schema).metrics, cross_validate(model, train, schema, 5, settings["seed"])
        for where, m in (("eval", ev), ("cv", cv)):
            for scope in (*schema.issues, "pooled"):
                key = "" if scope == "pooled" else f"{scope}."
                records.append({"calibration": method or "none", "where": where, "issue": scope,
                                **{k: m[f"{key}{k}"] for k in ("brier", "log_loss", "f_avg")}})
    table = pd.DataFrame(records).pivot_table(index=["where", "issue"], columns="calibration", values=["brier", "log_loss", "f_avg"])
    return table.round(3), predictions


def main(overrides: list[str]) -> None:
    """Compute and print every table; save the reliability plots."""
    settings = compose_settings(ROOT, overrides)
    schema = LabelSchema.from_config(settings["data"])
    _, train, eval_ = load_split(settings["data"], schema)
    print(f"model: {settings['model']}\ntrain rows {len(train)}, eval rows {len(eval_)} "
          f"({eval_['text'].nunique()} eval sentences)")
    models = {
        "default model": build_model(settings["model"], schema, seed=settings["seed"]),
        "majority class": MajorityModel(issues=schema.issues, stances=schema.stances),
        "keyword rules": KeywordModel(issues=schema.issues, rules=japan_keyword_rules(), stances=schema.stances),
    }
    pd.set_option("display.width", 200)
    print("\n## eval set, 90% bootstrap intervals (resampling sentences)\n", eval_table(models, train, eval_, schema).to_string())
    print("\n## 5-fold CV on the training rows, grouped by article\n", cv_table(models, train, schema, settings["seed"]).T.to_string())
    table, predictions = calibration_tables(settings, train, eval_, schema)
    print("\n## calibration\n", table.to_string())
    FIGURES.mkdir(parents=True, exist_ok=True)
    for issue in schema.issues:
        path = FIGURES / f"reliability_{issue}.png"
        plot_reliability(predictions, issue, schema).savefig(path, dpi=110)
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
