"""Label files: every kind of bad input, duplicates, conflicts, the stable split."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from japan_stance.data import (
    LabelError,
    check_trainable,
    content_digest,
    load_labels,
    read_label_file,
    split_labels,
)

from conftest import LABELS_CSV

HEADER = "text,issue,stance,annotator\n"


def write(tmp_path, name, content, mode="w"):
    path = tmp_path / name
    if mode == "wb":
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_fixture_loads_with_every_row_and_counts(schema):
    label_set = load_labels(LABELS_CSV, schema)
    assert len(label_set.frame) == 48
    assert label_set.report.rows_read == 48
    assert label_set.report.counts["support_us"] == {"favor": 4, "against": 2, "none": 10}
    assert label_set.frame.loc[0, "line"] == 2  # the header is line 1


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("missing.csv", "text,issue\nJapan urges restraint.,restraint\n", "missing.csv:1: missing column 'stance'"),
        ("issue.csv", HEADER + "A.,restraint,favor,x\nB.,taiwan,favor,x\n", "issue.csv:3: unknown issue 'taiwan'"),
        ("stance.csv", HEADER + "A.,restraint,pro,x\n", "stance.csv:2: unknown stance 'pro'"),
        ("blank.csv", HEADER + "A.,restraint,favor,x\n   ,restraint,none,x\n", "blank.csv:3: empty text"),
        ("empty.csv", "", "empty.csv: empty file"),
        ("header.csv", HEADER, "header.csv:1: no label rows under the header"),
        ("fields.csv", HEADER + "A.,restraint,favor\n", "fields.csv:2: expected 4 fields, found 3"),
        ("bad.jsonl", '{"text": "A.", "issue": "restraint", "stance": "favor"}\n{oops\n', "bad.jsonl:2: not valid JSON"),
        ("list.jsonl", "[1, 2]\n", "list.jsonl:1: expected a JSON object"),
        ("labels.txt", "x", "labels.txt: unsupported label file type"),
    ],
)
def test_bad_input_is_one_line_naming_file_and_line(tmp_path, schema, name, content, expected):
    path = write(tmp_path, name, content)
    with pytest.raises(LabelError) as err:
        load_labels(path, schema)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{tmp_path}/{expected}")


def test_undecodable_bytes_name_their_line(tmp_path, schema):
    path = write(tmp_path, "latin.csv", (HEADER + "A.,restraint,favor,x\nCaf\xe9 talks.,restraint,none,x\n").encode("latin-1"), "wb")
    with pytest.raises(LabelError, match=r"latin\.csv:3: not valid UTF-8 \(byte 0xe9\)"):
        load_labels(path, schema)


def test_multiline_csv_record_reports_its_first_line(tmp_path, schema):
    path = write(tmp_path, "multi.csv", HEADER + '"A long\nquote.",restraint,favor,x\nB.,nowhere,favor,x\n')
    with pytest.raises(LabelError, match=r"multi\.csv:4: unknown issue 'nowhere'"):
        load_labels(path, schema)


def test_all_problems_are_counted(tmp_path, schema):
    path = write(tmp_path, "many.csv", HEADER + "A.,x,favor,a\nB.,y,favor,a\nC.,z,favor,a\n")
    with pytest.raises(LabelError, match=r"many\.csv:2: unknown issue 'x'.*\(and 2 more problems\)"):
        load_labels(path, schema)


def test_missing_path_and_empty_folder(tmp_path, schema):
    with pytest.raises(LabelError, match="no such file or folder"):
        load_labels(tmp_path / "nope.csv", schema)
    with pytest.raises(LabelError, match="no label files"):
        load_labels(tmp_path, schema)


def test_jsonl_and_parquet_read_like_csv(tmp_path, schema):
    frame = read_label_file(LABELS_CSV)
    records = frame.drop(columns=["file", "line"]).to_dict("records")
    jsonl = write(tmp_path, "labels.jsonl", "\n".join(json.dumps(r) for r in records) + "\n")
    parquet = tmp_path / "labels.parquet"
    pd.DataFrame(records).to_parquet(parquet)
    for path in (jsonl, parquet):
        other = load_labels(path, schema).frame
        assert content_digest(other) == content_digest(frame)
        assert list(other["line"][:2]) == [1, 2]


def test_folder_reads_every_file_and_whitespace_is_normalised(tmp_path, schema):
    write(tmp_path, "a.csv", HEADER + "  Japan   urges\trestraint. ,restraint,favor,x\n")
    (tmp_path / "sub").mkdir()
    write(tmp_path, "sub/b.csv", HEADER + "Tokyo declined.,support_us,against,x\n")
    label_set = load_labels(tmp_path, schema)
    assert sorted(label_set.frame["text"]) == ["Japan urges restraint.", "Tokyo declined."]
    assert len(label_set.report.files) == 2


def test_exact_duplicates_are_kept_once_and_counted(tmp_path, schema):
    path = write(tmp_path, "dup.csv", HEADER + "A.,restraint,favor,x\nA.,restraint,favor,y\nB.,restraint,none,x\n")
    label_set = load_labels(path, schema)
    assert len(label_set.frame) == 2
    assert label_set.report.rows_dropped["exact duplicates"] == 1
    assert list(label_set.report.duplicates["line"]) == [3]
    assert "1 exact duplicate rows" in label_set.report.summary()


CONFLICT = HEADER + "A.,restraint,favor,ann1\nA.,restraint,against,ann2\nB.,restraint,none,ann1\n"


def test_conflict_stops_loading_by_default_naming_both_rows(tmp_path, schema):
    path = write(tmp_path, "conflict.csv", CONFLICT)
    with pytest.raises(LabelError) as err:
        load_labels(path, schema)
    message = str(err.value)
    assert "conflict.csv:2: conflicting labels" in message
    assert "favor (" in message and "conflict.csv:2, ann1" in message
    assert "against (" in message and "conflict.csv:3, ann2" in message


def test_conflict_drop_policy_counts_what_it_drops(tmp_path, schema):
    label_set = load_labels(write(tmp_path, "c.csv", CONFLICT), schema, on_conflict="drop")
    assert list(label_set.frame["text"]) == ["B."]
    assert label_set.report.rows_dropped["conflicts"] == 2
    assert len(label_set.report.conflicts) == 2


def test_conflict_adjudicated_keeps_the_adjudicators_stance(tmp_path, schema):
    path = write(tmp_path, "c.csv", CONFLICT + "A.,restraint,against,adjudicator\n")
    label_set = load_labels(path, schema, on_conflict="adjudicated")
    kept = label_set.frame[label_set.frame["text"] == "A."]
    assert list(kept["stance"]) == ["against"]
    with pytest.raises(LabelError, match="add one row with annotator=adjudicator"):
        load_labels(write(tmp_path, "d.csv", CONFLICT), schema, on_conflict="adjudicated")


def test_split_keeps_articles_together_and_old_rows_in_place(labels):
    train, eval_ = split_labels(labels, 0.3, "salt")
    assert set(train["article_id"]).isdisjoint(eval_["article_id"])
    assert len(train) + len(eval_) == len(labels)
    more = pd.concat(
        [labels, labels.assign(text=labels["text"] + " (new)", article_id=labels["article_id"] + "-new")],
        ignore_index=True,
    )
    train2, eval2 = split_labels(more, 0.3, "salt")
    assert set(eval_["text"]) <= set(eval2["text"])
    assert set(train["text"]) <= set(train2["text"])
    assert len(eval2) > len(eval_)


def test_split_groups_by_text_without_article(labels):
    no_article = labels.assign(article_id="")
    train, eval_ = split_labels(no_article, 0.5, "salt")
    assert set(train["text"]).isdisjoint(eval_["text"])  # the three issue rows of a sentence stay together


def test_check_trainable_names_the_issue(labels, schema):
    with pytest.raises(LabelError, match="issue 'restraint' has only none rows"):
        check_trainable(labels[(labels["issue"] != "restraint") | (labels["stance"] == "none")], schema)
