"""A training run logged and registered to a real `mlflow server` process on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from japan_stance import tracking
from japan_stance.train import log_run

from conftest import LABELS_CSV, compose_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path, migrated_store):
    """Start `mlflow server` on a free loopback port; stop its process group afterwards."""
    port = free_port()
    db = tmp_path / "server.db"
    db.write_bytes(migrated_store.read_bytes())
    command = [
        str(Path(sys.executable).parent / "mlflow"), "server",
        "--backend-store-uri", f"sqlite:///{db}", "--artifacts-destination", str(tmp_path / "server-artifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    log = open(tmp_path / "server.log", "wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert process.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "mlflow server did not answer /health in 90 s"
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


@pytest.mark.server
def test_training_run_logs_and_registers_to_a_server(tmp_path, server):
    settings = compose_settings(
        tmp_path, [f"data.labels=[{LABELS_CSV}]", "data.eval_fraction=0.3", "tracking=server", f"tracking.uri={server}"]
    )
    assert settings["tracking"]["artifact_location"] is None
    summary = log_run(settings, "over-http", None)
    client = MlflowClient(tracking_uri=server, registry_uri=server)
    run = client.get_run(summary["run_id"])
    assert run.data.metrics["f_avg"] == pytest.approx(summary["evaluation"].metrics["f_avg"])
    assert tracking.model_aliases(client, "japan-stance") == {"champion": "1"}
    mlflow.set_tracking_uri(server)
    loaded = mlflow.pyfunc.load_model("models:/japan-stance@champion")
    texts = ["Japan urges restraint.", "Tokyo declined to join."]
    out = loaded.predict(pd.DataFrame({"text": texts}))
    expected = summary["model"].predict_proba(texts)
    assert out[expected.columns].to_numpy() == pytest.approx(expected.to_numpy())
    assert not (tmp_path / "experiments" / "mlflow.db").exists()  # nothing went to the local store
