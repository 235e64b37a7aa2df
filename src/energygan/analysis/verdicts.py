"""The verdicts every claims table uses: their names, and the one rule that turns an interval, and the
evidence it rests on, into a verdict.

The rules over runs (one run is one unit): `threshold`, whether a mean lies above or below a tolerance,
and `difference`, whether one group's mean is at most a margin above another's (or, asked the other way,
more than a margin above it), each on a bootstrap interval. The grid search's comparisons over architectures are in energygan.analysis.grid_search.

A claim is `supported` when the whole interval of its effect lies on the claimed side of its tolerance,
`refuted` when the whole interval lies on the other side, and `not established at this scale` otherwise:
when the interval straddles the tolerance, is undefined, or rests on too few independent units or on too
few runs that clear the quality floor (a comparison of runs that did not train is no verdict).
"""

from __future__ import annotations

import math

import numpy as np

from energygan.analysis.statistics import bootstrap_interval

SUPPORTED = "supported"
REFUTED = "refuted"
NOT_ESTABLISHED = "not established at this scale"
NAMES = (SUPPORTED, REFUTED, NOT_ESTABLISHED)


def decide(low: float, high: float, tolerance: float, above: bool, enough: bool = True) -> str:
    """The claim "the effect lies above `tolerance`" (`above`) or "below it", from its interval [low, high];
    never decided without `enough` evidence."""
    if not enough or not (math.isfinite(low) and math.isfinite(high)):
        return NOT_ESTABLISHED
    if low > tolerance:
        return SUPPORTED if above else REFUTED
    if high < tolerance:
        return REFUTED if above else SUPPORTED
    return NOT_ESTABLISHED


# a theory row that no measurement could contradict is stated, not judged
IDENTITY = "identity (holds by construction; not a test)"


def _decided(row: dict, low: float, high: float, tolerance: float, above: bool, units: int, settings: dict) -> dict:
    row.update(ci_low=low, ci_high=high, verdict=decide(low, high, tolerance, above,
                                                                   enough=units >= settings["min_units"]))
    return row


def threshold(values, threshold: float, above: bool, settings: dict) -> dict:
    """Is the mean of `values` (one per run: the unit) above (or below) `threshold`? Decided only when the
    bootstrap interval lies wholly on one side and there are at least `min_units` values."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    row = {"runs": str(len(values)), "mean": math.nan, "ci_low": math.nan, "ci_high": math.nan,
           "verdict": NOT_ESTABLISHED}
    if len(values):
        row["mean"] = float(values.mean())
        low, high = bootstrap_interval(np.mean, (values,), settings["confidence"], settings["bootstrap"], settings["seed"])
        _decided(row, low, high, threshold, above, len(values), settings)
    return row


def difference(a, b, margin: float, settings: dict, above: bool = False) -> dict:
    """Is mean(a) - mean(b) at most `margin` ("A is no better than B"), or with `above` more than `margin`
    ("A is better than B")? Decided as `threshold`, on the interval of the difference over resamples of
    each group's runs."""
    a, b = (np.asarray(v, dtype=float) for v in (a, b))
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    row = {"runs": f"{len(a)} vs {len(b)}", "mean": math.nan, "ci_low": math.nan, "ci_high": math.nan,
           "verdict": NOT_ESTABLISHED}
    if len(a) and len(b):
        row["mean"] = float(a.mean() - b.mean())
        low, high = bootstrap_interval(lambda x, y: x.mean() - y.mean(), (a, b), settings["confidence"],
                                       settings["bootstrap"], settings["seed"])
        _decided(row, low, high, margin, above, min(len(a), len(b)), settings)
    return row
