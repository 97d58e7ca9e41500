"""Training runs end to end: real Hydra composition, a real SQLite MLflow store, real processes."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from japan_stance import tracking
from japan_stance.cli import compare_main
from japan_stance.train import log_run, run_training

from conftest import LABELS_CSV, REPO, compose_settings

BIN = Path(sys.executable).parent


def runs_of(settings: dict) -> pd.DataFrame:
    mlflow.set_tracking_uri(settings["tracking"]["uri"])
    return mlflow.search_runs(experiment_names=[settings["tracking"]["experiment_name"]])


def test_logged_run_is_found_with_params_metrics_data_and_plots(fixture_settings):
    summary = log_run(fixture_settings, "fixture", None)
    runs = runs_of(fixture_settings)
    run = runs.set_index("run_id").loc[summary["run_id"]]
    assert run["params.model.C"] == str(fixture_settings["model"]["C"])
    assert run["params.data.issues"] == '["support_us", "restraint", "international_law"]'
    assert len(run["tags.mlflow.source.git.commit"]) in (40, 7)  # a commit, or "unknown" outside git
    for issue in ("support_us", "restraint", "international_law"):
        assert 0.0 <= run[f"metrics.{issue}.f_avg"] <= 1.0
    assert run["metrics.f_avg"] == pytest.approx(summary["evaluation"].metrics["f_avg"])
    client = MlflowClient(fixture_settings["tracking"]["uri"])
    artifacts = {a.path for a in client.list_artifacts(summary["run_id"], "plots")}
    assert artifacts == {f"plots/confusion_{i}.png" for i in ("support_us", "restraint", "international_law")}
    assert client.download_artifacts(summary["run_id"], "label_report.json")
    inputs = client.get_run(summary["run_id"]).inputs.dataset_inputs
    assert {i.tags[0].value for i in inputs} == {"training", "eval"}
    assert all(len(i.dataset.digest) == 16 for i in inputs)
    assert run["tags.data.training_digest"] == next(
        i.dataset.digest for i in inputs if i.tags[0].value == "training"
    )


def test_pyfunc_reloads_with_the_same_probabilities_one_row_per_input(fixture_settings):
    summary = log_run(fixture_settings, "fixture", None)
    loaded = mlflow.pyfunc.load_model(summary["model_uri"])
    texts = ["Japan urges restraint.", "Tokyo declined to join.", "Japan backs the US.", "", "Share this."]
    for n in (1, 2, 5):
        out = loaded.predict(pd.DataFrame({"text": texts[:n]}))
        assert len(out) == n
    out = loaded.predict(pd.DataFrame({"text": texts}))
    expected = summary["model"].predict_proba(texts)
    assert np.allclose(out[expected.columns].to_numpy(), expected.to_numpy())
    assert list(out.columns[:3]) == ["support_us", "restraint", "international_law"]
    assert set(out["support_us"]) <= {"favor", "against", "none"}
    assert "support_us.favor" in loaded.metadata.get_output_schema().input_names()


def test_registry_champion_only_when_none_and_previous_kept(fixture_settings):
    first = log_run(fixture_settings, "one", None)
    second = log_run(fixture_settings, "two", None)
    uri = fixture_settings["tracking"]["uri"]
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    name = fixture_settings["tracking"]["registered_model_name"]
    assert (first["version"], first["champion"]) == ("1", True)
    assert (second["version"], second["champion"]) == ("2", False)
    assert tracking.model_aliases(client, name) == {"champion": "1"}
    third = log_run({**fixture_settings, "tracking": {**fixture_settings["tracking"], "champion": "always"}}, "three", None)
    assert tracking.model_aliases(client, name) == {"champion": "3", "previous": "1"}
    assert third["champion"]
    loaded = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    assert loaded.metadata.run_id == third["run_id"]


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "stance-train"), *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize("launcher", [[], ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]], ids=["basic", "joblib"])
def test_sweep_gives_one_parent_and_a_child_per_config(project, launcher):
    done = run_cli(
        ["-m", *launcher, f"paths.root={project}", f"data.labels=[{LABELS_CSV}]", "data.eval_fraction=0.3", "model.C=0.5,4"],
        cwd=project,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    settings = compose_settings(project)
    runs = runs_of(settings)
    parents = runs[runs["tags.japan_stance.sweep"] == "parent"]
    assert len(parents) == 1
    children = runs[runs["tags.mlflow.parentRunId"] == parents["run_id"].iloc[0]]
    assert sorted(children["params.model.C"]) == ["0.5", "4"]
    assert parents["metrics.children"].iloc[0] == 2
    assert parents["status"].iloc[0] == "FINISHED"
    best = children.loc[children["metrics.f_avg"].idxmax()]
    assert parents["tags.japan_stance.best_run"].iloc[0] == best["run_id"]
    assert parents["metrics.best_f_avg"].iloc[0] == pytest.approx(best["metrics.f_avg"])
    assert not (project / "outputs").exists() and not (project / "multirun").exists()


def test_bad_labels_exit_2_with_one_line_and_no_traceback(project):
    bad = project / "bad.csv"
    bad.write_text("text,issue,stance\nJapan urges restraint.,restraint,maybe\n", encoding="utf-8")
    done = run_cli([f"paths.root={project}", f"data.labels=[{bad}]"], cwd=project)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    error_lines = [line for line in done.stderr.splitlines() if line.startswith("stance-train: error:")]
    assert error_lines == [f"stance-train: error: {bad}:2: unknown stance 'maybe' (expected one of: favor, against, none)"]


def test_a_search_without_cv_folds_exits_2_with_one_line(project):
    done = run_cli([f"paths.root={project}", f"data.labels=[{LABELS_CSV}]", "search=true"], cwd=project)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert [line for line in done.stderr.splitlines() if line.startswith("stance-train: error:")] == [
        "stance-train: error: search=true scores a run by cross-validation alone: set cv_folds (e.g. cv_folds=5)"
    ]


def test_a_search_sweep_records_its_choice_and_compare_ranks_it_by_cv(project, monkeypatch, capsys):
    done = run_cli(
        ["-m", f"paths.root={project}", f"data.labels=[{LABELS_CSV}]", "data.eval_fraction=0.3",
         "search=true", "cv_folds=2", "cv_repeats=2", "seed=0", "model.C=0.5,4"],
        cwd=project,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    runs = runs_of(compose_settings(project))
    parent = runs[runs["tags.japan_stance.sweep"] == "parent"].iloc[0]
    children = runs[runs["tags.mlflow.parentRunId"] == parent["run_id"]]
    assert len(children) == 2
    assert "metrics.f_avg" not in children or children["metrics.f_avg"].isna().all()  # nothing scored on eval
    best = children.loc[children["metrics.cv.f_avg"].idxmax()]
    assert parent["tags.japan_stance.best_run"] == best["run_id"]
    uri = compose_settings(project)["tracking"]["uri"]
    assert not MlflowClient(tracking_uri=uri, registry_uri=uri).search_registered_models()

    monkeypatch.chdir(project)
    capsys.readouterr()
    options = ["-o", f"data.labels=[{LABELS_CSV}]", "-o", "data.eval_fraction=0.3"]
    assert compare_main([*options, "--parent", parent["run_id"][:8], "--metric", "cv.f_avg", "--format", "json"]) == 0
    table = pd.read_json(io.StringIO(capsys.readouterr().out), dtype={"run": str})  # an all-digit id stays text
    assert list(table["run"]) == [best["run_id"][:8], *(set(children["run_id"].str[:8]) - {best["run_id"][:8]})]
    assert set(table["eval_set"]) == {"none (search)"}
    assert table["cv.restraint.f_avg"].notna().all()


def test_semeval_config_reads_the_benchmark_in_place(tmp_path):
    settings = compose_settings(REPO, ["data=semeval2016", "model.word_ngram_range=[1,1]", "model.max_iter=300"])
    done = run_training(settings)
    assert len(done.schema.issues) == 5
    assert (len(done.train), len(done.eval_)) == (2914, 1249)
    assert 0.55 < done.evaluation.metrics["f_avg"] < 0.85
