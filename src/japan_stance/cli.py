"""Plain command-line entry points: ``stance-score`` (and the experiment loop commands).

Thin shells: parse arguments, call the core, print, and turn every expected failure into a
one-line ``error:`` message with exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
from mlflow.exceptions import MlflowException
from tqdm import tqdm

from japan_stance import report, tracking
from japan_stance.config import compose_settings
from japan_stance.data import LabelError, annotator_agreement, load_labels, read_label_rows, source_domain
from japan_stance.schema import LabelSchema
from japan_stance.inputs import InputError, iter_inputs, parse_columns
from japan_stance.score import (
    PARTS,
    ScoreError,
    ScoreOptions,
    check_run,
    finish,
    merge_parts,
    run_identity,
    score_to_parts,
    write_atomic,
)

EXPECTED_ERRORS = (InputError, ScoreError, LabelError, MlflowException, OSError, ValueError)


def fail(prog: str, message: str) -> int:
    """Print one line to stderr and return the usage-error status."""
    print(f"{prog}: error: {' '.join(str(message).split())}", file=sys.stderr)
    return 2


def guarded(prog: str, body: Callable[[], int]) -> int:
    """Run ``body``; an expected failure becomes one line and exit status 2, never a traceback."""
    try:
        return body()
    except EXPECTED_ERRORS as err:
        return fail(prog, str(err) or type(err).__name__)
    except KeyboardInterrupt:
        return fail(prog, "interrupted; run the same command again to resume")


def tracking_defaults(root: Path) -> dict:
    """Tracking URI and registered model name, from the same configs as ``stance-train``."""
    return compose_settings(root)["tracking"]


def score_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stance-score",
        description="Score articles: Japan's signed stance per article and issue, with evidence.",
    )
    parser.add_argument("inputs", nargs="+", help="files or folders: .txt .md .html .jsonl .csv .parquet")
    parser.add_argument("--model", help="MLflow model URI or folder (default: models:/japan-stance@champion)")
    parser.add_argument("--out", default="scores", help="output folder (default: scores)")
    parser.add_argument("--tracking-uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI or experiments/mlflow.db)")
    parser.add_argument("--column", action="append", default=[], metavar="FIELD=COLUMN",
                        help="table column names, e.g. --column text=body --column date=published")
    parser.add_argument("--chunk-size", type=int, default=200, help="articles per chunk (default: 200)")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="processes (default: 2)")
    parser.add_argument("--bootstrap", type=int, default=500, help="bootstrap resamples per article (default: 500)")
    parser.add_argument("--seed", type=int, default=42)
    return parser


def write_report(out: Path, articles: pd.DataFrame, rejects: pd.DataFrame, issues: Sequence[str], model: str) -> None:
    """``report.html`` and the PNG plots beside it."""
    images = []
    for name, fig in (("heatmap.png", report.plot_heatmap(articles, issues) if len(articles) else None),
                      ("timeline.png", report.plot_timeline(articles, issues) if len(articles) else None)):
        if fig is not None:
            write_atomic(out / name, lambda p, f=fig: f.savefig(p, format="png", dpi=110))
            images.append(name)
    page = report.render_html(articles, rejects, issues, images, model)
    write_atomic(out / "report.html", lambda p: p.write_text(page, encoding="utf-8"))


def run_score(args: argparse.Namespace) -> int:
    defaults = tracking_defaults(Path.cwd())
    tracking_uri = args.tracking_uri or defaults["uri"]
    tracking.use_tracking_uri(tracking_uri)
    model_uri = args.model or f"models:/{defaults['registered_model_name']}@{tracking.CHAMPION}"
    model_id = tracking.describe_model(model_uri, tracking_uri)
    model = tracking.load_stance_model(model_id)
    columns = parse_columns(args.column)
    options = ScoreOptions(chunk_size=args.chunk_size, n_boot=args.bootstrap, seed=args.seed)
    out = Path(args.out)
    if not check_run(out, run_identity(args.inputs, model_id, columns, options)):
        done = len(list((out / PARTS).glob("*.done")))
        if done:
            print(f"resuming: {done} chunks already scored in {out / PARTS}", file=sys.stderr)
        with tqdm(unit=" articles", desc="scoring", disable=None, file=sys.stderr) as bar:
            def progress(n_articles: int, n_sentences: int) -> None:
                bar.update(n_articles)
                bar.set_postfix(sentences=n_sentences, refresh=False)

            score_to_parts(iter_inputs(args.inputs, columns), model, out, options, args.workers, progress)
        articles, rejects = merge_parts(out)
        write_report(out, articles, rejects, model.issues, model_id)
        finish(out)
    else:
        articles, rejects = pd.read_parquet(out / "articles.parquet"), pd.read_csv(out / "rejects.csv")
        print(f"{out} already holds this run, complete.")
    print(report.terminal_table(articles, model.issues))
    n_articles = articles["article_id"].nunique() if len(articles) else 0
    print(f"\n{n_articles} articles scored with {model_id}, {len(rejects)} inputs rejected (rejects.csv); outputs in {out}/")
    return 0


def score_main(argv: Sequence[str] | None = None) -> int:
    """``stance-score INPUT... [--model URI] [--out DIR]``."""
    args = score_parser().parse_args(argv)
    return guarded("stance-score", lambda: run_score(args))


def labels_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stance-labels",
        description="Check label files and describe them: counts, topics, sources, annotator agreement.",
    )
    parser.add_argument("paths", nargs="*", help="label files or folders (default: the data config's labels)")
    parser.add_argument("--data", default="japan", help="data config whose schema applies (default: japan)")
    parser.add_argument("--second-annotator", default="labeller-2nd", help="annotator to measure agreement for")
    return parser


def run_labels(args: argparse.Namespace) -> int:
    settings = compose_settings(Path.cwd(), [f"data={args.data}"])
    data = settings["data"]
    schema = LabelSchema.from_config(data)
    paths = args.paths or [*data["labels"], *data["extra"]]
    label_set = load_labels(paths, schema, data["on_conflict"], data["adjudicator"])
    frame = label_set.frame
    print(label_set.report.summary())
    counts = pd.DataFrame(label_set.report.counts).T
    counts["total"] = counts.sum(axis=1)
    counts["none_share"] = (counts[schema.none] / counts["total"]).round(3)
    print(f"\nrows per issue and stance ({frame['text'].nunique()} sentences):\n{counts.to_string()}")
    sentences = frame.drop_duplicates("text")
    if sentences["topic"].ne("").any():
        print(f"\nsentences per topic:\n{sentences['topic'].replace('', '(none)').value_counts().to_string()}")
    web = sentences[sentences["source"].str.contains("://", regex=False)]
    print(
        f"\nsources: {sentences['source'].nunique()} distinct ({web['source'].nunique()} web pages on "
        f"{web['source'].map(source_domain).nunique()} domains); "
        f"sentences by kind: {sentences['source'].map(_source_kind).value_counts().to_dict()}"
    )
    dated = pd.to_datetime(sentences["date"].str[:4], format="%Y", errors="coerce").dropna()
    if len(dated):
        print(f"years: {dated.min().year}-{dated.max().year}")
    agreement = annotator_agreement(read_label_rows(paths), args.second_annotator, data["adjudicator"])
    if len(agreement):
        print(f"\nagreement of {args.second_annotator} with the first annotation:\n{agreement.round(3).to_string(index=False)}")
    return 0


def _source_kind(source: str) -> str:
    return "web" if "://" in source else source.split("/", 1)[0]


def labels_main(argv: Sequence[str] | None = None) -> int:
    """``stance-labels [PATH...]``: validate labels and print what they hold."""
    args = labels_parser().parse_args(argv)
    return guarded("stance-labels", lambda: run_labels(args))
