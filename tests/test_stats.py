"""The shared statistics: safe ratios, F1 from counts, resamples as counts."""

from __future__ import annotations

import numpy as np

from japan_stance.stats import f1_from_counts, ratio, resample_counts


def test_ratio_is_zero_where_the_denominator_is_zero():
    assert list(ratio([1.0, 2.0, 3.0], [2.0, 0.0, 4.0])) == [0.5, 0.0, 0.75]


def test_f1_from_counts_by_hand():
    # class 0: tp 2, predicted 3, gold 5 -> 4/8; class 1: never predicted nor gold -> 0
    assert list(f1_from_counts([2, 0], [3, 0], [5, 0])) == [0.5, 0.0]


def test_resample_counts_draw_n_items_per_resample():
    counts = resample_counts(np.random.default_rng(0), n=7, n_boot=200)
    assert counts.shape == (200, 7)
    assert (counts.sum(axis=1) == 7).all()
    assert counts.min() == 0 and counts.max() >= 3  # some items never drawn, some several times
