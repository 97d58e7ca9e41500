"""Batch scoring: articles in, sentence probabilities and a signed stance per article and issue out.

The flow is ``inputs -> chunks -> (clean, split, predict, aggregate) -> parts -> outputs``.
Chunks are a fixed number of inputs in a fixed order, so a run killed at any point and
started again with the same arguments skips the chunks already written and ends with the
same outputs. Every file is written under a temporary name and renamed into place.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from joblib import Parallel, delayed

from japan_stance.inputs import Article, Reject
from japan_stance.schema import LabelSchema
from japan_stance.stats import ratio, resample_counts
from japan_stance.text import article_sentences

PARTS = ".parts"
RUN_FILE = "run.json"
ARTICLE_COLUMNS = [
    "article_id", "issue", "score", "ci_low", "ci_high", "p_favor", "p_against",
    "n_sentences", "n_stance_sentences", "evidence",
]
REJECT_COLUMNS = ["input", "article_id", "reason"]


class ScoreError(ValueError):
    """A scoring run that cannot start or go on (e.g. the output folder holds another run)."""


@dataclass(frozen=True)
class ScoreOptions:
    """How a run scores; part of its identity for resuming."""

    chunk_size: int = 200
    n_boot: int = 500
    ci: float = 0.90
    n_evidence: int = 3
    seed: int = 42


@dataclass
class Chunk:
    """What one chunk of inputs produced."""

    sentences: pd.DataFrame
    articles: pd.DataFrame
    rejects: pd.DataFrame


# ---------------------------------------------------------------- aggregation (pure)

def weighted_score(signed: np.ndarray, weight: np.ndarray, axis: int = 0) -> np.ndarray:
    """Sum of signed * weight over ``axis`` divided by the sum of weight; 0 where no weight."""
    return ratio((signed * weight).sum(axis=axis), weight.sum(axis=axis))


def signed_score(p_favor, p_against, p_none) -> float:
    """Mean of P(favor) - P(against) over sentences, weighted by 1 - P(none); 0 if no weight."""
    p_favor, p_against, p_none = (np.asarray(p, dtype=float) for p in (p_favor, p_against, p_none))
    return float(weighted_score(p_favor - p_against, 1.0 - p_none))


def bootstrap_scores(signed: np.ndarray, weight: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Weighted scores of ``n_boot`` resamples of the sentences: shape (n_boot, n_issues)."""
    counts = resample_counts(rng, signed.shape[0], n_boot)
    return ratio(counts @ (signed * weight), counts @ weight)


def article_seed(article_id: str, seed: int) -> int:
    """A seed fixed by the article and the run seed alone (not by chunking or order)."""
    return int(hashlib.sha256(f"{seed}:{article_id}".encode()).hexdigest()[:16], 16)


def format_evidence(texts: Sequence[str], signed: np.ndarray, score: float, k: int) -> str:
    """The ``k`` sentences pushing hardest in the direction of ``score``, with their signed value."""
    direction = np.sign(score) if score != 0 else 1.0
    strength = signed * direction if score != 0 else np.abs(signed)
    order = [i for i in np.argsort(-strength, kind="stable")[:k] if strength[i] > 0]
    return " || ".join(f"[{signed[i]:+.2f}] {texts[i]}" for i in order)


def aggregate_article(
    article_id: str, texts: Sequence[str], proba: np.ndarray, issues: Sequence[str], options: ScoreOptions
) -> list[dict]:
    """One row per issue for one article.

    Parameters
    ----------
    proba : ndarray of shape (n_sentences, 3, n_issues)
        P(favor), P(against), P(none) of each sentence on each issue.
    """
    signed = proba[:, 0, :] - proba[:, 1, :]
    weight = 1.0 - proba[:, 2, :]
    scores = weighted_score(signed, weight)
    rng = np.random.default_rng(article_seed(article_id, options.seed))
    boot = np.sort(bootstrap_scores(signed, weight, options.n_boot, rng), axis=0)
    tail = (1.0 - options.ci) / 2
    low, high = boot[int(np.floor(tail * (options.n_boot - 1)))], boot[int(np.ceil((1 - tail) * (options.n_boot - 1)))]
    is_stance = proba.argmax(axis=1) < 2
    means = proba.mean(axis=0)
    return [
        {
            "article_id": article_id, "issue": issue, "score": float(scores[j]),
            "ci_low": float(min(low[j], scores[j])), "ci_high": float(max(high[j], scores[j])),
            "p_favor": float(means[0, j]), "p_against": float(means[1, j]),
            "n_sentences": int(len(proba)), "n_stance_sentences": int(is_stance[:, j].sum()),
            "evidence": format_evidence(texts, signed[:, j], scores[j], options.n_evidence),
        }
        for j, issue in enumerate(issues)
    ]


def aggregate(sentences: pd.DataFrame, issues: Sequence[str], stances: Sequence[str], options: ScoreOptions) -> pd.DataFrame:
    """Per article and issue: signed score, bootstrap interval, mean probabilities, counts, evidence.

    ``sentences`` has ``article_id``, ``text`` and ``{issue}.{stance}`` columns, with stances
    in the order favor, against, none; the sentences of an article are consecutive.
    """
    columns = [LabelSchema.proba_column(i, s) for i in issues for s in stances]
    proba = sentences[columns].to_numpy(dtype=float).reshape(len(sentences), len(issues), 3).transpose(0, 2, 1)
    ids, texts = sentences["article_id"].to_numpy(), sentences["text"].to_numpy()
    bounds = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1], True])
    rows: list[dict] = []
    for start, end in zip(bounds[:-1], bounds[1:]):
        rows.extend(aggregate_article(str(ids[start]), texts[start:end], proba[start:end], issues, options))
    return pd.DataFrame(rows, columns=ARTICLE_COLUMNS)


# ---------------------------------------------------------------- one chunk

def split_articles(articles: Iterable[Article]) -> tuple[pd.DataFrame, list[Reject]]:
    """Clean and split articles into a sentence table; articles with no sentence are rejects."""
    rows, rejects = [], []
    for article in articles:
        sentences = article_sentences(article.text, is_html=article.is_html)
        if not sentences:
            rejects.append(Reject(article.origin, article.article_id, "no sentences after cleaning"))
        rows.extend((article.article_id, i, s) for i, s in enumerate(sentences))
    return pd.DataFrame(rows, columns=["article_id", "sentence", "text"]), rejects


def reject_frame(rejects: Iterable[Reject]) -> pd.DataFrame:
    """Rejects as the ``rejects.csv`` table."""
    return pd.DataFrame([(r.origin, r.article_id, r.reason) for r in rejects], columns=REJECT_COLUMNS)


def meta_frame(articles: Iterable[Article]) -> pd.DataFrame:
    """Article metadata given by table inputs (title, date, source, topic), one row per article."""
    return pd.DataFrame([{"article_id": a.article_id, **a.meta} for a in articles if a.meta])


def score_chunk(items: Sequence[Article | Reject], model, options: ScoreOptions) -> Chunk:
    """Split, predict and aggregate one chunk of inputs."""
    articles = [i for i in items if isinstance(i, Article)]
    sentences, empty = split_articles(articles)
    proba = model.predict_proba(list(sentences["text"])) if len(sentences) else pd.DataFrame(
        columns=[LabelSchema.proba_column(i, s) for i in model.issues for s in model.stances], dtype=float
    )
    sentences = pd.concat([sentences, proba.set_axis(sentences.index)], axis=1)
    table = aggregate(sentences, model.issues, model.stances, options)
    meta = meta_frame(articles)
    if len(meta):
        table = table.merge(meta, on="article_id", how="left")
    rejects = reject_frame([i for i in items if isinstance(i, Reject)] + empty)
    return Chunk(sentences, table, rejects)


# ---------------------------------------------------------------- files

def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Write ``path`` through ``write(tmp)`` and rename it into place: never a half file."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_chunk(parts: Path, number: int, chunk: Chunk) -> None:
    """Write one chunk's three tables, then its ``done`` marker (last, so a part is all or nothing)."""
    for name in ("sentences", "articles", "rejects"):
        frame = getattr(chunk, name)
        write_atomic(parts / f"{number:06d}.{name}.parquet", lambda p, f=frame: f.to_parquet(p, index=False))
    write_atomic(parts / f"{number:06d}.done", lambda p: p.write_text("done\n"))


def chunks(items: Iterable, size: int) -> Iterator[list]:
    """Consecutive lists of ``size`` items (the last may be shorter)."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def check_run(out: Path, identity: dict) -> bool:
    """Record the run's identity in ``out``; True if ``out`` already holds this run, complete.

    A complete run with other arguments is replaced. An unfinished one is not: its parts
    cannot be mixed with another run's, so :class:`ScoreError` says what to do.
    """
    out.mkdir(parents=True, exist_ok=True)
    run_file = out / RUN_FILE
    unfinished = (out / PARTS).exists()
    if run_file.exists() and json.loads(run_file.read_text()) == identity:
        return not unfinished and (out / "articles.parquet").exists()
    if run_file.exists() and unfinished:
        raise ScoreError(
            f"{out}: holds an unfinished scoring run with other arguments ({run_file}); "
            "run that command again to finish it, or use another --out"
        )
    write_atomic(run_file, lambda p: p.write_text(json.dumps(identity, indent=2, sort_keys=True)))
    return False


def run_identity(inputs: Sequence[str], model_id: str, columns: dict, options: ScoreOptions) -> dict:
    """What makes two runs the same run: inputs, model, columns, options."""
    return {"inputs": [str(Path(i).resolve()) for i in inputs], "model": model_id, "columns": columns, "options": asdict(options)}


def score_to_parts(
    items: Iterable[Article | Reject], model, out: Path, options: ScoreOptions,
    workers: int = 1, progress: Callable[[int, int], None] | None = None,
) -> int:
    """Score every chunk not yet written under ``out/.parts``; return the number of chunks.

    ``progress(n_articles, n_sentences)`` is called after each chunk.
    """
    parts = out / PARTS
    parts.mkdir(parents=True, exist_ok=True)
    numbered = enumerate(chunks(items, options.chunk_size))
    todo = ((n, c) for n, c in numbered if not (parts / f"{n:06d}.done").exists())
    for n_items, n_sentences in _scored(todo, model, options, workers, parts):
        if progress:
            progress(n_items, n_sentences)
    return len(list(parts.glob("*.done")))


def _scored(todo: Iterator[tuple[int, list]], model, options: ScoreOptions, workers: int, parts: Path):
    """Score and write chunks: the first in this process (a small run never starts a pool),
    the rest over ``workers`` processes, each writing its own parts (only counts come back)."""
    first = next(todo, None)
    if first is None:
        return
    yield score_and_write(*first, model, options, parts)
    jobs = (delayed(score_and_write)(n, c, model, options, parts) for n, c in todo)
    yield from Parallel(n_jobs=workers, return_as="generator")(jobs)


def score_and_write(number: int, items: list, model, options: ScoreOptions, parts: Path) -> tuple[int, int]:
    """Score one chunk and write its parts; return how many inputs and sentences it had."""
    chunk = score_chunk(items, model, options)
    write_chunk(parts, number, chunk)
    return len(items), len(chunk.sentences)


def merge_parts(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write the final outputs from the parts, in chunk order; return articles and rejects."""
    parts = out / PARTS
    numbers = sorted(p.name.split(".")[0] for p in parts.glob("*.done"))
    write_atomic(out / "sentences.parquet", lambda p: _concat_parquet([parts / f"{n}.sentences.parquet" for n in numbers], p))
    articles = pd.concat([pd.read_parquet(parts / f"{n}.articles.parquet") for n in numbers], ignore_index=True)
    rejects = pd.concat([pd.read_parquet(parts / f"{n}.rejects.parquet") for n in numbers], ignore_index=True)
    write_atomic(out / "articles.parquet", lambda p: articles.to_parquet(p, index=False))
    write_atomic(out / "articles.csv", lambda p: articles.to_csv(p, index=False, float_format="%.6f"))
    write_atomic(out / "rejects.csv", lambda p: rejects.to_csv(p, index=False))
    return articles, rejects


def _concat_parquet(files: Sequence[Path], target: Path) -> None:
    """Stream parquet files into one, a file at a time (memory stays at one part)."""
    writer = None
    try:
        for file in files:
            table = pq.read_table(file)
            if table.num_rows == 0:
                continue
            if writer is None:
                writer = pq.ParquetWriter(target, table.schema)
            writer.write_table(table.cast(writer.schema))
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        pq.write_table(pa.table({"article_id": pa.array([], pa.string())}), target)


def finish(out: Path) -> None:
    """Remove the parts once the outputs are in place."""
    shutil.rmtree(out / PARTS, ignore_errors=True)
