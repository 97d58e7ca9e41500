"""Small statistics shared by evaluation, scoring and comparison: safe ratios, F1 from counts,
bootstrap resamples drawn as counts."""

from __future__ import annotations

import numpy as np


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` elementwise, 0 where ``den`` is not positive."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den > 0)


def f1_from_counts(tp, predicted, gold) -> np.ndarray:
    """F1 = 2 TP / (predicted + gold) elementwise, 0 where a class is neither predicted nor gold."""
    return ratio(2 * np.asarray(tp, dtype=float), np.asarray(predicted) + np.asarray(gold))


def resample_counts(rng: np.random.Generator, n: int, n_boot: int) -> np.ndarray:
    """How often each of ``n`` items is drawn in each of ``n_boot`` bootstrap resamples.

    Shape (n_boot, n); a statistic that is a sum over items is then one matrix product
    (``counts @ values``) instead of a gather over every resample.
    """
    idx = rng.integers(0, n, size=(n_boot, n)) + (np.arange(n_boot) * n)[:, None]
    return np.bincount(idx.ravel(), minlength=n_boot * n).reshape(n_boot, n).astype(float)
