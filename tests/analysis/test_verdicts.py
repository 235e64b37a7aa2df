import math

import numpy as np
import pytest

from energygan.analysis import verdicts as v


@pytest.mark.parametrize("low, high, above, enough, expected", [
    (0.6, 0.9, True, True, v.SUPPORTED), (0.1, 0.4, True, True, v.REFUTED), (0.4, 0.7, True, True, v.NOT_ESTABLISHED),
    (0.6, 0.9, False, True, v.REFUTED), (0.1, 0.4, False, True, v.SUPPORTED),
    (0.6, 0.9, True, False, v.NOT_ESTABLISHED),             # too few units or working runs
    (0.5, 0.9, True, True, v.NOT_ESTABLISHED),              # touching the tolerance is not above it
    (math.nan, math.nan, True, True, v.NOT_ESTABLISHED),
])
def test_decide_needs_the_whole_interval_on_one_side_and_enough_evidence(low, high, above, enough, expected):
    assert v.decide(low, high, 0.5, above, enough) == expected


VERDICTS = {"confidence": 0.95, "min_units": 4}


@pytest.mark.parametrize("values, above, expected", [
    ([0.8, 0.9, 0.85, 0.95], True, "supported"), ([0.1, 0.2, 0.15, 0.05], True, "refuted"),
    ([0.1, 0.9, 0.2, 0.8], True, "not established at this scale"),
    ([0.8, 0.9, 0.85], True, "not established at this scale"),          # fewer than min_units
    ([0.01, 0.02, 0.03, 0.02], False, "supported"), ([0.5, 0.6, 0.55, 0.7], False, "refuted"),
])
def test_threshold_verdict(values, above, expected):
    row = v.threshold(values + [np.nan], 0.5 if above else 0.1, above, VERDICTS)  # NaN: a diverged run
    assert row["verdict"] == expected and row["runs"] == str(len(values))
    assert row["mean"] == pytest.approx(np.mean(values)) and row["ci_low"] <= row["mean"] <= row["ci_high"]


def test_difference_verdict_no_better_within_the_margin():
    same = v.difference([0.50, 0.52, 0.51, 0.49], [0.50, 0.51, 0.52, 0.50], 0.1, VERDICTS)
    assert same["verdict"] == "supported" and same["mean"] == pytest.approx(-0.0025)
    better = v.difference([0.9, 0.92, 0.91, 0.89], [0.50, 0.51, 0.52, 0.50], 0.1, VERDICTS)
    assert better["verdict"] == "refuted" and better["ci_low"] > 0.1
    assert v.difference([0.9, 0.92, 0.91, 0.89], [0.50, 0.51, 0.52, 0.50], 0.1, VERDICTS, above=True)["verdict"] == \
        "supported"  # "A is better than B by more than the margin"
    assert v.difference([0.50, 0.52, 0.51, 0.49], [0.50, 0.51, 0.52, 0.50], 0.1, VERDICTS, above=True)["verdict"] == \
        "refuted"
    few = v.difference([0.5, 0.5], [0.5, 0.5, 0.5, 0.5], 0.1, VERDICTS)
    assert few["verdict"] == "not established at this scale" and few["runs"] == "2 vs 4"
