"""Articles to score: files and folders of text, markdown, HTML and tables, read lazily.

Every input becomes either an :class:`Article` or a :class:`Reject` that says why it
cannot be scored; nothing is dropped silently. Table files (JSONL, CSV, Parquet) give one
article per row and are read in batches, so memory does not grow with their size.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

DOCUMENT_SUFFIXES = {".txt": False, ".md": False, ".html": True, ".htm": True}
TABLE_SUFFIXES = (".jsonl", ".csv", ".parquet")
META_FIELDS = ("title", "date", "source", "topic")
DEFAULT_COLUMNS = {"text": "text", "article_id": "article_id"} | {f: f for f in META_FIELDS}
TABLE_BATCH_ROWS = 2_000


class InputError(ValueError):
    """An input the whole run cannot go on with (a missing path, an unknown column)."""


@dataclass(frozen=True)
class Article:
    """One article to score, with where it came from."""

    article_id: str
    text: str
    origin: str
    is_html: bool = False
    meta: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reject:
    """An input that could not be scored, and why."""

    origin: str
    article_id: str
    reason: str


def _decode(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def read_document(path: Path, article_id: str) -> Article | Reject:
    """A ``.txt``, ``.md`` or ``.html`` file as one article, or the reason it cannot be."""
    origin = str(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        return Reject(origin, article_id, f"unreadable: {err.strerror}")
    if b"\x00" in raw[:8192]:
        return Reject(origin, article_id, "binary file (NUL bytes)")
    text = _decode(raw)
    if text is None:
        return Reject(origin, article_id, "not valid UTF-8 text")
    if not text.strip():
        return Reject(origin, article_id, "empty file")
    return Article(article_id, text, origin, is_html=DOCUMENT_SUFFIXES[path.suffix.lower()])


def _table_batches(path: Path) -> Iterator[pd.DataFrame]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        for batch in pq.ParquetFile(path).iter_batches(batch_size=TABLE_BATCH_ROWS):
            yield batch.to_pandas()
    elif suffix == ".csv":
        yield from pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=TABLE_BATCH_ROWS)
    else:
        yield from pd.read_json(path, lines=True, dtype=False, chunksize=TABLE_BATCH_ROWS)


def _row_value(value) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def read_table(path: Path, stem: str, columns: Mapping[str, str]) -> Iterator[Article | Reject]:
    """Each row of a JSONL, CSV or Parquet file as an article (or a reject)."""
    row = 0
    try:
        for batch in _table_batches(path):
            if columns["text"] not in batch.columns:
                found = ", ".join(map(str, batch.columns))
                raise InputError(f"{path}: no text column '{columns['text']}' (found: {found}; see --text-column)")
            for record in batch.to_dict("records"):
                row += 1
                yield _table_article(record, f"{path}#{row}", f"{stem}#{row}", columns)
    except (ValueError, OSError, UnicodeDecodeError) as err:
        if isinstance(err, InputError):
            raise
        yield Reject(str(path), stem, f"unreadable table after row {row}: {str(err).splitlines()[0]}")


def _table_article(record: dict, origin: str, fallback_id: str, columns: Mapping[str, str]) -> Article | Reject:
    article_id = _row_value(record.get(columns["article_id"])) or fallback_id
    text = _row_value(record.get(columns["text"]))
    if not text.strip():
        return Reject(origin, article_id, "empty text")
    meta = {f: _row_value(record.get(columns[f])) for f in META_FIELDS if columns[f] in record}
    return Article(article_id, text, origin, is_html=text.lstrip().startswith("<"), meta=meta)


def expand_input(raw: str | Path) -> Iterator[tuple[Path, str]]:
    """Files under one input argument, each with its id stem (path relative to the argument, no extension)."""
    path = Path(raw)
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if not p.is_dir()):
            yield file, file.relative_to(path).with_suffix("").as_posix()
    elif path.is_file():
        yield path, path.with_suffix("").name
    else:
        raise InputError(f"{path}: no such file or folder")


def iter_inputs(inputs: Sequence[str | Path], columns: Mapping[str, str] | None = None) -> Iterator[Article | Reject]:
    """Every article (or reject) under ``inputs``, in a fixed order; repeated ids are rejected."""
    columns = {**DEFAULT_COLUMNS, **(columns or {})}
    for raw in inputs:  # fail on a missing argument before any work is done
        if not Path(raw).exists():
            raise InputError(f"{raw}: no such file or folder")
    seen: set[str] = set()
    for raw in inputs:
        for path, stem in expand_input(raw):
            suffix = path.suffix.lower()
            if suffix in DOCUMENT_SUFFIXES:
                items: Iterator[Article | Reject] = iter([read_document(path, stem)])
            elif suffix in TABLE_SUFFIXES:
                items = read_table(path, stem, columns)
            else:
                items = iter([Reject(str(path), stem, f"unsupported file type '{suffix or path.name}'")])
            for item in items:
                if isinstance(item, Article) and item.article_id in seen:
                    item = Reject(item.origin, item.article_id, "duplicate article_id (already scored from another input)")
                elif isinstance(item, Article):
                    seen.add(item.article_id)
                yield item


def parse_columns(pairs: Sequence[str]) -> dict[str, str]:
    """``["text=body", "date=published"]`` -> ``{"text": "body", "date": "published"}``."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in DEFAULT_COLUMNS or not value:
            raise InputError(f"--column {pair!r}: expected FIELD=COLUMN with FIELD one of {', '.join(DEFAULT_COLUMNS)}")
        out[key] = value
    return out

