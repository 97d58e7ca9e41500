"""The pyfunc logged with every trained model ("models from code": MLflow runs this file on load).

Self-contained on purpose: it needs only scikit-learn, pandas, numpy and joblib, not the
japan_stance package, so a logged model loads in any environment (a server, Spark workers)
and never shadows the installed package with an older copy. The artifact it reads holds
plain scikit-learn objects: the shared vectoriser and one classifier per issue.
``tests/test_training.py`` checks that it gives exactly StanceModel's probabilities.
"""

import joblib
import numpy as np
import pandas as pd
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel


class StancePyFunc(PythonModel):
    """Input: a DataFrame with a ``text`` column (or a list of strings). Output: one row per input,
    a column per issue with the predicted stance, then ``{issue}.{stance}`` probabilities."""

    def load_context(self, context):
        self.parts = joblib.load(context.artifacts["stance_model"])

    def predict_proba(self, texts) -> pd.DataFrame:
        parts = self.parts
        features = parts["vectorizer"].transform(texts)
        out = {}
        for issue in parts["issues"]:
            clf = parts["classifiers"][issue]
            proba = clf.predict_proba(features)
            for stance in parts["stances"]:
                hit = np.flatnonzero(clf.classes_ == stance)
                out[f"{issue}.{stance}"] = proba[:, hit[0]] if hit.size else 0.0
        return pd.DataFrame(out, index=range(len(texts)))

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        column = model_input["text"] if isinstance(model_input, pd.DataFrame) else model_input
        texts = ["" if t is None else str(t) for t in column]
        proba = self.predict_proba(texts)
        stances = np.asarray(self.parts["stances"])
        predicted = {
            issue: stances[proba[[f"{issue}.{s}" for s in stances]].to_numpy().argmax(axis=1)]
            for issue in self.parts["issues"]
        }
        return pd.concat([pd.DataFrame(predicted, index=proba.index), proba], axis=1)


set_model(StancePyFunc())
