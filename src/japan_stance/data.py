"""Label files: read, validate, report duplicates and conflicts, split stably.

Every problem names the file, the line and what is wrong, in one line. Validation
reports and never repairs: the only change made to a row is whitespace
normalisation of its text. Every row that does not reach training (an exact
duplicate, a resolved or dropped conflict) is counted in the :class:`LabelReport`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from japan_stance.schema import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, LabelSchema

LABEL_SUFFIXES = (".csv", ".jsonl", ".parquet")
CONFLICT_POLICIES = ("error", "drop", "adjudicated")
_KEY = ["text", "issue"]


class LabelError(ValueError):
    """Label input that cannot be used; the message is one line: ``file:line: what is wrong``."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one row of one file."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"


@dataclass
class LabelReport:
    """What loading did: files read, rows read and kept, duplicates and conflicts found."""

    files: list[str]
    rows_read: int
    duplicates: pd.DataFrame
    conflicts: pd.DataFrame
    on_conflict: str
    rows_dropped: dict[str, int] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def rows_kept(self) -> int:
        """Rows that reach training and evaluation."""
        return self.rows_read - sum(self.rows_dropped.values())

    def to_dict(self) -> dict:
        """Plain form, as logged to MLflow (``label_report.json``)."""
        return {
            "files": self.files,
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "rows_dropped": self.rows_dropped,
            "duplicate_rows": len(self.duplicates),
            "conflicting_pairs": int(self.conflicts.groupby(_KEY).ngroups)
            if len(self.conflicts)
            else 0,
            "on_conflict": self.on_conflict,
            "counts": self.counts,
        }

    def summary(self) -> str:
        """A few readable lines for the terminal."""
        d = self.to_dict()
        dropped = ", ".join(f"{n} {why}" for why, n in self.rows_dropped.items() if n) or "none"
        return (
            f"labels: {len(self.files)} file(s), {d['rows_read']} rows read, "
            f"{d['rows_kept']} kept (dropped: {dropped}); "
            f"{d['duplicate_rows']} exact duplicate rows, "
            f"{d['conflicting_pairs']} conflicting sentence-issue pairs (on_conflict={self.on_conflict})"
        )


@dataclass
class LabelSet:
    """Validated label rows (``text``, ``issue``, ``stance``, provenance, ``file``, ``line``)."""

    frame: pd.DataFrame
    report: LabelReport


def normalise_text(text: str) -> str:
    """Collapse every run of whitespace to one space and strip the ends."""
    return " ".join(str(text).split())


def find_label_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files and folders into the sorted list of label files they name."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in LABEL_SUFFIXES)
            if not found:
                raise LabelError(f"{path}: no label files ({', '.join(LABEL_SUFFIXES)}) in this folder")
            files.extend(found)
        elif path.is_file():
            if path.suffix not in LABEL_SUFFIXES:
                raise LabelError(f"{path}: unsupported label file type (use {', '.join(LABEL_SUFFIXES)})")
            files.append(path)
        else:
            raise LabelError(f"{path}: no such file or folder")
    return files


def _decode(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise LabelError(f"{path}: cannot read: {err.strerror}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise LabelError(
            f"{path}:{line}: not valid UTF-8 (byte 0x{raw[err.start]:02x}); save the file as UTF-8"
        ) from None


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    reader = csv.reader(io.StringIO(_decode(path), newline=""))
    records: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    start = 1
    try:
        for row in reader:
            if row and any(cell.strip() for cell in row):
                if header is None:
                    header = [c.strip() for c in row]
                else:
                    if len(row) != len(header):
                        raise LabelError(
                            f"{path}:{start}: expected {len(header)} fields, found {len(row)}"
                        )
                    records.append((start, row))
            start = reader.line_num + 1
    except csv.Error as err:
        raise LabelError(f"{path}:{reader.line_num}: malformed CSV: {err}") from None
    if header is None:
        raise LabelError(f"{path}: empty file (no header row)")
    return header, records


def _read_jsonl(path: Path) -> tuple[list[str], list[tuple[int, dict]]]:
    records: list[tuple[int, dict]] = []
    columns: dict[str, None] = {}
    for number, line in enumerate(_decode(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise LabelError(f"{path}:{number}: not valid JSON: {err.msg}") from None
        if not isinstance(obj, dict):
            raise LabelError(f"{path}:{number}: expected a JSON object, found {type(obj).__name__}")
        columns.update(dict.fromkeys(obj))
        records.append((number, obj))
    if not records:
        raise LabelError(f"{path}: empty file (no JSON lines)")
    return list(columns), records


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except Exception as err:  # pyarrow raises many types for a broken file
        raise LabelError(f"{path}: not a readable Parquet file: {str(err).splitlines()[0]}") from None
    if frame.empty:
        raise LabelError(f"{path}: empty file (no rows)")
    return frame.assign(line=range(1, len(frame) + 1))


def read_label_file(path: str | Path) -> pd.DataFrame:
    """Read one CSV, JSONL or Parquet label file into string columns plus ``file`` and ``line``.

    ``line`` is the physical line a CSV record starts on (the header is line 1),
    the line of a JSON object, or the 1-based row of a Parquet file.
    """
    path = Path(path)
    if path.suffix == ".parquet":
        frame = _read_parquet(path)
    elif path.suffix == ".jsonl":
        columns, records = _read_jsonl(path)
        frame = pd.DataFrame([obj for _, obj in records], columns=columns)
        frame["line"] = [n for n, _ in records]
    elif path.suffix == ".csv":
        header, records = _read_csv(path)
        frame = pd.DataFrame([row for _, row in records], columns=header)
        frame["line"] = [n for n, _ in records]
        if frame.empty:
            raise LabelError(f"{path}:1: no label rows under the header")
    else:
        raise LabelError(f"{path}: unsupported label file type (use {', '.join(LABEL_SUFFIXES)})")
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        found = ", ".join(c for c in frame.columns if c != "line")
        raise LabelError(f"{path}:1: missing column '{missing[0]}' (found: {found})")
    keep = [c for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in frame.columns]
    out = frame[keep].astype("object").where(frame[keep].notna(), "").astype(str)
    for column in OPTIONAL_COLUMNS:
        if column not in out.columns:
            out[column] = ""
    out["text"] = out["text"].map(normalise_text)
    out["file"] = str(path)
    out["line"] = frame["line"].to_numpy()
    return out


def validate_labels(frame: pd.DataFrame, schema: LabelSchema) -> list[Problem]:
    """Every schema violation in ``frame``: empty text, unknown issue, unknown stance."""
    problems: list[Problem] = []
    issues, stances = set(schema.issues), set(schema.stances)
    for row in frame.itertuples(index=False):
        if not row.text:
            problems.append(Problem(row.file, row.line, "empty text"))
        if row.issue not in issues:
            problems.append(
                Problem(row.file, row.line, f"unknown issue '{row.issue}' (expected one of: {', '.join(schema.issues)})")
            )
        if row.stance not in stances:
            problems.append(
                Problem(row.file, row.line, f"unknown stance '{row.stance}' (expected one of: {', '.join(schema.stances)})")
            )
    return problems


def find_duplicates(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows repeating an earlier row's text, issue and stance (the first one is not listed)."""
    return frame[frame.duplicated(["text", "issue", "stance"], keep="first")]


def find_conflicts(frame: pd.DataFrame) -> pd.DataFrame:
    """All rows of every sentence-issue pair labelled with more than one stance."""
    n_stances = frame.groupby(_KEY)["stance"].transform("nunique")
    return frame[n_stances > 1].sort_values([*_KEY, "file", "line"])


def _describe_conflict(rows: pd.DataFrame) -> str:
    first = rows.iloc[0]
    parts = [f"{r.stance} ({r.file}:{r.line}{', ' + r.annotator if r.annotator else ''})" for r in rows.itertuples()]
    text = first.text if len(first.text) <= 60 else first.text[:57] + "..."
    return f"{first.file}:{first.line}: conflicting labels for \"{text}\" on {first.issue}: {' vs '.join(parts)}"


def resolve_conflicts(
    frame: pd.DataFrame, conflicts: pd.DataFrame, on_conflict: str, adjudicator: str
) -> pd.DataFrame:
    """Apply the configured conflict policy; raise :class:`LabelError` when it cannot."""
    if conflicts.empty:
        return frame
    groups = list(conflicts.groupby(_KEY, sort=False))
    more = f" (and {len(groups) - 1} more conflicts)" if len(groups) > 1 else ""
    if on_conflict == "error":
        raise LabelError(
            f"{_describe_conflict(groups[0][1])}{more}; adjudicate, or set data.on_conflict=drop|adjudicated"
        )
    if on_conflict == "drop":
        return frame.drop(index=conflicts.index)
    drop: list = []
    for _, rows in groups:
        decided = rows.loc[rows["annotator"] == adjudicator, "stance"].unique()
        if len(decided) != 1:
            raise LabelError(
                f"{_describe_conflict(rows)}{more}; add one row with annotator={adjudicator} to decide it"
            )
        drop.extend(rows.index[rows["stance"] != decided[0]])
    return frame.drop(index=drop)


def count_labels(frame: pd.DataFrame, schema: LabelSchema) -> dict[str, dict[str, int]]:
    """Rows per issue and stance, every combination present (zero where none)."""
    counts = frame.groupby(["issue", "stance"]).size()
    return {i: {s: int(counts.get((i, s), 0)) for s in schema.stances} for i in schema.issues}


def load_labels(
    paths: str | Path | Sequence[str | Path],
    schema: LabelSchema,
    on_conflict: str = "error",
    adjudicator: str = "adjudicator",
) -> LabelSet:
    """Read and validate every label file under ``paths``.

    Raises
    ------
    LabelError
        On the first file that cannot be read, or on any schema violation or
        unresolved conflict; the message is one line and says how many more there are.
    """
    if on_conflict not in CONFLICT_POLICIES:
        raise LabelError(f"data.on_conflict: '{on_conflict}' is not one of {', '.join(CONFLICT_POLICIES)}")
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files = find_label_files(paths)
    frame = pd.concat([read_label_file(f) for f in files], ignore_index=True)
    problems = validate_labels(frame, schema)
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise LabelError(f"{problems[0]}{more}")
    conflicts = find_conflicts(frame)
    resolved = resolve_conflicts(frame, conflicts, on_conflict, adjudicator)
    duplicates = find_duplicates(resolved)
    kept = resolved.drop(index=duplicates.index).reset_index(drop=True)
    report = LabelReport(
        files=[str(f) for f in files],
        rows_read=len(frame),
        duplicates=duplicates,
        conflicts=conflicts,
        on_conflict=on_conflict,
        rows_dropped={"conflicts": len(frame) - len(resolved), "exact duplicates": len(duplicates)},
        counts=count_labels(kept, schema),
    )
    return LabelSet(frame=kept, report=report)


def check_trainable(frame: pd.DataFrame, schema: LabelSchema, what: str = "training rows") -> None:
    """Raise :class:`LabelError` unless every issue has rows of at least two stances."""
    for issue in schema.issues:
        present = sorted(frame.loc[frame["issue"] == issue, "stance"].unique())
        if len(present) < 2:
            raise LabelError(
                f"{what}: issue '{issue}' has {'only ' + present[0] if present else 'no'} rows; "
                "a classifier needs at least two stances (add labels or lower data.eval_fraction)"
            )


def split_groups(frame: pd.DataFrame) -> pd.Series:
    """The unit a split keeps together: the article, else the sentence itself."""
    article = frame["article_id"] if "article_id" in frame else pd.Series("", index=frame.index)
    return article.where(article != "", "text:" + frame["text"])


def stable_fraction(key: str, salt: str) -> float:
    """A number in [0, 1) fixed by ``key`` and ``salt`` alone."""
    digest = hashlib.sha256(f"{salt}\x00{key}".encode()).hexdigest()
    return int(digest[:15], 16) / 16**15


def split_labels(
    frame: pd.DataFrame, eval_fraction: float, salt: str = "japan-stance"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows into train and eval by a hash of their group.

    A row's side depends only on its group and the salt, so adding rows never moves
    an old row, and all sentences of one article stay on one side.
    """
    in_eval = split_groups(frame).map(lambda g: stable_fraction(g, salt) < eval_fraction)
    return frame[~in_eval].reset_index(drop=True), frame[in_eval].reset_index(drop=True)


def content_digest(frame: pd.DataFrame) -> str:
    """A short digest of the rows' text, issue and stance, independent of row order and files."""
    lines = sorted(frame["text"] + "\t" + frame["issue"] + "\t" + frame["stance"])
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def read_label_rows(paths: Sequence[str | Path]) -> pd.DataFrame:
    """Every row of every label file, as written (before duplicates and conflicts are handled)."""
    return pd.concat([read_label_file(f) for f in find_label_files(paths)], ignore_index=True)


def annotator_agreement(rows: pd.DataFrame, second: str, adjudicator: str = "adjudicator") -> pd.DataFrame:
    """Agreement of annotator ``second`` with the first label of each sentence and issue.

    Pairs each of ``second``'s rows with the other annotators' row for the same text and issue
    (adjudicator rows left out). Returns per issue: pairs, raw agreement, Cohen's kappa.
    """
    from sklearn.metrics import cohen_kappa_score

    theirs = rows[rows["annotator"] == second]
    firsts = rows[~rows["annotator"].isin([second, adjudicator])].drop_duplicates(_KEY)
    pairs = theirs.merge(firsts, on=_KEY, suffixes=("_second", "_first"))
    out = [
        {
            "issue": issue,
            "pairs": len(group),
            "agreement": float((group["stance_first"] == group["stance_second"]).mean()),
            "kappa": float(cohen_kappa_score(group["stance_first"], group["stance_second"])),
        }
        for issue, group in pairs.groupby("issue", sort=False)
    ]
    return pd.DataFrame(out, columns=["issue", "pairs", "agreement", "kappa"])


def source_domain(source: str) -> str:
    """The web domain of a URL source (``www.`` dropped); the source itself otherwise."""
    host = source.split("://", 1)[1].split("/", 1)[0] if "://" in source else source
    return host.removeprefix("www.")
