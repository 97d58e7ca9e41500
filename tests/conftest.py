"""Shared fixtures: the schema, tiny label rows, composed configs, a pre-migrated MLflow store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from mlflow.tracking import MlflowClient

from japan_stance.config import config_dir, to_settings
from japan_stance.data import load_labels
from japan_stance.schema import LabelSchema

FIXTURES = Path(__file__).parent / "fixtures"
LABELS_CSV = FIXTURES / "labels.csv"
REPO = Path(__file__).resolve().parents[1]
ISSUES = ("support_us", "restraint", "international_law")


@pytest.fixture
def schema() -> LabelSchema:
    return LabelSchema(ISSUES)


@pytest.fixture
def labels(schema) -> pd.DataFrame:
    return load_labels(LABELS_CSV, schema).frame


def compose_settings(root: Path, overrides: list[str] = ()) -> dict:
    """Compose ``train`` with Hydra's compose API, rooted at ``root``, as plain settings."""
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose("train", overrides=[f"paths.root={root}", *overrides])
    return to_settings(cfg)


@pytest.fixture(scope="session")
def migrated_store(tmp_path_factory) -> Path:
    """One SQLite store with MLflow's migrations applied (they take seconds); tests copy it."""
    db = tmp_path_factory.mktemp("store") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{db}").search_experiments()
    return db


@pytest.fixture
def project(tmp_path, migrated_store) -> Path:
    """A project root with a fresh copy of the migrated store in ``experiments/``."""
    (tmp_path / "experiments").mkdir()
    shutil.copy(migrated_store, tmp_path / "experiments" / "mlflow.db")
    return tmp_path


@pytest.fixture
def fixture_settings(project) -> dict:
    """Default training settings on the fixture labels, logged under ``project``."""
    return compose_settings(project, [f"data.labels=[{LABELS_CSV}]", "data.eval_fraction=0.3"])


@pytest.fixture(autouse=True)
def no_tracking_env(monkeypatch):
    """Tests choose their own store: a developer's MLFLOW_TRACKING_URI must not leak in."""
    for name in ("MLFLOW_TRACKING_URI", "JAPAN_STANCE_ROOT", "JAPAN_STANCE_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
