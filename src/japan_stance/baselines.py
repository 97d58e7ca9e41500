"""Baselines a trained model must beat: the majority class and hand-written keyword rules.

Both follow :class:`~japan_stance.model.StanceModel`'s interface (``fit`` on label rows,
``predict_proba`` giving ``{issue}.{stance}`` columns), so :func:`~japan_stance.evaluate.evaluate`
and :func:`~japan_stance.evaluate.cross_validate` score them the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from japan_stance.model import DEFAULT_STANCES, as_texts
from japan_stance.schema import LabelSchema


def japan_keyword_rules() -> dict[str, dict[str, str]]:
    """A small keyword list per issue and stance, written from ``docs/labelling.md`` (not the data).

    Returns a fresh dict ``{issue: {"favor": regex, "against": regex}}`` each call.
    """
    return {
        "support_us": {
            "favor": r"\b(alliance|stand with (the )?(us|u\.s\.|united states)|host-nation support|"
            r"japan-us|japan-u\.s\.|us-japan|u\.s\.-japan|with washington)\b",
            "against": r"\b(neither (supported|backed|endorsed)|declin\w* to (join|endorse|support)|"
            r"regret\w*|autonomy from washington)\b",
        },
        "restraint": {
            "favor": r"\b(restraint|de-?escalat\w*|dialogue|cease-?fire|peaceful (settlement|resolution)|"
            r"defen[cs]e-oriented|non-combat|non-lethal)\b",
            "against": r"\b(counter-?strike|strike capabilit\w*|deterrence|defen[cs]e (spending|budget)|"
            r"tomahawk|arms exports?|collective self-defen[cs]e|build-?up)\b",
        },
        "international_law": {
            "favor": r"\b(international law|rule of law|rules?-based|un charter|sovereignty|territorial integrity|"
            r"unclos|status quo by force|arbitral|icc|icj)\b",
            "against": r"\b(legal (evaluation|assessment|judgment)|not in a position to (make|judge))\b",
        },
    }


class KeywordModel(BaseEstimator):
    """Predict a stance per issue from keyword rules: favor if only favor's pattern matches,
    against if against's does (the guide's "the expansion decides"), else none.

    Parameters
    ----------
    issues : sequence of str
        Issue axes, in output order.
    rules : mapping
        ``{issue: {"favor": regex, "against": regex}}``, matched case-insensitively.
    stances : sequence of str
        Stance names in the order favor, against, none.
    confidence : float
        Probability given to the predicted stance; the rest is shared by the other two.
    """

    def __init__(self, issues: Sequence[str] = (), rules: Mapping | None = None,
                 stances: Sequence[str] = DEFAULT_STANCES, confidence: float = 0.8):
        self.issues = issues
        self.rules = rules
        self.stances = stances
        self.confidence = confidence

    def fit(self, X=None, y=None) -> KeywordModel:
        """Compile the rules (nothing is learned from ``X``)."""
        self.patterns_ = {
            issue: {role: re.compile(self.rules[issue][role], re.IGNORECASE) for role in ("favor", "against")}
            for issue in self.issues
        }
        return self

    def predict_proba(self, X) -> pd.DataFrame:
        """One-hot-like probabilities of the rule's stance per issue, ``{issue}.{stance}`` columns."""
        check_is_fitted(self, "patterns_")
        texts = as_texts(X)
        rest = (1.0 - self.confidence) / 2
        out = {}
        for issue in self.issues:
            against = np.array([bool(self.patterns_[issue]["against"].search(t)) for t in texts])
            favor = np.array([bool(self.patterns_[issue]["favor"].search(t)) for t in texts]) & ~against
            for stance, hit in zip(self.stances, (favor, against, ~(favor | against)), strict=True):
                out[LabelSchema.proba_column(issue, stance)] = np.where(hit, self.confidence, rest)
        return pd.DataFrame(out, index=range(len(texts)))


class MajorityModel(BaseEstimator):
    """Predict each issue's training stance frequencies for every text (argmax: the majority class).

    Parameters
    ----------
    issues : sequence of str
        Issue axes, in output order.
    stances : sequence of str
        Stance names in the order favor, against, none.
    """

    def __init__(self, issues: Sequence[str] = (), stances: Sequence[str] = DEFAULT_STANCES):
        self.issues = issues
        self.stances = stances

    def fit(self, X: pd.DataFrame, y=None) -> MajorityModel:
        """Count the stances of each issue's rows in ``X`` (``issue``, ``stance``)."""
        self.priors_ = {
            issue: X.loc[X["issue"] == issue, "stance"].value_counts(normalize=True).reindex(self.stances, fill_value=0.0)
            for issue in self.issues
        }
        return self

    def predict_proba(self, X) -> pd.DataFrame:
        """The training frequencies of each issue's stances, repeated for every input."""
        check_is_fitted(self, "priors_")
        n = len(as_texts(X))
        return pd.DataFrame(
            {LabelSchema.proba_column(i, s): np.full(n, self.priors_[i][s]) for i in self.issues for s in self.stances},
            index=range(n),
        )
