"""Scoring: aggregation by hand, every input format and reject reason, resume after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from japan_stance.inputs import Article, InputError, Reject, iter_inputs
from japan_stance.model import StanceModel
from japan_stance.score import ScoreOptions, aggregate, aggregate_article, score_chunk, signed_score
from japan_stance.train import log_run

from conftest import LABELS_CSV, compose_settings

BIN = Path(sys.executable).parent
OPTIONS = ScoreOptions(n_boot=400, seed=1)


def one_issue(proba_rows):
    """(n, 3, 1) probabilities of one issue, for aggregate_article."""
    return np.array(proba_rows, dtype=float)[:, :, None]


# ------------------------------------------------------------------ aggregation by hand

def test_signed_score_weights_sentences_by_their_stance_mass():
    # weights 0.9 and 0.2; signed +0.7 and 0.0 -> (0.9 * 0.7) / 1.1
    assert signed_score([0.8, 0.1], [0.1, 0.1], [0.1, 0.8]) == pytest.approx(0.63 / 1.1)
    assert signed_score([0.0], [0.0], [1.0]) == 0.0


def test_article_row_has_score_interval_counts_and_evidence():
    (row,) = aggregate_article("a", ["Japan backs the US.", "Weather."], one_issue([[0.8, 0.1, 0.1], [0.1, 0.1, 0.8]]), ["support_us"], OPTIONS)
    assert row["score"] == pytest.approx(0.63 / 1.1)
    assert 0.0 <= row["ci_low"] <= row["score"] <= row["ci_high"] <= 0.7 + 1e-12
    assert (row["p_favor"], row["p_against"]) == pytest.approx((0.45, 0.1))
    assert (row["n_sentences"], row["n_stance_sentences"]) == (2, 1)
    assert row["evidence"] == "[+0.70] Japan backs the US."


def test_interval_collapses_for_identical_sentences_and_mirrors_for_against():
    same = aggregate_article("b", ["x"] * 5, one_issue([[0.6, 0.2, 0.2]] * 5), ["support_us"], OPTIONS)[0]
    assert same["ci_low"] == pytest.approx(same["score"]) == pytest.approx(same["ci_high"]) == pytest.approx(0.4)
    proba = np.array([[0.7, 0.1, 0.2], [0.2, 0.5, 0.3], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
    fwd = aggregate_article("c", list("abcd"), one_issue(proba), ["support_us"], OPTIONS)[0]
    rev = aggregate_article("c", list("abcd"), one_issue(proba[:, [1, 0, 2]]), ["support_us"], OPTIONS)[0]
    assert rev["score"] == pytest.approx(-fwd["score"])
    assert (rev["ci_low"], rev["ci_high"]) == pytest.approx((-fwd["ci_high"], -fwd["ci_low"]))
    assert fwd["ci_low"] < fwd["score"] < fwd["ci_high"]


def test_interval_depends_on_article_and_seed_not_on_order_of_processing():
    proba = one_issue(np.random.default_rng(0).dirichlet([1, 1, 1], size=12))
    a = aggregate_article("same", ["s"] * 12, proba, ["i"], OPTIONS)[0]
    b = aggregate_article("same", ["s"] * 12, proba, ["i"], OPTIONS)[0]
    c = aggregate_article("same", ["s"] * 12, proba, ["i"], ScoreOptions(n_boot=400, seed=2))[0]
    assert (a["ci_low"], a["ci_high"]) == (b["ci_low"], b["ci_high"])
    assert (a["ci_low"], a["ci_high"]) != (c["ci_low"], c["ci_high"])


def test_aggregate_gives_a_row_per_article_and_issue():
    sentences = pd.DataFrame({
        "article_id": ["a", "a", "b"], "text": ["x", "y", "z"],
        "i1.favor": [0.8, 0.1, 0.1], "i1.against": [0.1, 0.1, 0.8], "i1.none": [0.1, 0.8, 0.1],
        "i2.favor": [0.3, 0.3, 0.3], "i2.against": [0.3, 0.3, 0.3], "i2.none": [0.4, 0.4, 0.4],
    })
    table = aggregate(sentences, ["i1", "i2"], ["favor", "against", "none"], OPTIONS)
    assert list(zip(table["article_id"], table["issue"])) == [("a", "i1"), ("a", "i2"), ("b", "i1"), ("b", "i2")]
    assert table.set_index(["article_id", "issue"]).loc[("b", "i1"), "score"] == pytest.approx(-0.7)
    assert table.set_index(["article_id", "issue"]).loc[("a", "i2"), "score"] == pytest.approx(0.0)


# ------------------------------------------------------------------ inputs and rejects

ARTICLE = "Japan urges restraint and dialogue.\nTokyo declined to join the US-led operation.\n"


def make_inputs(root: Path) -> Path:
    folder = root / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "plain.txt").write_text(ARTICLE)
    (folder / "notes.md").write_text("# Heading\n\n" + ARTICLE)
    (folder / "sub" / "page.html").write_text(
        "<html><body><nav>Home | World</nav><article><p>Japan urges restraint and dialogue in the region, "
        "the foreign ministry said on Monday.</p><p>Tokyo declined to join the US-led operation, officials said.</p>"
        "</article><footer>Copyright</footer></body></html>"
    )
    (folder / "rows.jsonl").write_text(
        json.dumps({"article_id": "j1", "text": ARTICLE, "date": "2025-01-02", "title": "T"}) + "\n"
        + json.dumps({"text": ARTICLE}) + "\n" + json.dumps({"article_id": "j3", "text": "  "}) + "\n"
    )
    pd.DataFrame({"article_id": ["c1", "c2"], "text": [ARTICLE, ARTICLE]}).to_csv(folder / "rows.csv", index=False)
    pd.DataFrame({"article_id": ["p1"], "text": [ARTICLE], "date": ["2025-03-01"]}).to_parquet(folder / "rows.parquet")
    (folder / "empty.txt").write_text("  \n")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02 binary")
    (folder / "latin.txt").write_bytes("Caf\xe9 diplomacy.".encode("latin-1"))
    (folder / "picture.png").write_bytes(b"\x89PNG")
    (folder / "boiler.txt").write_text("Share this article\n")
    (folder / "plain.md").write_text(ARTICLE)  # same id as plain.txt
    (folder / "gone.txt").symlink_to(folder / "missing-target.txt")
    return folder


def test_every_format_is_read_and_every_bad_input_is_a_reject(tmp_path):
    items = list(iter_inputs([make_inputs(tmp_path)]))
    articles = {i.article_id: i for i in items if isinstance(i, Article)}
    rejects = {i.article_id: i.reason for i in items if isinstance(i, Reject)}
    assert set(articles) == {"plain", "notes", "sub/page", "j1", "rows#2", "c1", "c2", "p1", "boiler"}
    assert articles["sub/page"].is_html and articles["j1"].meta == {"title": "T", "date": "2025-01-02"}
    assert rejects == {
        "j3": "empty text",
        "empty": "empty file",
        "binary": "binary file (NUL bytes)",
        "latin": "not valid UTF-8 text",
        "picture": "unsupported file type '.png'",
        "plain": "duplicate article_id (already scored from another input)",
        "gone": "unreadable: No such file or directory",
    }


def test_unknown_text_column_and_missing_path_are_errors(tmp_path):
    folder = make_inputs(tmp_path)
    with pytest.raises(InputError, match=r"rows\.csv: no text column 'body'"):
        list(iter_inputs([folder / "rows.csv"], {"text": "body"}))
    with pytest.raises(InputError, match="no such file or folder"):
        list(iter_inputs([tmp_path / "nowhere"]))


def test_score_chunk_rejects_articles_without_sentences(labels, schema, tmp_path):
    model = StanceModel(issues=schema.issues, random_state=0).fit(labels)
    items = list(iter_inputs([make_inputs(tmp_path)]))
    chunk = score_chunk(items, model, OPTIONS)
    assert "no sentences after cleaning" in set(chunk.rejects["reason"])
    assert set(chunk.articles["article_id"]) | set(chunk.rejects["article_id"]) >= {i.article_id for i in items}
    assert len(chunk.articles) == 3 * chunk.articles["article_id"].nunique()
    page = chunk.sentences[chunk.sentences["article_id"] == "sub/page"]["text"].tolist()
    assert page and not any("Home" in s or "Copyright" in s for s in page)
    assert chunk.articles.set_index(["article_id", "issue"]).loc[("j1", "restraint"), "date"] == "2025-01-02"


# ------------------------------------------------------------------ the command

@pytest.fixture
def champion(project) -> Path:
    settings = compose_settings(project, [f"data.labels=[{LABELS_CSV}]", "data.eval_fraction=0.3"])
    log_run(settings, "for-scoring", None)
    return project


def score(cwd: Path, *args: str, wait: bool = True):
    command = [str(BIN / "stance-score"), *args]
    if not wait:
        return subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_score_command_writes_every_output_and_accounts_for_every_input(champion):
    folder = make_inputs(champion)
    done = score(champion, str(folder), "--out", "out", "--workers", "1")
    assert done.returncode == 0, done.stderr[-3000:]
    out = champion / "out"
    for name in ("sentences.parquet", "articles.parquet", "articles.csv", "rejects.csv", "report.html", "heatmap.png", "timeline.png"):
        assert (out / name).stat().st_size > 0, name
    articles, rejects = pd.read_csv(out / "articles.csv"), pd.read_csv(out / "rejects.csv")
    assert list(articles.columns[:10]) == [
        "article_id", "issue", "score", "ci_low", "ci_high", "p_favor", "p_against", "n_sentences", "n_stance_sentences", "evidence"
    ]
    assert articles["score"].between(-1, 1).all() and (articles["ci_low"] <= articles["ci_high"]).all()
    assert set(articles["article_id"]) | set(rejects["article_id"]) == {
        "plain", "notes", "sub/page", "j1", "rows#2", "j3", "c1", "c2", "p1", "empty", "binary", "latin", "picture", "boiler", "gone"
    }
    sentences = pd.read_parquet(out / "sentences.parquet")
    assert {"article_id", "sentence", "text", "restraint.favor"} <= set(sentences.columns)
    assert "alt=\"heatmap.png\"" in (out / "report.html").read_text()
    assert "plain" in done.stdout and "[" in done.stdout  # the closing table with intervals
    assert not list(out.glob(".*tmp*")) and not (out / ".parts").exists()


def test_missing_model_and_bad_column_exit_2_with_one_line(project, champion):
    folder = make_inputs(champion)
    missing = score(project, str(folder), "--model", "models:/nothing@champion", "--out", "o1")
    bad = score(champion, str(folder / "rows.csv"), "--column", "text=body", "--out", "o2")
    for done in (missing, bad):
        assert done.returncode == 2
        assert "Traceback" not in done.stderr
        assert len([l for l in done.stderr.splitlines() if "error:" in l]) == 1
    assert "nothing" in missing.stderr and "no text column 'body'" in bad.stderr


def test_killed_run_resumes_to_the_same_outputs(champion):
    folder = champion / "many"
    folder.mkdir()
    for i in range(300):
        (folder / f"a{i:03d}.txt").write_text(f"Article {i}. " + ARTICLE * (1 + i % 3))
    reference = score(champion, str(folder), "--out", "ref", "--chunk-size", "3", "--workers", "1")
    assert reference.returncode == 0, reference.stderr[-2000:]

    process = score(champion, str(folder), "--out", "run", "--chunk-size", "3", "--workers", "1", wait=False)
    parts = champion / "run" / ".parts"
    deadline = time.monotonic() + 300
    while len(list(parts.glob("*.done"))) < 5:
        assert process.poll() is None, "finished before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done_before = len(list(parts.glob("*.done")))
    assert 5 <= done_before < 100
    assert not (champion / "run" / "articles.csv").exists()
    for part in parts.glob("*.parquet"):
        pd.read_parquet(part)  # every part under its final name is whole
    mixed = score(champion, str(folder), "--out", "run", "--chunk-size", "4")
    assert mixed.returncode == 2 and "unfinished scoring run with other arguments" in mixed.stderr

    resumed = score(champion, str(folder), "--out", "run", "--chunk-size", "3", "--workers", "2")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"resuming: {done_before} chunks already scored" in resumed.stderr
    for name in ("articles.csv", "rejects.csv"):
        assert (champion / "run" / name).read_bytes() == (champion / "ref" / name).read_bytes()
    pd.testing.assert_frame_equal(
        pd.read_parquet(champion / "run" / "sentences.parquet"), pd.read_parquet(champion / "ref" / "sentences.parquet")
    )
    again = score(champion, str(folder), "--out", "run", "--chunk-size", "3", "--workers", "2")
    assert again.returncode == 0 and "already holds this run, complete" in again.stdout
    other = score(champion, str(folder / "a000.txt"), "--out", "run")  # a finished run is replaced
    assert other.returncode == 0
    assert list(pd.read_csv(champion / "run" / "articles.csv")["article_id"].unique()) == ["a000"]
