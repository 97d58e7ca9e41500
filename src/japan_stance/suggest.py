"""What to label next: the sentences a model is least sure of, spread and without near-duplicates."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from japan_stance.schema import LabelSchema

_NON_WORD = re.compile(r"\W+")


def uncertainty(proba: np.ndarray) -> np.ndarray:
    """Normalised entropy of each row of probabilities: 0 = certain, 1 = uniform."""
    p = np.clip(proba, 1e-12, 1.0)
    return -(p * np.log(p)).sum(axis=1) / math.log(proba.shape[1])


def candidates(sentences: pd.DataFrame, issues: Sequence[str], stances: Sequence[str]) -> pd.DataFrame:
    """One row per sentence and issue with its uncertainty, most uncertain first."""
    frames = [
        sentences[["article_id", "text"]].assign(
            row=np.arange(len(sentences)), issue=issue,
            uncertainty=uncertainty(sentences[[LabelSchema.proba_column(issue, s) for s in stances]].to_numpy(dtype=float)),
        )
        for issue in issues
    ]
    return pd.concat(frames, ignore_index=True).sort_values("uncertainty", ascending=False, kind="stable")


def select_uncertain(
    sentences: pd.DataFrame, issues: Sequence[str], stances: Sequence[str], n: int,
    vectors=None, max_similarity: float = 0.8,
) -> pd.DataFrame:
    """Pick ``n`` sentences by uncertainty sampling, the issues taking turns.

    In each turn every issue takes its most uncertain acceptable sentence. A sentence is
    picked once; an article gives at most its share of the picks (at least 1); a sentence whose
    normalised text repeats a pick, or whose cosine similarity to a pick (rows of ``vectors``,
    L2-normalised) exceeds ``max_similarity``, is not acceptable.
    """
    cap = max(1, math.ceil(2 * n / max(1, sentences["article_id"].nunique())))
    ranked = candidates(sentences, issues, stances)
    queues = {issue: ranked[ranked["issue"] == issue].itertuples(index=False) for issue in issues}
    chosen, seen_text, per_article, picked_rows = [], set(), {}, []

    def acceptable(cand) -> bool:
        key = _NON_WORD.sub(" ", cand.text.lower()).strip()
        if key in seen_text or per_article.get(cand.article_id, 0) >= cap:
            return False
        if vectors is not None and picked_rows and _max_similarity(vectors, cand.row, picked_rows) > max_similarity:
            return False
        seen_text.add(key)
        per_article[cand.article_id] = per_article.get(cand.article_id, 0) + 1
        picked_rows.append(cand.row)
        return True

    active = list(issues)
    while active and len(chosen) < n:
        for issue in list(active):
            pick = next((cand for cand in queues[issue] if acceptable(cand)), None)
            if pick is None:
                active.remove(issue)
            else:
                chosen.append(pick)
            if len(chosen) == n:
                break
    return pd.DataFrame(chosen, columns=["article_id", "text", "row", "issue", "uncertainty"])


def _max_similarity(vectors, row: int, picked: list[int]) -> float:
    return float((vectors[picked] @ vectors[row].T).max())


def to_label_rows(chosen: pd.DataFrame, issues: Sequence[str], meta: pd.DataFrame | None = None) -> pd.DataFrame:
    """The picks in the labelling format: a row per sentence and issue, ``stance`` left empty."""
    rows = []
    for pick in chosen.itertuples(index=False):
        sentence_id = "suggest-" + hashlib.sha256(pick.text.encode()).hexdigest()[:10]
        for issue in issues:
            rows.append({
                "sentence_id": sentence_id, "article_id": pick.article_id, "text": pick.text, "issue": issue,
                "stance": "", "selected_for": pick.issue, "uncertainty": round(float(pick.uncertainty), 4),
            })
    out = pd.DataFrame(rows, columns=["sentence_id", "article_id", "text", "issue", "stance", "selected_for", "uncertainty"])
    if meta is not None and len(meta):
        out = out.merge(meta, on="article_id", how="left")
    for column in ("source", "date", "topic", "annotator"):
        if column not in out:
            out[column] = ""
    return out
