"""Plain command-line entry points: stance-score, stance-labels, stance-compare, stance-promote, stance-suggest.

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
from japan_stance.compare import paired_bootstrap, runs_table
from japan_stance.config import compose_settings
from japan_stance.data import (
    LabelError,
    annotator_agreement,
    content_digest,
    load_labels,
    read_label_rows,
    source_domain,
    split_groups,
)
from japan_stance.evaluate import evaluate, predict_rows
from japan_stance.inputs import Article, InputError, iter_inputs, parse_columns
from japan_stance.schema import LabelSchema
from japan_stance.score import (
    PARTS,
    ScoreError,
    ScoreOptions,
    check_run,
    finish,
    merge_parts,
    run_identity,
    score_to_parts,
    split_articles,
    write_atomic,
)
from japan_stance.suggest import select_uncertain, to_label_rows
from japan_stance.train import load_split

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
    model_uri = args.model or tracking.champion_uri(defaults["registered_model_name"])
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


# ---------------------------------------------------------------- the experiment loop

def loop_context(overrides: Sequence[str]) -> tuple[dict, LabelSchema, pd.DataFrame, tracking.Store]:
    """Settings, schema, the current eval rows and the open store, for compare and promote.

    ``overrides`` are Hydra overrides, as given to ``stance-train`` (``data=semeval2016``).
    """
    settings = compose_settings(Path.cwd(), list(overrides))
    schema = LabelSchema.from_config(settings["data"])
    _, _, eval_ = load_split(settings["data"], schema)
    return settings, schema, eval_, tracking.open_store_from_config(settings["tracking"])


def compare_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stance-compare", description="Compare training runs: differing params, metrics per issue.")
    parser.add_argument("-o", "--override", action="append", default=[], metavar="KEY=VALUE",
                        help="a stance-train config override naming the data and store (e.g. -o data=semeval2016)")
    parser.add_argument("--parent", help="only the child runs of this sweep parent run (an id prefix works)")
    parser.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE", help="only runs with this tag")
    parser.add_argument("--last", type=int, help="the N newest runs (default: 20, or every child with --parent)")
    parser.add_argument("--metric", default="f_avg", help="metric to show per issue and sort by (default: f_avg)")
    parser.add_argument("--format", choices=["table", "markdown", "csv", "json"], default="table")
    parser.add_argument("--plot", help="write a PNG of the metric per run and issue")
    parser.add_argument("--reeval", action="store_true", help="re-score every run's model on the current eval set")
    return parser


def run_filter(parent: str | None, tags: Sequence[str]) -> str:
    """An MLflow filter string from ``--parent`` and ``--tag`` options."""
    clauses = [f"tags.`{tracking.PARENT_TAG}` = '{parent}'"] if parent else []
    for pair in tags:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--tag {pair!r}: expected KEY=VALUE")
        clauses.append(f"tags.`{key}` = '{value}'")
    return " and ".join(clauses)


def reevaluate(runs: pd.DataFrame, store: tracking.Store, eval_: pd.DataFrame, schema: LabelSchema) -> pd.DataFrame:
    """Replace each run's metrics by its logged model's metrics on ``eval_``."""
    runs = runs.copy()
    for i, run_id in enumerate(runs["run_id"]):
        model = tracking.load_stance_model(tracking.run_model_uri(store.client, run_id))
        for key, value in evaluate(model, eval_, schema).metrics.items():
            runs.loc[i, f"metrics.{key}"] = value
        runs.loc[i, "tags.data.eval_digest"] = content_digest(eval_)
    return runs


def run_compare(args: argparse.Namespace) -> int:
    settings, schema, eval_, store = loop_context(args.override)
    parent = tracking.resolve_run_id(store, args.parent, parents=True) if args.parent else None
    runs = tracking.search_runs(store, run_filter(parent, args.tag))
    last = args.last if args.last is not None else (None if args.parent else 20)
    runs = runs.head(last) if last is not None else runs
    if runs.empty:
        raise ValueError(f"no runs found in experiment {settings['tracking']['experiment_name']} with these filters")
    if args.reeval:
        runs = reevaluate(runs, store, eval_, schema)
    champion = tracking.get_alias(store.client, settings["tracking"]["registered_model_name"])
    table = runs_table(runs, schema.issues, args.metric, champion.run_id if champion else None, content_digest(eval_))
    outputs = {
        "table": lambda: table.to_string(index=False, float_format="%.3f"),
        "markdown": lambda: table.to_markdown(index=False, floatfmt=".3f"),
        "csv": lambda: table.to_csv(index=False),
        "json": lambda: table.to_json(orient="records", indent=2),
    }
    print(outputs[args.format]())
    if (table["eval_set"] == "OTHER").any() and args.format == "table":
        print("\nruns marked OTHER were evaluated on another eval set: use --reeval to compare them fairly")
    if args.plot:
        figure = report.plot_runs(table, schema.issues, args.metric)
        write_atomic(Path(args.plot), lambda p: figure.savefig(p, format="png", dpi=110))
    return 0


def promote_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stance-promote",
        description="Move the champion alias to a run's model, only if it is better on the current eval set.",
    )
    parser.add_argument("run_id", nargs="?", help="the training run whose model to promote")
    parser.add_argument("--best", action="store_true", help="take the run with the best --metric on the current eval set")
    parser.add_argument("--metric", default="f_avg")
    parser.add_argument("-o", "--override", action="append", default=[], metavar="KEY=VALUE",
                        help="a stance-train config override naming the data and store (e.g. -o data=semeval2016)")
    parser.add_argument("--confidence", type=float, default=0.95, help="required P(better) in the paired bootstrap")
    parser.add_argument("--force", action="store_true", help="promote even if not better (needs --reason)")
    parser.add_argument("--reason", help="why a forced promotion is right (logged on the version)")
    parser.add_argument("--rollback", action="store_true", help="swap champion and previous")
    return parser


def best_run(store: tracking.Store, metric: str, eval_digest: str) -> str:
    """The run with the highest ``metric`` among those evaluated on the current eval set."""
    runs = tracking.search_runs(store)
    column = f"metrics.{metric}"
    if column not in runs or "tags.data.eval_digest" not in runs:
        raise ValueError(f"no run has metric {metric!r}")
    runs = runs[runs["tags.data.eval_digest"] == eval_digest].dropna(subset=[column])
    if runs.empty:
        raise ValueError("no run was evaluated on the current eval set: use stance-compare --reeval, or promote a RUN_ID")
    return str(runs.sort_values(column, ascending=False)["run_id"].iloc[0])


def run_promote(args: argparse.Namespace) -> int:
    settings, schema, eval_, store = loop_context(args.override)
    name = settings["tracking"]["registered_model_name"]
    if args.rollback:
        champion, previous = tracking.rollback(store, name)
        print(f"rolled back: {name} @champion is version {champion}, @previous is version {previous}")
        return 0
    if args.force and not args.reason:
        raise ValueError("--force needs --reason")
    if bool(args.run_id) == args.best:
        raise ValueError("give a RUN_ID or --best")
    run_id = best_run(store, args.metric, content_digest(eval_)) if args.best else tracking.resolve_run_id(store, args.run_id)
    champion = tracking.get_alias(store.client, name)
    if champion and champion.run_id == run_id:
        print(f"run {run_id} is already the champion (version {champion.version})")
        return 0
    tags = {"promotion.run_id": run_id}
    if champion:
        candidate = tracking.load_stance_model(tracking.run_model_uri(store.client, run_id))
        current = tracking.load_stance_model(champion.model_uri)
        gold = predict_rows(candidate, eval_, schema)
        result = paired_bootstrap(
            gold["stance"], gold["predicted"], predict_rows(current, eval_, schema)["predicted"], schema.stances,
            groups=split_groups(eval_).to_numpy(),  # the eval split's unit: the article, else the sentence
        )
        print(
            f"F_avg on the current eval set ({result['n']} rows, {result['n_groups']} articles or sentences "
            f"resampled): candidate {result['f_avg_a']:.3f}, "
            f"champion v{champion.version} {result['f_avg_b']:.3f}; difference {result['diff']:+.3f} "
            f"[90% interval {result['ci_low']:+.3f}, {result['ci_high']:+.3f}], P(better) = {result['p_better']:.3f}"
        )
        tags |= {"promotion.diff": f"{result['diff']:.4f}", "promotion.p_better": f"{result['p_better']:.4f}"}
        if result["p_better"] < args.confidence and not args.force:
            print(f"not promoted: P(better) {result['p_better']:.3f} < {args.confidence} (use --force --reason to override)")
            return 0
    if args.force:
        tags |= {"promotion.forced": "true", "promotion.reason": args.reason}
    version = tracking.ensure_registered(store, run_id, name)
    previous = tracking.set_champion(store, name, version)
    tracking.tag_version(store, name, version, tags)
    print(f"promoted: {name} version {version} (run {run_id}) is @champion" + (f"; version {previous} is @previous" if previous else ""))
    return 0


def suggest_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stance-suggest", description="Write the sentences the champion is least sure of, ready to label.")
    parser.add_argument("inputs", nargs="+", help="unlabelled articles: files or folders, as for stance-score")
    parser.add_argument("--n", type=int, default=50, help="how many sentences (default: 50)")
    parser.add_argument("--out", required=True, help="CSV file to write (the labelling format, stance empty)")
    parser.add_argument("--model", help="model URI (default: the champion)")
    parser.add_argument("--column", action="append", default=[], metavar="FIELD=COLUMN")
    parser.add_argument("--max-similarity", type=float, default=0.8, help="cosine above which a sentence is a near-duplicate")
    return parser


def run_suggest(args: argparse.Namespace) -> int:
    defaults = tracking_defaults(Path.cwd())
    tracking.use_tracking_uri(defaults["uri"])
    model = tracking.load_stance_model(args.model or tracking.champion_uri(defaults["registered_model_name"]))
    articles = [i for i in iter_inputs(args.inputs, parse_columns(args.column)) if isinstance(i, Article)]
    sentences, _ = split_articles(articles)
    if sentences.empty:
        raise ValueError("no sentences in the inputs")
    sentences = pd.concat([sentences, model.predict_proba(list(sentences["text"]))], axis=1)
    vectors = model.vectorizer_.transform(sentences["text"]) if hasattr(model, "vectorizer_") else None
    chosen = select_uncertain(sentences, model.issues, model.stances, args.n, vectors, args.max_similarity)
    meta = pd.DataFrame([{"article_id": a.article_id, "source": a.origin, **{k: v for k, v in a.meta.items() if k in ("date", "topic")}} for a in articles])
    rows = to_label_rows(chosen, model.issues, meta)
    write_atomic(Path(args.out), lambda p: rows.to_csv(p, index=False))
    print(f"wrote {len(chosen)} sentences ({len(rows)} rows, stance empty) to {args.out}; by issue: "
          f"{chosen['issue'].value_counts().to_dict() if len(chosen) else {}}; from {chosen['article_id'].nunique() if len(chosen) else 0} articles")
    return 0


def entry_point(prog: str, parser: Callable[[], argparse.ArgumentParser], run: Callable[[argparse.Namespace], int]):
    """A console-script ``main(argv=None) -> int``: parse, then run guarded."""

    def main(argv: Sequence[str] | None = None) -> int:
        return guarded(prog, lambda: run(parser().parse_args(argv)))

    main.__doc__ = parser().description
    return main


score_main = entry_point("stance-score", score_parser, run_score)
labels_main = entry_point("stance-labels", labels_parser, run_labels)
compare_main = entry_point("stance-compare", compare_parser, run_compare)
promote_main = entry_point("stance-promote", promote_parser, run_promote)
suggest_main = entry_point("stance-suggest", suggest_parser, run_suggest)
