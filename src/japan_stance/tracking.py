"""Everything that talks to MLflow: stores, runs, the pyfunc model, the registry.

The only module that imports mlflow. The tracking URI always arrives as an argument
(an absolute SQLite path by default, or a server's URL); nothing is set at import.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import joblib
import mlflow
import mlflow.data
import pandas as pd
from mlflow.data.sources import LocalArtifactDatasetSource
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient

from japan_stance.compare import label_changes
from japan_stance.data import LabelReport, LabelSet, content_digest
from japan_stance.evaluate import Evaluation, plot_confusion
from japan_stance.model import StanceModel, as_texts
from japan_stance.schema import LabelSchema

MODEL_NAME = "model"
CHAMPION, PREVIOUS = "champion", "previous"
PARENT_TAG = "mlflow.parentRunId"
MODEL_URI_TAG = "japan_stance.model_uri"
BEST_RUN_TAG = "japan_stance.best_run"
LABELS_ARTIFACT = "data/labels.parquet"
_REQUIREMENTS = ("scikit-learn", "pandas", "numpy", "scipy", "joblib", "pyarrow")


def predict_table(model: StanceModel, model_input) -> pd.DataFrame:
    """What the logged pyfunc returns: predicted stance per issue, then every probability."""
    proba = model.predict_proba(as_texts(model_input))
    return pd.concat([model.stances_from_proba(proba), proba], axis=1)


@dataclass(frozen=True)
class Store:
    """An open tracking store: its client and the experiment runs go to."""

    client: MlflowClient
    experiment_id: str
    uri: str


def champion_uri(name: str) -> str:
    """The model URI of a registered model's champion: ``models:/NAME@champion``."""
    return f"models:/{name}@{CHAMPION}"


def use_tracking_uri(uri: str) -> None:
    """Send MLflow's tracking and registry calls to ``uri`` (creating a SQLite store's folder)."""
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)


def open_store(uri: str, experiment_name: str, artifact_location: str | None = None) -> Store:
    """Point MLflow at ``uri`` and make sure the experiment exists.

    For a SQLite store, its folder is created and new experiments keep their artifacts
    under ``artifact_location`` (never ``./mlruns``).
    """
    use_tracking_uri(uri)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is not None:
        return Store(client, experiment.experiment_id, uri)
    location = Path(artifact_location).resolve().as_uri() if artifact_location else None
    return Store(client, client.create_experiment(experiment_name, artifact_location=location), uri)


def open_store_from_config(tracking: Mapping) -> Store:
    """:func:`open_store` from the plain ``tracking`` config group."""
    return open_store(tracking["uri"], tracking["experiment_name"], tracking.get("artifact_location"))


def flatten(tree: Mapping, prefix: str = "") -> dict[str, str]:
    """``{"model": {"C": 4}}`` -> ``{"model.C": "4"}``; lists become JSON."""
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat |= flatten(value, f"{name}.")
        else:
            flat[name] = json.dumps(value) if isinstance(value, (list, tuple)) else str(value)
    return flat


def git_state(root: str | Path) -> dict[str, str]:
    """The commit checked out at ``root`` and whether the work tree has changes."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        return {"mlflow.source.git.commit": git("rev-parse", "HEAD"), "git.dirty": str(bool(git("status", "--porcelain")))}
    except (OSError, subprocess.CalledProcessError):
        return {"mlflow.source.git.commit": "unknown", "git.dirty": "unknown"}


def pip_requirements() -> list[str]:
    """Pinned requirements of the pyfunc model (explicit: inference takes seconds)."""
    return [f"{name}=={metadata.version(name)}" for name in _REQUIREMENTS]


def log_datasets(frames: Mapping[str, pd.DataFrame | None], name: str, source: str) -> dict[str, str]:
    """Log each frame (by context: ``training``, ``eval``) as an MLflow dataset; return their digests.

    A context whose frame is None (a search run's eval set) is left out.
    """
    digests = {}
    for context, frame in frames.items():
        if frame is None:
            continue
        rows = frame[["text", "issue", "stance"]].reset_index(drop=True)
        digest = content_digest(rows)
        dataset = mlflow.data.from_pandas(
            rows, source=LocalArtifactDatasetSource(source), targets="stance", name=f"{name}-{context}", digest=digest
        )
        mlflow.log_input(dataset, context=context)
        digests[f"data.{context}_digest"] = digest
    return digests


def log_stance_model(model: StanceModel, example_texts: list[str]) -> mlflow.models.model.ModelInfo:
    """Log ``model`` as a self-contained pyfunc (``pyfunc_model.py``) with signature and input example."""
    example = pd.DataFrame({"text": example_texts})
    signature = infer_signature(example, predict_table(model, example))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stance_model.joblib"
        joblib.dump(model.fitted_parts(), path)
        return mlflow.pyfunc.log_model(
            name=MODEL_NAME,
            python_model=str(Path(__file__).with_name("pyfunc_model.py")),
            artifacts={"stance_model": str(path)},
            signature=signature,
            input_example=example,
            pip_requirements=pip_requirements(),
        )


def log_training(
    settings: dict, *, labels: LabelSet, train: pd.DataFrame, eval_: pd.DataFrame | None,
    evaluation: Evaluation | None, model: StanceModel | None, cv: Mapping[str, float],
    run_name: str | None, parent_run_id: str | None,
) -> dict:
    """Log one training run: params, tags, datasets, label report and changes, metrics, plots, model.

    A search run (no ``eval_``, ``evaluation`` or ``model``) logs its CV figures and data only.
    Registers the model when ``tracking.register`` says so. Returns the run id, the model URI,
    the registered version, whether it became champion, and the label changes since the
    previous champion (None without one).
    """
    track = settings["tracking"]
    store = open_store_from_config(track)
    tags = git_state(settings["paths"]["root"]) | {"data.name": settings["data"]["name"]}
    if parent_run_id:
        tags[PARENT_TAG] = parent_run_id
    schema = LabelSchema.from_config(settings["data"])
    model_uri, version, champion = None, None, False
    with mlflow.start_run(experiment_id=store.experiment_id, run_name=run_name, tags=tags) as run:
        mlflow.log_params(flatten({k: v for k, v in settings.items() if k != "paths"}))
        source = str(settings["data"]["labels"][0])
        mlflow.set_tags(log_datasets({"training": train, "eval": eval_}, settings["data"]["name"], source))
        log_label_rows(train, eval_)
        changes = label_changes_since_champion(store, track["registered_model_name"], labels.frame)
        if changes:
            mlflow.log_dict(changes, "label_changes.json")
        mlflow.log_dict(settings, "config.yaml")
        log_label_report(labels.report)
        mlflow.log_metrics(dict(cv))
        if evaluation is not None:
            log_evaluation(evaluation, schema)
        if model is not None:
            info = log_stance_model(model, list(eval_["text"].head(3)) or ["Japan urges restraint."])
            model_uri = info.model_uri
            mlflow.set_tag(MODEL_URI_TAG, model_uri)
            if track.get("register"):
                version, champion = register_model(store, model_uri, track["registered_model_name"], track["champion"])
    return {"run_id": run.info.run_id, "model_uri": model_uri, "version": version, "champion": champion, "changes": changes}


def label_changes_since_champion(store: Store, name: str, frame: pd.DataFrame) -> dict | None:
    """What is new in the labels since the champion's training run (None without a champion)."""
    champion = get_alias(store.client, name)
    old = run_label_rows(store.client, champion.run_id) if champion else None
    if old is None:
        return None
    return {"champion_version": champion.version, **label_changes(old, frame)}


def log_label_report(report: LabelReport) -> None:
    """The label report of the active run, with its conflicts and duplicates when there are any."""
    mlflow.log_dict(report.to_dict(), "label_report.json")
    if len(report.conflicts):
        mlflow.log_text(report.conflicts.to_csv(index=False), "label_conflicts.csv")
    if len(report.duplicates):
        mlflow.log_text(report.duplicates.to_csv(index=False), "label_duplicates.csv")


def log_evaluation(evaluation: Evaluation, schema: LabelSchema) -> None:
    """Metrics, confusion plots and the eval predictions of the active run."""
    mlflow.log_metrics({k: v for k, v in evaluation.metrics.items() if pd.notna(v)})
    for issue, matrix in evaluation.confusion.items():
        mlflow.log_figure(plot_confusion(matrix, issue, schema), f"plots/confusion_{issue}.png")
    mlflow.log_text(evaluation.predictions.to_csv(index=False), "eval_predictions.csv")
    mlflow.log_text(evaluation.table(schema).round(4).to_string(), "eval_table.txt")


def model_aliases(client: MlflowClient, name: str) -> dict[str, str]:
    """Aliases of a registered model, versions as strings (SQLite gives ints, HTTP strings)."""
    return {alias: str(version) for alias, version in client.get_registered_model(name).aliases.items()}


def register_model(store: Store, model_uri: str, name: str, champion: str) -> tuple[str, bool]:
    """Register ``model_uri`` as a new version of ``name``; maybe give it the champion alias.

    ``champion`` is ``always``, ``if_none`` (only when no champion exists yet) or ``never``.
    Returns the version (as a string) and whether it became champion.
    """
    version = str(mlflow.register_model(model_uri, name).version)
    has_champion = CHAMPION in model_aliases(store.client, name)
    promote = champion == "always" or (champion == "if_none" and not has_champion)
    if promote:
        set_champion(store, name, version)
    return version, promote


def set_champion(store: Store, name: str, version: str) -> str | None:
    """Move ``champion`` to ``version``; the old champion keeps its version as ``previous``."""
    old = model_aliases(store.client, name).get(CHAMPION)
    if old is not None and old != str(version):
        store.client.set_registered_model_alias(name, PREVIOUS, old)
    store.client.set_registered_model_alias(name, CHAMPION, str(version))
    return old


def start_parent_run(store: Store, run_name: str, tags: Mapping[str, str]) -> str:
    """Create a sweep's parent run (not made active) and return its id."""
    run = store.client.create_run(store.experiment_id, run_name=run_name, tags={"japan_stance.sweep": "parent", **tags})
    return run.info.run_id


def end_parent_run(store: Store, run_id: str, metric: str = "f_avg") -> None:
    """Summarise the children of a sweep's parent run on it and mark it finished.

    Logs ``children`` and ``best_{metric}``, and tags the best child (``japan_stance.best_run``
    and ``japan_stance.best_run_name``, its overrides), so the sweep's choice is on record.
    """
    children = mlflow.search_runs(
        [store.experiment_id], filter_string=f"tags.`{PARENT_TAG}` = '{run_id}'", output_format="pandas"
    )
    store.client.log_metric(run_id, "children", float(len(children)))
    column = f"metrics.{metric}"
    if len(children) and column in children and children[column].notna().any():
        best = children.loc[children[column].idxmax()]
        store.client.log_metric(run_id, f"best_{metric}", float(best[column]))
        store.client.set_tag(run_id, BEST_RUN_TAG, best["run_id"])
        store.client.set_tag(run_id, f"{BEST_RUN_TAG}_name", str(best.get("tags.mlflow.runName", "")))
    store.client.set_terminated(run_id, "FINISHED")


class PyfuncStanceModel:
    """Any pyfunc whose output has ``{issue}.{stance}`` columns, seen as a stance model."""

    def __init__(self, pyfunc, issues: list[str], stances: list[str]):
        self.pyfunc, self.issues, self.stances = pyfunc, issues, stances

    def predict_proba(self, texts: list[str]) -> pd.DataFrame:
        out = self.pyfunc.predict(pd.DataFrame({"text": list(texts)}))
        return out[[LabelSchema.proba_column(i, s) for i in self.issues for s in self.stances]].reset_index(drop=True)


def load_stance_model(model_uri: str):
    """Load a model to score with: the :class:`StanceModel` inside our pyfunc, else an adapter.

    Raises
    ------
    mlflow.exceptions.MlflowException, OSError
        When the model cannot be found or read.
    """
    pyfunc = mlflow.pyfunc.load_model(model_uri)
    try:
        inner = pyfunc.unwrap_python_model()
    except Exception:  # not a PythonModel (another flavor)
        inner = None
    if hasattr(inner, "parts"):  # our pyfunc_model.StancePyFunc
        return StanceModel.from_fitted_parts(inner.parts)
    names = pyfunc.metadata.get_output_schema().input_names() if pyfunc.metadata.get_output_schema() else []
    pairs = [n.split(".", 1) for n in names if "." in n]
    issues = list(dict.fromkeys(i for i, _ in pairs))
    stances = list(dict.fromkeys(s for _, s in pairs))
    if not issues or len(stances) != 3:
        raise ValueError(f"{model_uri}: its output has no '{{issue}}.{{stance}}' probability columns")
    return PyfuncStanceModel(pyfunc, issues, stances)


def describe_model(model_uri: str, tracking_uri: str) -> str:
    """The model behind ``model_uri`` pinned to a version (an alias moves), for resuming."""
    name, sep, alias = model_uri.removeprefix("models:/").partition("@")
    if model_uri.startswith("models:/") and sep:
        version = MlflowClient(tracking_uri, tracking_uri).get_model_version_by_alias(name, alias).version
        return f"models:/{name}/{version}"
    return model_uri


# ---------------------------------------------------------------- the experiment loop

def log_label_rows(train: pd.DataFrame, eval_: pd.DataFrame | None) -> None:
    """Log the run's label rows with their split, so later runs can say what changed."""
    parts = [train.assign(split="train")] + ([] if eval_ is None else [eval_.assign(split="eval")])
    rows = pd.concat(parts, ignore_index=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(LABELS_ARTIFACT).name
        rows.drop(columns=["file", "line"], errors="ignore").to_parquet(path, index=False)
        mlflow.log_artifact(str(path), str(Path(LABELS_ARTIFACT).parent))


def run_label_rows(client: MlflowClient, run_id: str) -> pd.DataFrame | None:
    """The label rows a run logged, or None if it logged none."""
    try:
        with tempfile.TemporaryDirectory() as tmp:
            return pd.read_parquet(client.download_artifacts(run_id, LABELS_ARTIFACT, tmp))
    except (MlflowException, OSError):
        return None


@dataclass(frozen=True)
class Champion:
    """The registered version behind an alias."""

    version: str
    run_id: str
    model_uri: str


def get_alias(client: MlflowClient, name: str, alias: str = CHAMPION) -> Champion | None:
    """The version an alias points at, or None (no such model or alias)."""
    try:
        mv = client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None
    return Champion(str(mv.version), mv.run_id, f"models:/{name}/{mv.version}")


def search_runs(store: Store, filter_string: str = "", max_results: int = 1000, parents: bool = False) -> pd.DataFrame:
    """Finished training runs of the store's experiment, newest first (sweep parents only if ``parents``)."""
    runs = mlflow.search_runs(
        [store.experiment_id], filter_string=filter_string, max_results=max_results, order_by=["attributes.start_time DESC"]
    )
    if not parents and "tags.japan_stance.sweep" in runs:
        runs = runs[runs["tags.japan_stance.sweep"].ne("parent")]
    return runs.reset_index(drop=True)


def resolve_run_id(store: Store, prefix: str, parents: bool = False) -> str:
    """The full id of the one run of the experiment whose id starts with ``prefix``
    (a sweep's parent run counts only with ``parents``)."""
    runs = search_runs(store, parents=parents)
    matches = [r for r in runs["run_id"] if r.startswith(prefix)] if len(runs) else []
    if len(matches) != 1:
        raise ValueError(f"run {prefix!r}: {'no run' if not matches else f'{len(matches)} runs'} in this experiment match")
    return matches[0]


def run_model_uri(client: MlflowClient, run_id: str) -> str:
    """The model a training run logged (its ``japan_stance.model_uri`` tag)."""
    uri = client.get_run(run_id).data.tags.get(MODEL_URI_TAG)
    if not uri:
        raise ValueError(f"run {run_id} logged no model (no {MODEL_URI_TAG} tag)")
    return uri


def ensure_registered(store: Store, run_id: str, name: str) -> str:
    """The registered version of ``run_id``'s model, registering it if needed."""
    found = store.client.search_model_versions(f"name='{name}' and run_id='{run_id}'")
    if found:
        return str(found[0].version)
    return str(mlflow.register_model(run_model_uri(store.client, run_id), name).version)


def tag_version(store: Store, name: str, version: str, tags: Mapping[str, str]) -> None:
    """Set tags on a registered version (why it was promoted, by how much)."""
    for key, value in tags.items():
        store.client.set_model_version_tag(name, version, key, str(value))


def rollback(store: Store, name: str) -> tuple[str, str]:
    """Swap ``champion`` and ``previous``; return (new champion, new previous)."""
    aliases = model_aliases(store.client, name)
    if PREVIOUS not in aliases or CHAMPION not in aliases:
        raise ValueError(f"{name}: nothing to roll back to (aliases: {aliases or 'none'})")
    store.client.set_registered_model_alias(name, CHAMPION, aliases[PREVIOUS])
    store.client.set_registered_model_alias(name, PREVIOUS, aliases[CHAMPION])
    return aliases[PREVIOUS], aliases[CHAMPION]
