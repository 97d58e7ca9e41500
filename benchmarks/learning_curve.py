"""How F_avg grows with the number of labelled sentences (Japan default config).

    .venv/bin/python benchmarks/learning_curve.py [HYDRA_OVERRIDE ...]

For each size (100, 250, 500, 1000, all training sentences) draws ``REPEATS`` random subsets of
the training sentences (each with its rows on every issue), and scores the default model by
5-fold cross-validation grouped by ``source``: the sentences of one web page or article never sit
on both sides of a fold, and each written sentence is its own group. Prints the mean and the
spread (min-max) of the pooled and per-issue F_avg over the subsets.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from japan_stance.config import compose_settings
from japan_stance.evaluate import cross_validate
from japan_stance.model import build_model
from japan_stance.schema import LabelSchema
from japan_stance.train import load_split

ROOT = Path(__file__).resolve().parents[1]
SIZES = (100, 250, 500, 1000, None)
REPEATS = 3


def source_groups(frame: pd.DataFrame) -> pd.Series:
    """One group per page or article (``source``); written or unsourced sentences alone."""
    alone = frame["source"].isin(["", "written"])
    return frame["source"].where(~alone, "text:" + frame["text"])


def subset(frame: pd.DataFrame, n: int | None, seed: int) -> pd.DataFrame:
    """The rows of ``n`` sentences drawn at random (all sentences when ``n`` is None)."""
    texts = pd.unique(frame["text"])
    if n is None or n >= len(texts):
        return frame
    keep = np.random.default_rng(seed).choice(texts, size=n, replace=False)
    return frame[frame["text"].isin(keep)]


def curve(model, train: pd.DataFrame, schema: LabelSchema) -> pd.DataFrame:
    """Cross-validated F_avg (pooled and per issue) per size and repeat."""
    records = []
    for n in SIZES:
        for repeat in range(1 if n is None else REPEATS):
            rows = subset(train, n, seed=repeat)
            m = cross_validate(model, rows, schema, folds=5, seed=repeat, groups=source_groups(rows).to_numpy())
            records.append({"sentences": rows["text"].nunique(), "repeat": repeat, "pooled": m["f_avg"]}
                           | {i: m[f"{i}.f_avg"] for i in schema.issues})
    return pd.DataFrame(records)


def main(overrides: list[str]) -> pd.DataFrame:
    """Compute and print the learning curve table."""
    settings = compose_settings(ROOT, overrides)
    schema = LabelSchema.from_config(settings["data"])
    _, train, _ = load_split(settings["data"], schema)
    raw = curve(build_model(settings["model"], schema, seed=settings["seed"]), train, schema)
    columns = ["pooled", *schema.issues]
    grouped = raw.groupby("sentences")[columns]
    table = grouped.mean().round(3).astype(str) + " (" + grouped.min().round(2).astype(str) + "-" + grouped.max().round(2).astype(str) + ")"
    table.insert(0, "subsets", raw.groupby("sentences").size())
    print(f"model: {settings['model']['name']}; 5-fold CV grouped by source; mean (min-max) over subsets")
    print(table.to_string())
    return table


if __name__ == "__main__":
    main(sys.argv[1:])
