"""The bundled label set, read through the package's own loader: size, balance, provenance."""

from __future__ import annotations

import pandas as pd
import pytest

from japan_stance.data import annotator_agreement, load_labels, read_label_rows, source_domain

from conftest import REPO, compose_settings


@pytest.fixture(scope="module")
def bundled():
    settings = compose_settings(REPO)
    data = settings["data"]
    from japan_stance.schema import LabelSchema

    schema = LabelSchema.from_config(data)
    return schema, load_labels(data["labels"], schema, data["on_conflict"], data["adjudicator"])


def test_size_balance_and_every_sentence_on_every_issue(bundled):
    schema, label_set = bundled
    frame = label_set.frame
    per_sentence = frame.groupby("text")["issue"].nunique()
    assert len(per_sentence) >= 1000
    assert (per_sentence == len(schema.issues)).all()
    for issue, counts in label_set.report.counts.items():
        assert counts["favor"] >= 150, issue
        assert counts["against"] >= 60, issue
        assert counts["none"] / sum(counts.values()) >= 0.30, issue


def test_every_row_says_where_it_came_from(bundled):
    _, label_set = bundled
    frame = label_set.frame
    for column in ("source", "topic", "annotator"):
        assert (frame[column] != "").all(), column
    kinds = frame["source"].map(lambda s: "web" if "://" in s else s.split("/")[0])
    assert set(kinds) == {"web", "seeds", "written"}
    web = frame[kinds == "web"]
    assert web["source"].nunique() >= 80
    assert web["source"].map(source_domain).nunique() >= 40
    years = pd.to_numeric(web["date"].str[:4], errors="coerce").dropna()
    assert years.min() <= 2004 and years.max() >= 2026
    assert (web["date"] != "").mean() > 0.95


def test_seed_articles_are_labelled_sentence_by_sentence(bundled):
    _, label_set = bundled
    seeds = label_set.frame[label_set.frame["source"].str.startswith("seeds/")]
    assert seeds["article_id"].nunique() == 5
    assert seeds["text"].nunique() >= 150


def test_double_annotation_covers_250_sentences_with_substantial_agreement(bundled):
    schema, _ = bundled
    rows = read_label_rows([REPO / "data" / "labels"])
    agreement = annotator_agreement(rows, "labeller-2nd").set_index("issue")
    assert set(agreement.index) == set(schema.issues)
    assert (agreement["pairs"] >= 250).all()
    assert (agreement["kappa"] > 0.6).all()
