"""The experiment loop on tiny data: train, add labels, retrain, compare, promote, roll back, suggest."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from japan_stance import tracking
from japan_stance.cli import compare_main, promote_main, suggest_main
from japan_stance.compare import label_changes, paired_bootstrap, runs_table
from japan_stance.data import load_labels
from japan_stance.train import log_run

from conftest import LABELS_CSV, compose_settings

NEW_ROWS = """sentence_id,article_id,text,issue,stance,source,date,topic,annotator
n1,n1,Japan will send minesweepers to join the US-led mission.,support_us,favor,written,2026,middle_east,t
n1,n1,Japan will send minesweepers to join the US-led mission.,restraint,against,written,2026,middle_east,t
n1,n1,Japan will send minesweepers to join the US-led mission.,international_law,none,written,2026,middle_east,t
"""


def test_label_changes_counts_added_relabelled_removed():
    old = pd.DataFrame({"text": ["a", "b", "c"], "issue": ["i"] * 3, "stance": ["favor", "none", "none"]})
    new = pd.DataFrame({"text": ["a", "b", "d"], "issue": ["i"] * 3, "stance": ["favor", "against", "none"]})
    changes = label_changes(old, new)
    assert (changes["added"], changes["changed"], changes["removed"], changes["unchanged"]) == (1, 1, 1, 1)
    assert changes["examples"]["changed"] == [{"text": "b", "issue": "i", "stance_old": "none", "stance_new": "against"}]


def test_paired_bootstrap_sees_a_clear_winner_and_a_tie():
    gold = ["favor"] * 20 + ["against"] * 20 + ["none"] * 20
    better = gold[:]
    worse = ["none"] * 60
    result = paired_bootstrap(gold, better, worse, ["favor", "against", "none"], n_boot=500)
    assert result["diff"] == pytest.approx(1.0) and result["p_better"] == 1.0 and result["ci_low"] > 0.5
    tie = paired_bootstrap(gold, better, better, ["favor", "against", "none"], n_boot=500)
    assert tie["diff"] == 0.0 and tie["p_better"] == 0.0


def test_paired_bootstrap_draws_whole_groups():
    rng = np.random.default_rng(1)
    stances = ["favor", "against", "none"]
    gold, a, b = (list(rng.choice(stances, 40)) for _ in range(3))
    rows = paired_bootstrap(gold, a, b, stances, n_boot=300, seed=5)
    # each row copied into a group of three (a sentence's three issue rows, say): drawn as
    # groups, every figure is what the 40 rows alone give; drawn as rows, the interval narrows
    copies = [[x for x in seq for _ in range(3)] for seq in (gold, a, b)]
    grouped = paired_bootstrap(*copies, stances, n_boot=300, seed=5, groups=np.repeat(np.arange(40), 3))
    assert (grouped["n"], grouped["n_groups"]) == (120, 40)
    for key in ("diff", "ci_low", "ci_high", "p_better"):
        assert grouped[key] == pytest.approx(rows[key])
    as_rows = paired_bootstrap(*copies, stances, n_boot=300, seed=5)
    assert as_rows["ci_high"] - as_rows["ci_low"] < 0.75 * (grouped["ci_high"] - grouped["ci_low"])


def test_runs_table_ranks_search_runs_by_a_cv_metric_with_its_per_issue_columns():
    runs = pd.DataFrame({
        "run_id": ["aaaaaaaa1", "bbbbbbbb2", "cccccccc3"],
        "tags.mlflow.runName": ["model.C=1", "model.C=4", "trained"],
        "params.model.C": ["1", "4", "4"],
        "params.search": ["True", "True", "False"],
        "metrics.cv.f_avg": [0.61, 0.64, 0.62],
        "metrics.cv.restraint.f_avg": [0.5, 0.7, 0.6],
        "tags.data.eval_digest": [None, None, "d1"],
    })
    table = runs_table(runs, ["restraint"], "cv.f_avg", champion_run="cccccccc3", eval_digest="d1")
    assert list(table["run"]) == ["bbbbbbbb", "cccccccc", "aaaaaaaa"]
    assert list(table["cv.restraint.f_avg"]) == [0.7, 0.6, 0.5]
    assert list(table["eval_set"]) == ["none (search)", "current", "none (search)"]
    assert list(table["champion"]) == ["", "*", ""]
    assert "model.C" in table and "search" in table


def test_the_whole_loop(project, schema, monkeypatch, capsys):
    monkeypatch.chdir(project)
    shuffled = project / "shuffled.csv"
    frame = pd.read_csv(LABELS_CSV, dtype=str, keep_default_na=False)
    frame.assign(stance=frame.groupby("issue")["stance"].transform(lambda s: s.sample(frac=1, random_state=3).to_numpy())).to_csv(shuffled, index=False)
    base = [f"data.labels=[{shuffled}]", "data.eval_fraction=0.3"]

    # 1. train the first champion on poor labels
    first = log_run(compose_settings(project, base), "first", None)
    assert first["champion"] and first["changes"] is None

    # 2. new labels arrive: retrain on the good labels plus an extra file, with another C
    extra = project / "new.csv"
    extra.write_text(NEW_ROWS)
    good = [f"data.labels=[{LABELS_CSV}]", f"data.extra=[{extra}]", "data.eval_fraction=0.3", "model.C=10"]
    second = log_run(compose_settings(project, good), "second", None)
    assert not second["champion"]
    assert second["changes"]["added"] == 3 and second["changes"]["changed"] > 0
    uri = compose_settings(project)["tracking"]["uri"]
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    logged = client.download_artifacts(second["run_id"], "label_changes.json", str(project))
    assert json.loads(Path(logged).read_text())["added"] == 3

    # 3. compare: both runs, the param that differs, the champion marked
    current = ["-o", f"data.labels=[{LABELS_CSV}]", "-o", f"data.eval_labels={LABELS_CSV}"]
    assert compare_main([*current, "--format", "json", "--plot", str(project / "runs.png")]) == 0
    table = json.loads(capsys.readouterr().out)
    assert {r["run"] for r in table} == {first["run_id"][:8], second["run_id"][:8]}
    assert {r["model.C"] for r in table} == {"4.0", "10"}
    assert [r["champion"] for r in table if r["run"] == first["run_id"][:8]] == ["*"]
    assert {r["eval_set"] for r in table} == {"OTHER"}  # both were evaluated on their own split
    assert compare_main([*current, "--reeval", "--format", "json"]) == 0
    reevaluated = json.loads(capsys.readouterr().out)
    assert {r["eval_set"] for r in reevaluated} == {"current"}
    assert reevaluated[0]["run"] == second["run_id"][:8]  # sorted by f_avg: the good model first
    assert (project / "runs.png").stat().st_size > 0

    # 4. promote: the poor model never beats the good one; the good one does
    name = "japan-stance"
    assert promote_main([first["run_id"], *current]) == 0
    assert "already the champion" in capsys.readouterr().out
    assert promote_main([second["run_id"][:8], *current]) == 0
    assert "promoted:" in capsys.readouterr().out
    assert tracking.model_aliases(client, name) == {"champion": "2", "previous": "1"}
    assert float(client.get_model_version(name, "2").tags["promotion.p_better"]) >= 0.95

    third = log_run(compose_settings(project, base), "third", None)  # poor labels again
    assert promote_main([third["run_id"], *current]) == 0
    assert "not promoted" in capsys.readouterr().out
    assert tracking.model_aliases(client, name)["champion"] == "2"
    assert promote_main([third["run_id"], *current, "--force"]) == 2
    assert promote_main([third["run_id"], *current, "--force", "--reason", "analyst review"]) == 0
    aliases = tracking.model_aliases(client, name)
    assert aliases == {"champion": aliases["champion"], "previous": "2"} and aliases["champion"] not in ("1", "2")
    tags = client.get_model_version(name, aliases["champion"]).tags
    assert tags["promotion.forced"] == "true" and tags["promotion.reason"] == "analyst review"

    # 5. roll back in one command
    assert promote_main(["--rollback", *current]) == 0
    assert tracking.model_aliases(client, name)["champion"] == "2"

    # 6. suggest what to label next, then label it and load it back
    articles = project / "unlabelled"
    articles.mkdir()
    for i, text in enumerate(["Japan urges restraint. Tokyo may join the US operation. Weather was fine.",
                              "The ministry said Japan will consider its options. Japan urges restraint.",
                              "Officials declined to comment. Analysts expect more talks."]):
        (articles / f"a{i}.txt").write_text(text)
    out = project / "suggested.csv"
    assert suggest_main([str(articles), "--n", "4", "--out", str(out)]) == 0
    suggested = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert suggested["text"].nunique() == 4 and len(suggested) == 12
    assert (suggested["stance"] == "").all()
    assert suggested["text"].str.lower().nunique() == 4  # "Japan urges restraint." only once
    suggested.assign(stance="none", annotator="me").to_csv(project / "labelled.csv", index=False)
    assert len(load_labels(project / "labelled.csv", schema).frame) == 12  # labelled, it loads as is


def test_select_uncertain_takes_turns_spreads_articles_and_skips_near_duplicates():
    from japan_stance.suggest import select_uncertain

    rows = []
    for article, texts in {"a": ["x one", "x one!", "x two", "x three"], "b": ["y one", "y two"], "c": ["z one"]}.items():
        rows += [(article, t) for t in texts]
    sentences = pd.DataFrame(rows, columns=["article_id", "text"])
    n = len(sentences)
    # issue i1: sentence k is more uncertain the lower k is; issue i2: the reverse
    u = np.linspace(0.34, 0.98, n)
    for issue, first in (("i1", u[::-1]), ("i2", u)):
        sentences[f"{issue}.favor"] = first
        sentences[f"{issue}.against"] = (1 - first) / 2
        sentences[f"{issue}.none"] = (1 - first) / 2
    picked = select_uncertain(sentences, ["i1", "i2"], ["favor", "against", "none"], n=4)
    assert list(picked["issue"]) == ["i1", "i2", "i1", "i2"]
    assert "x one!" not in set(picked["text"])  # same words as "x one"
    assert picked["article_id"].value_counts().max() <= 2  # ceil(2 * 4 / 3 articles) = 3 at most
    assert picked["text"].is_unique
