"""Hydra configs: every group option composes; the config folder is found from a built wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from japan_stance.config import config_dir
from japan_stance.schema import LabelSchema

from conftest import REPO, compose_settings

EXPERIMENTS = sorted(p.stem for p in (config_dir() / "experiment").glob("*.yaml"))


def test_default_composition_is_anchored_at_root(tmp_path):
    settings = compose_settings(tmp_path)
    assert settings["tracking"]["uri"] == f"sqlite:///{tmp_path}/experiments/mlflow.db"
    assert settings["tracking"]["artifact_location"] == f"{tmp_path}/experiments/artifacts"
    assert settings["data"]["labels"] == [f"{tmp_path}/data/labels"]
    assert LabelSchema.from_config(settings["data"]).issues == ("support_us", "restraint", "international_law")


def test_environment_tracking_uri_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5999")
    assert compose_settings(tmp_path)["tracking"]["uri"] == "http://127.0.0.1:5999"


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_composes_and_builds(tmp_path, experiment, labels):
    from japan_stance.model import build_model

    settings = compose_settings(tmp_path, [f"experiment={experiment}"])
    schema = LabelSchema.from_config(settings["data"])
    import pandas as pd  # the fixture's restraint rows (every stance) relabelled onto each of the schema's issues

    rows = pd.concat([labels[labels["issue"] == "restraint"].assign(issue=i) for i in schema.issues])
    model = build_model(settings["model"], schema, seed=settings["seed"]).fit(rows)
    assert len(model.predict_proba(["Japan urges restraint."])) == 1


def test_semeval_schema_is_data(tmp_path):
    settings = compose_settings(tmp_path, ["data=semeval2016"])
    schema = LabelSchema.from_config(settings["data"])
    assert len(schema.issues) == 5 and "hillary_clinton" in schema.issues
    assert settings["tracking"]["registered_model_name"] == "semeval2016-stance"


def test_configs_ship_inside_the_wheel_and_are_found_there(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(REPO)],
        capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next(tmp_path.glob("japan_stance-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path / "site")
        assert "japan_stance/configs/train.yaml" in archive.namelist()
    probe = "import japan_stance.config as c; print(c.__file__); print(c.config_dir())"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
        env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"},
    )
    module_file, found = out.stdout.split()
    assert module_file.startswith(str(tmp_path / "site"))
    assert Path(found) == tmp_path / "site" / "japan_stance" / "configs"
