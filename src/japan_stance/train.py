"""``stance-train``: the Hydra shell around load -> split -> fit -> evaluate -> log.

Run it from the folder that should hold ``experiments/`` (or set ``paths.root``)::

    stance-train                                  # default: data=japan model=word
    stance-train model=word_char model.C=4        # overrides
    stance-train -m model.C=0.5,1,4               # a sweep: one parent run, a child per config
    stance-train data=semeval2016                 # the public benchmark
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig

from japan_stance import tracking
from japan_stance.compare import describe_changes
from japan_stance.config import config_dir, to_settings
from japan_stance.data import LabelError, LabelSet, check_trainable, load_labels, split_labels
from japan_stance.evaluate import Evaluation, cross_validate, evaluate
from japan_stance.model import StanceModel, build_model
from japan_stance.schema import LabelSchema

PARENT_RUN_FILE = "mlflow_parent_run_id"


def load_split(data: dict, schema: LabelSchema) -> tuple[LabelSet, Any, Any]:
    """Load the configured labels and split them into train and eval rows."""
    labels = load_labels([*data["labels"], *data.get("extra", [])], schema, data["on_conflict"], data["adjudicator"])
    if data.get("eval_labels"):
        held_out = load_labels(data["eval_labels"], schema, data["on_conflict"], data["adjudicator"])
        return labels, labels.frame, held_out.frame
    train, eval_ = split_labels(labels.frame, data["eval_fraction"], data["split_salt"])
    return labels, train, eval_


def fit_and_evaluate(settings: dict) -> tuple[LabelSchema, LabelSet, StanceModel, Evaluation, Any, Any]:
    """The pure part of a run: labels in, a fitted model and its evaluation out."""
    schema = LabelSchema.from_config(settings["data"])
    labels, train, eval_ = load_split(settings["data"], schema)
    check_trainable(train, schema)
    model = build_model(settings["model"], schema, seed=settings["seed"]).fit(train)
    return schema, labels, model, evaluate(model, eval_, schema), train, eval_


def cross_validated(settings: dict, schema: LabelSchema, train) -> dict[str, float]:
    """Grouped K-fold figures on the training rows (``cv.*``), when ``cv_folds`` > 0."""
    folds = settings.get("cv_folds", 0)
    if not folds:
        return {}
    model = build_model(settings["model"], schema, seed=settings["seed"])
    return {f"cv.{k}": v for k, v in cross_validate(model, train, schema, folds, settings["seed"]).items()}


def log_run(settings: dict, run_name: str | None, parent_run_id: str | None) -> dict:
    """Train, evaluate and log one run (and register its model); return a summary."""
    schema, labels, model, evaluation, train, eval_ = fit_and_evaluate(settings)
    cv = cross_validated(settings, schema, train)
    logged = tracking.log_training(
        settings, labels=labels, train=train, eval_=eval_, evaluation=evaluation, model=model, cv=cv,
        run_name=run_name, parent_run_id=parent_run_id,
    )
    return logged | {
        "schema": schema, "labels": labels, "model": model, "evaluation": evaluation,
        "n_train": len(train), "n_eval": len(eval_), "cv": cv,
    }


def print_summary(summary: dict, track: dict) -> None:
    """What a user wants to see after training: data, figures, where the run went."""
    schema, evaluation = summary["schema"], summary["evaluation"]
    print(summary["labels"].report.summary())
    if summary["changes"]:
        print(describe_changes(summary["changes"], f"champion version {summary['changes']['champion_version']}"))
    print(f"train rows: {summary['n_train']}, eval rows: {summary['n_eval']}")
    print(evaluation.table(schema).round(3).to_string())
    print(f"run {summary['run_id']} in {track['uri']} (experiment {track['experiment_name']})")
    if summary["version"]:
        alias = f" @{tracking.CHAMPION}" if summary["champion"] else ""
        print(f"registered {track['registered_model_name']} version {summary['version']}{alias}")


class SweepParentRun(Callback):
    """Hydra callback: one MLflow parent run per multirun, its id left in the sweep folder."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        settings = to_settings(config)
        store = tracking.open_store_from_config(settings["tracking"])
        run_id = tracking.start_parent_run(store, f"sweep {sweep_dir.name}", tracking.git_state(settings["paths"]["root"]))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        (sweep_dir / PARENT_RUN_FILE).write_text(run_id)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        marker = Path(config.hydra.sweep.dir) / PARENT_RUN_FILE
        if marker.exists():
            settings = to_settings(config)
            tracking.end_parent_run(tracking.open_store_from_config(settings["tracking"]), marker.read_text().strip())


def _job_context() -> tuple[str | None, str | None]:
    """Run name (the command-line overrides) and, in a multirun, the sweep's parent run id."""
    if not HydraConfig.initialized():
        return None, None
    hc = HydraConfig.get()
    name = ",".join(hc.overrides.task) or None
    if hc.mode != RunMode.MULTIRUN:
        return name, None
    marker = Path(hc.sweep.dir) / PARENT_RUN_FILE
    return name or f"job {hc.job.num}", marker.read_text().strip() if marker.exists() else None


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="train")
def main(cfg: DictConfig) -> float:
    """Train one configuration; return its pooled F_avg, cross-validated when ``cv_folds`` > 0
    (what a sweep optimises)."""
    settings = to_settings(cfg)
    run_name, parent = _job_context()
    try:
        summary = log_run(settings, run_name, parent)
    except LabelError as err:
        print(f"stance-train: error: {err}", file=sys.stderr)
        sys.exit(2)
    print_summary(summary, settings["tracking"])
    return summary["cv"].get("cv.f_avg", summary["evaluation"].metrics["f_avg"])


if __name__ == "__main__":
    main()
