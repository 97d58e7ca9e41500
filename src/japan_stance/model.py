"""StanceModel: one shared TF-IDF vectoriser, one logistic regression per issue.

Vectorising is nearly all of the prediction cost, so the vectoriser is fit once on
all labelled text (unsupervised) and shared by the per-issue classifiers. The classifiers
are fit per issue, or (``share_weights``) as one model whose weights every issue shares plus
each issue's own, then split into exact per-issue classifiers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import FeatureUnion
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight
from sklearn.utils.validation import check_is_fitted

from japan_stance.data import split_groups
from japan_stance.schema import LabelSchema

DEFAULT_STANCES = ("favor", "against", "none")
CALIBRATION_METHODS = (None, "sigmoid", "isotonic")


def as_texts(X) -> list[str]:
    """The texts of ``X``: a DataFrame's ``text`` column, a Series, or a sequence of strings.

    A DataFrame is never iterated directly: that yields its column names (the silent
    one-row bug of a bare vectoriser behind pyfunc).
    """
    if isinstance(X, pd.DataFrame):
        if "text" not in X.columns:
            raise ValueError(f"input has no 'text' column (columns: {', '.join(map(str, X.columns))})")
        X = X["text"]
    if isinstance(X, str):
        raise ValueError("expected a sequence of texts, got a single string")
    return ["" if t is None else str(t) for t in X]


def augment_features(features: sp.spmatrix, issue_index: np.ndarray, n_issues: int) -> sp.csr_matrix:
    """Daumé III's feature augmentation: each row becomes ``[x, x in its issue's block, its issue's
    one-hot]``, so one linear model learns shared weights, per-issue weights and per-issue biases.

    ``issue_index`` gives each row's issue as 0 .. ``n_issues`` - 1. The result has
    ``(n_issues + 1) * d + n_issues`` columns for ``d`` input features.
    """
    n = features.shape[0]
    blocks = [sp.diags((issue_index == k).astype(features.dtype)) @ features for k in range(n_issues)]
    one_hot = sp.csr_matrix((np.ones(n, dtype=features.dtype), (np.arange(n), issue_index)), shape=(n, n_issues))
    return sp.hstack([features, *blocks, one_hot], format="csr")


def split_shared_classifier(shared: LogisticRegression, n_features: int, n_issues: int) -> list[LogisticRegression]:
    """Per-issue classifiers equal to ``shared`` (fit on :func:`augment_features`) on that issue's
    rows: weights = shared + the issue's own, intercept = shared + the issue's bias."""
    d, coef = n_features, shared.coef_
    classifiers = []
    for k in range(n_issues):
        clf = LogisticRegression(C=shared.C, max_iter=shared.max_iter, random_state=shared.random_state)
        clf.classes_ = shared.classes_
        clf.coef_ = coef[:, :d] + coef[:, (k + 1) * d:(k + 2) * d]
        clf.intercept_ = shared.intercept_ + coef[:, (n_issues + 1) * d + k]
        clf.n_features_in_ = d
        clf.n_iter_ = shared.n_iter_
        classifiers.append(clf)
    return classifiers


def calibration_folds(y: np.ndarray, groups: np.ndarray, max_folds: int = 5, seed: int | None = None) -> list:
    """Inner folds for calibrating one issue's classifier: stratified by stance and grouped,
    so no article (``groups``) sits on both sides; as many folds as the rarest stance's groups
    allow, between 2 and ``max_folds``. Returns (train, test) index pairs."""
    groups_per_stance = pd.Series(groups).groupby(np.asarray(y)).nunique()
    n = max(2, min(max_folds, int(groups_per_stance.min())))
    splitter = StratifiedGroupKFold(n_splits=n, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y, groups))


class StanceModel(BaseEstimator):
    """Per-issue stance classifier over a shared TF-IDF vectoriser.

    Parameters
    ----------
    issues : sequence of str
        Issue axes, in output order.
    stances : sequence of str
        Stance names in the order favor, against, none.
    word_ngram_range : tuple of int
        Word n-gram range of the TF-IDF vectoriser.
    char_ngram_range : tuple of int or None
        If given, character n-grams are added through a FeatureUnion.
    char_analyzer : {"char_wb", "char"}
        Character n-grams within word boundaries, or across them.
    min_df, max_df, sublinear_tf, max_features
        Passed to each TfidfVectorizer. A float ``max_df`` below 1 also drops markers
        present in nearly every text (SemEval's ``#SemST``).
    C, class_weight, max_iter
        Passed to each LogisticRegression.
    none_weight : float
        Multiplies the ``none`` class weight (after ``class_weight``): below 1 shifts the
        decision away from ``none``, which F_avg does not score.
    calibration : {None, "sigmoid", "isotonic"}
        Wrap each logistic regression in ``CalibratedClassifierCV`` with this method, over
        inner folds grouped by article (:func:`calibration_folds`).
    share_weights : bool
        Fit one logistic regression over all issues' rows, with weights shared by every issue
        plus each issue's own (feature augmentation, Daumé III 2007: :func:`augment_features`),
        so what marks a stance on one issue helps the others. It is then split into one exact
        classifier per issue (:func:`split_shared_classifier`), so prediction and the logged
        model are unchanged. Not combined with ``calibration``.
    random_state : int or None
        Seed of the logistic regressions.
    """

    def __init__(
        self,
        issues: Sequence[str] = (),
        stances: Sequence[str] = DEFAULT_STANCES,
        word_ngram_range=(1, 2),
        char_ngram_range=None,
        char_analyzer="char_wb",
        min_df=1,
        max_df=1.0,
        sublinear_tf=True,
        max_features=None,
        C=1.0,
        class_weight=None,
        max_iter=1000,
        none_weight=1.0,
        calibration=None,
        share_weights=False,
        random_state=None,
    ):
        self.issues = issues
        self.stances = stances
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.char_analyzer = char_analyzer
        self.min_df = min_df
        self.max_df = max_df
        self.sublinear_tf = sublinear_tf
        self.max_features = max_features
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.none_weight = none_weight
        self.calibration = calibration
        self.share_weights = share_weights
        self.random_state = random_state

    def _make_vectorizer(self):
        common = dict(
            min_df=self.min_df,
            max_df=self.max_df,
            sublinear_tf=self.sublinear_tf,
            max_features=self.max_features,
            strip_accents="unicode",
            dtype=np.float32,
        )
        word = TfidfVectorizer(ngram_range=tuple(self.word_ngram_range), **common)
        if not self.char_ngram_range:
            return word
        char = TfidfVectorizer(analyzer=self.char_analyzer, ngram_range=tuple(self.char_ngram_range), **common)
        return FeatureUnion([("word", word), ("char", char)])

    def _class_weights(self, y) -> dict | None:
        """Per-stance weights of one issue's rows: ``class_weight``, then ``none`` times ``none_weight``."""
        none = self.stances[2]
        if self.none_weight == 1.0 or none not in set(y):
            return self.class_weight
        classes = np.unique(y)
        if isinstance(self.class_weight, Mapping):
            weights = {c: float(self.class_weight.get(c, 1.0)) for c in classes}
        else:
            weights = dict(zip(classes, compute_class_weight(self.class_weight, classes=classes, y=y), strict=True))
        return weights | {none: weights[none] * self.none_weight}

    def _make_classifier(self, y, groups):
        """An unfitted classifier for one issue's stances ``y``, calibrated if configured
        (inner folds from :func:`calibration_folds` over the rows' ``groups``)."""
        if self.calibration not in CALIBRATION_METHODS:
            raise ValueError(f"calibration must be one of {CALIBRATION_METHODS}, got {self.calibration!r}")
        lr = LogisticRegression(
            C=self.C,
            class_weight=self._class_weights(np.asarray(y)),
            max_iter=self.max_iter,
            random_state=self.random_state,
        )
        if self.calibration is None:
            return lr
        folds = calibration_folds(np.asarray(y), np.asarray(groups), seed=self.random_state)
        return CalibratedClassifierCV(lr, method=self.calibration, cv=folds)

    def fit(self, X: pd.DataFrame, y=None) -> StanceModel:
        """Fit the shared vectoriser and one logistic regression per issue.

        Parameters
        ----------
        X : DataFrame
            Validated label rows with ``text``, ``issue`` and (unless ``y`` is given) ``stance``.
        y : array-like, optional
            Stances, if not in ``X``.
        """
        frame = X.assign(stance=np.asarray(y)) if y is not None else X
        unknown = set(frame["issue"]) - set(self.issues)
        if unknown:
            raise ValueError(f"rows with issues outside the model: {sorted(unknown)}")
        for issue in self.issues:
            rows = frame[frame["issue"] == issue]
            if rows["stance"].nunique() < 2:
                raise ValueError(f"issue '{issue}' needs rows of at least two stances to train, has {len(rows)} rows")
        if self.share_weights and self.calibration is not None:
            raise ValueError("share_weights cannot be combined with calibration")
        self.vectorizer_ = self._make_vectorizer().fit(pd.unique(frame["text"]))
        self.classifiers_ = self._fit_shared(frame) if self.share_weights else self._fit_per_issue(frame)
        return self

    def _fit_per_issue(self, frame: pd.DataFrame) -> dict:
        """One classifier per issue, each fit on its issue's rows alone."""
        classifiers = {}
        for issue in self.issues:
            rows = frame[frame["issue"] == issue]
            features = self.vectorizer_.transform(rows["text"])
            classifier = self._make_classifier(rows["stance"], split_groups(rows))
            classifiers[issue] = classifier.fit(features, rows["stance"])
        return classifiers

    def _fit_shared(self, frame: pd.DataFrame) -> dict:
        """One logistic regression over every issue's rows (augmented features), split per issue.

        Each issue's rows are weighted as its own classifier would weight them
        (``class_weight``, then ``none_weight``).
        """
        issue_index = frame["issue"].map({issue: k for k, issue in enumerate(self.issues)}).to_numpy()
        stances = frame["stance"].to_numpy()
        weights = np.ones(len(frame))
        for k in range(len(self.issues)):
            rows = issue_index == k
            weights[rows] = compute_sample_weight(self._class_weights(stances[rows]), stances[rows])
        features = self.vectorizer_.transform(frame["text"])
        shared = LogisticRegression(C=self.C, max_iter=self.max_iter, random_state=self.random_state)
        shared.fit(augment_features(features, issue_index, len(self.issues)), stances, sample_weight=weights)
        split = split_shared_classifier(shared, features.shape[1], len(self.issues))
        return dict(zip(self.issues, split, strict=True))

    def predict_proba(self, X) -> pd.DataFrame:
        """Probabilities per issue and stance: one row per input, columns ``{issue}.{stance}``."""
        check_is_fitted(self, "classifiers_")
        texts = as_texts(X)
        features = self.vectorizer_.transform(texts)
        out = {}
        for issue in self.issues:
            clf = self.classifiers_[issue]
            proba = clf.predict_proba(features)
            for stance in self.stances:
                hit = np.flatnonzero(clf.classes_ == stance)
                out[LabelSchema.proba_column(issue, stance)] = proba[:, hit[0]] if hit.size else 0.0
        return pd.DataFrame(out, index=range(len(texts)))

    def predict(self, X) -> pd.DataFrame:
        """Most likely stance per issue: one row per input, a column per issue."""
        return self.stances_from_proba(self.predict_proba(X))

    def stances_from_proba(self, proba: pd.DataFrame) -> pd.DataFrame:
        """Turn ``{issue}.{stance}`` probabilities into the most likely stance per issue."""
        stances = np.asarray(self.stances)
        return pd.DataFrame(
            {
                issue: stances[
                    proba[[LabelSchema.proba_column(issue, s) for s in self.stances]].to_numpy().argmax(axis=1)
                ]
                for issue in self.issues
            },
            index=proba.index,
        )

    def fitted_parts(self) -> dict:
        """The fitted scikit-learn parts, as the logged pyfunc artifact stores them."""
        check_is_fitted(self, "classifiers_")
        return {
            "vectorizer": self.vectorizer_, "classifiers": dict(self.classifiers_),
            "issues": list(self.issues), "stances": list(self.stances),
        }

    @classmethod
    def from_fitted_parts(cls, parts: Mapping) -> StanceModel:
        """A fitted model for prediction, rebuilt from :meth:`fitted_parts` (hyperparameters are not kept)."""
        model = cls(issues=tuple(parts["issues"]), stances=tuple(parts["stances"]))
        model.vectorizer_ = parts["vectorizer"]
        model.classifiers_ = dict(parts["classifiers"])
        return model

    def feature_names(self) -> np.ndarray:
        """Names of the shared vectoriser's features (``char__`` / ``word__`` prefixed when joined)."""
        check_is_fitted(self, "vectorizer_")
        return self.vectorizer_.get_feature_names_out()

    def explain(self, issue: str, k: int = 10) -> dict[str, list[tuple[str, float]]]:
        """Top ``k`` n-grams pushing towards each stance of ``issue``, with their weights."""
        check_is_fitted(self, "classifiers_")
        clf = self.classifiers_[issue]
        names = self.feature_names()
        coef = _coefficients(clf)
        if coef.shape[0] == 1:  # binary: one row, positive towards classes_[1]
            coef = np.vstack([-coef[0], coef[0]])
        top = {}
        for row, stance in zip(coef, clf.classes_, strict=True):
            order = np.argsort(row)[::-1][:k]
            top[str(stance)] = [(str(names[j]), float(row[j])) for j in order]
        return top


def _coefficients(clf) -> np.ndarray:
    """A linear classifier's coefficients; for a calibrated one, the mean over its folds' models."""
    if isinstance(clf, CalibratedClassifierCV):
        return np.mean([c.estimator.coef_ for c in clf.calibrated_classifiers_], axis=0)
    return clf.coef_


def build_model(model_cfg: Mapping, schema: LabelSchema, seed: int | None = None) -> StanceModel:
    """Make an unfitted :class:`StanceModel` from a plain model config."""
    char = model_cfg.get("char_ngram_range")
    return StanceModel(
        issues=tuple(schema.issues),
        stances=tuple(schema.stances),
        word_ngram_range=tuple(model_cfg["word_ngram_range"]),
        char_ngram_range=tuple(char) if char else None,
        char_analyzer=model_cfg.get("char_analyzer", "char_wb"),
        min_df=model_cfg["min_df"],
        max_df=model_cfg["max_df"],
        sublinear_tf=model_cfg["sublinear_tf"],
        max_features=model_cfg.get("max_features"),
        C=model_cfg["C"],
        class_weight=model_cfg.get("class_weight"),
        max_iter=model_cfg["max_iter"],
        none_weight=model_cfg.get("none_weight", 1.0),
        calibration=model_cfg.get("calibration"),
        share_weights=model_cfg.get("share_weights", False),
        random_state=seed,
    )
