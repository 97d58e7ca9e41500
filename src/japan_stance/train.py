"""``stance-train``: the Hydra shell around load -> split -> fit -> evaluate -> log.

Run it from the folder that should hold ``experiments/`` (or set ``paths.root``)::

    stance-train                                  # default: data=japan model=word_char
    stance-train model=word model.C=4             # overrides
    stance-train -m model.C=0.5,1,4               # a sweep: one parent run, a child per config
    stance-train experiment=semeval2016           # the public benchmark
    stance-train -m experiment=semeval_search     # a model search: CV only, the test set unread
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hydra
import pandas as pd
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig

from japan_stance import tracking
from japan_stance.compare import describe_changes
from japan_stance.config import SettingsError, config_dir, to_settings
from japan_stance.data import LabelError, LabelSet, check_trainable, load_labels, split_labels
from japan_stance.evaluate import Evaluation, cross_validate, evaluate
from japan_stance.model import StanceModel, build_model
from japan_stance.schema import LabelSchema

PARENT_RUN_FILE = "mlflow_parent_run_id"


def load_split(data: dict, schema: LabelSchema, with_eval: bool = True) -> tuple[LabelSet, Any, Any]:
    """Load the configured labels and split them into train and eval rows.

    Without ``with_eval`` the eval rows are neither read (``eval_labels``) nor returned (None).
    """
    labels = load_labels([*data["labels"], *data.get("extra", [])], schema, data["on_conflict"], data["adjudicator"])
    if data.get("eval_labels"):
        if not with_eval:
            return labels, labels.frame, None
        held_out = load_labels(data["eval_labels"], schema, data["on_conflict"], data["adjudicator"])
        return labels, labels.frame, held_out.frame
    train, eval_ = split_labels(labels.frame, data["eval_fraction"], data["split_salt"])
    return labels, train, eval_ if with_eval else None


def check_run_settings(settings: dict) -> None:
    """Reject settings that cannot make a run, with a one-line :class:`SettingsError`."""
    folds, repeats = settings.get("cv_folds", 0), settings.get("cv_repeats", 1)
    if folds == 1 or folds < 0:
        raise SettingsError(f"cv_folds must be 0 (off) or at least 2, got {folds}")
    if repeats < 1:
        raise SettingsError(f"cv_repeats must be at least 1, got {repeats}")
    if settings.get("search") and not folds:
        raise SettingsError("search=true scores a run by cross-validation alone: set cv_folds (e.g. cv_folds=5)")


@dataclass
class Training:
    """What a run computed, before anything is logged.

    A search run has no ``model``, ``evaluation`` or ``eval_`` (it never reads the eval set).
    """

    schema: LabelSchema
    labels: LabelSet
    train: pd.DataFrame
    eval_: pd.DataFrame | None
    model: StanceModel | None
    evaluation: Evaluation | None
    cv: dict[str, float]


def run_training(settings: dict) -> Training:
    """A run without the logging: labels in; cross-validated figures, a fitted model and its evaluation out.

    ``cv_folds`` > 0 adds grouped K-fold figures on the training rows (``cv.*``), repeated
    ``cv_repeats`` times. ``search`` stops after them: no eval set, no final model.
    """
    check_run_settings(settings)
    search = bool(settings.get("search"))
    schema = LabelSchema.from_config(settings["data"])
    labels, train, eval_ = load_split(settings["data"], schema, with_eval=not search)
    check_trainable(train, schema)
    model = build_model(settings["model"], schema, seed=settings["seed"])
    cv = {}
    if settings.get("cv_folds"):  # cross_validate fits clones, so ``model`` stays unfitted
        figures = cross_validate(
            model, train, schema, settings["cv_folds"], settings["seed"], repeats=settings.get("cv_repeats", 1)
        )
        cv = {f"cv.{k}": v for k, v in figures.items()}
    if search:
        return Training(schema, labels, train, None, None, None, cv)
    model.fit(train)
    return Training(schema, labels, train, eval_, model, evaluate(model, eval_, schema), cv)


def log_run(settings: dict, run_name: str | None, parent_run_id: str | None) -> dict:
    """Train, evaluate and log one run (and register its model); return a summary."""
    done = run_training(settings)
    logged = tracking.log_training(
        settings, labels=done.labels, train=done.train, eval_=done.eval_, evaluation=done.evaluation,
        model=done.model, cv=done.cv, run_name=run_name, parent_run_id=parent_run_id,
    )
    return logged | {
        "schema": done.schema, "labels": done.labels, "model": done.model, "evaluation": done.evaluation,
        "n_train": len(done.train), "n_eval": 0 if done.eval_ is None else len(done.eval_), "cv": done.cv,
    }


def objective(summary: dict) -> float:
    """What ``stance-train`` returns to a sweeper: the CV pooled F_avg if computed, else the eval F_avg."""
    if "cv.f_avg" in summary["cv"]:
        return summary["cv"]["cv.f_avg"]
    return summary["evaluation"].metrics["f_avg"]


def print_summary(summary: dict, settings: dict) -> None:
    """What a user wants to see after training: data, figures, where the run went."""
    track = settings["tracking"]
    print(summary["labels"].report.summary())
    if summary["changes"]:
        print(describe_changes(summary["changes"], f"champion version {summary['changes']['champion_version']}"))
    print(f"train rows: {summary['n_train']}, eval rows: {summary['n_eval']}")
    if summary["cv"]:
        print(describe_cv(summary["cv"], settings))
    if summary["evaluation"] is not None:
        print(summary["evaluation"].table(summary["schema"]).round(3).to_string())
    print(f"run {summary['run_id']} in {track['uri']} (experiment {track['experiment_name']})")
    if summary["version"]:
        alias = f" @{tracking.CHAMPION}" if summary["champion"] else ""
        print(f"registered {track['registered_model_name']} version {summary['version']}{alias}")


def describe_cv(cv: dict[str, float], settings: dict) -> str:
    """One line of cross-validated figures,
    e.g. ``CV (3 x grouped 5-fold, training rows): pooled F_avg 0.7012 (sd 0.0031)``."""
    repeats = settings.get("cv_repeats", 1)
    spread = f" (sd {cv['cv.f_avg_sd']:.4f})" if "cv.f_avg_sd" in cv else ""
    head = f"{repeats} x " if repeats > 1 else ""
    return f"CV ({head}grouped {settings['cv_folds']}-fold, training rows): pooled F_avg {cv['cv.f_avg']:.4f}{spread}"


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
            metric = "cv.f_avg" if settings.get("cv_folds") else "f_avg"
            store = tracking.open_store_from_config(settings["tracking"])
            tracking.end_parent_run(store, marker.read_text().strip(), metric)


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
    """Train one configuration; return its :func:`objective` (what a sweep optimises)."""
    settings = to_settings(cfg)
    run_name, parent = _job_context()
    try:
        summary = log_run(settings, run_name, parent)
    except (LabelError, SettingsError) as err:
        print(f"stance-train: error: {err}", file=sys.stderr)
        sys.exit(2)
    print_summary(summary, settings)
    return objective(summary)


if __name__ == "__main__":
    main()
