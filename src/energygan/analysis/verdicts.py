"""The verdicts every claims table uses: their names, and the one rule that turns an interval, and the
evidence it rests on, into a verdict.

The rules over runs (one run is one unit): `threshold`, whether a mean lies above or below a tolerance
(Student's t interval), `difference`, whether one group's mean is at most a margin above another's (or,
asked the other way, more than a margin above it; Welch's interval), and `paired_difference`, the same
within pairs of runs that share their generator (a t interval on the pairs' differences). The intervals were
chosen by their simulated coverage at the unit counts in use (benchmarks/interval_coverage.py; the
percentile bootstrap they replace covered 87% for a nominal 95% at 8 runs). The grid search's comparisons
over architectures are in energygan.analysis.grid_search.

A claim is `supported` when the whole interval of its effect lies on the claimed side of its tolerance,
`refuted` when the whole interval lies on the other side, and `not established at this scale` otherwise:
when the interval straddles the tolerance, is undefined, or rests on too few independent units or on too
few runs that clear the quality floor (a comparison of runs that did not train is no verdict).
"""

from __future__ import annotations

import math

import numpy as np

from energygan.analysis.statistics import difference_interval, mean_interval

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
    """The verdict from the interval, and its half-width: the smallest distance from the tolerance at which an
    effect would have been decided at this scale."""
    row.update(ci_low=low, ci_high=high, half_width=(high - low) / 2,
               verdict=decide(low, high, tolerance, above, enough=units >= settings["min_units"]))
    return row


def _empty(runs: str) -> dict:
    return {"runs": runs, "mean": math.nan, "ci_low": math.nan, "ci_high": math.nan, "half_width": math.nan,
            "verdict": NOT_ESTABLISHED}


def _finite(values) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values[np.isfinite(values)]


def threshold(values, threshold: float, above: bool, settings: dict) -> dict:
    """Is the mean of `values` (one per run: the unit) above (or below) `threshold`? Decided only when the
    interval lies wholly on one side and there are at least `min_units` values."""
    values = _finite(values)
    row = _empty(str(len(values)))
    if len(values):
        row["mean"] = float(values.mean())
        _decided(row, *mean_interval(values, settings["confidence"]), threshold, above, len(values), settings)
    return row


def difference(a, b, margin: float, settings: dict, above: bool = False) -> dict:
    """Is mean(a) - mean(b) at most `margin` ("A is no better than B"), or with `above` more than `margin`
    ("A is better than B")? Decided as `threshold`, on Welch's interval of the difference of two groups of
    runs."""
    a, b = _finite(a), _finite(b)
    row = _empty(f"{len(a)} vs {len(b)}")
    if len(a) and len(b):
        row["mean"] = float(a.mean() - b.mean())
        _decided(row, *difference_interval(a, b, settings["confidence"]), margin, above, min(len(a), len(b)), settings)
    return row


def paired_difference(a, b, margin: float, settings: dict, above: bool = False) -> dict:
    """`difference` within pairs (a[i] and b[i] measured on one unit: a fresh D of each loss at one frozen Q),
    on the t interval of the pairs' differences; pairs where either is missing are left out."""
    row = threshold(np.asarray(a, dtype=float) - np.asarray(b, dtype=float), margin, above, settings)
    return {**row, "runs": f"{row['runs']} pairs"}
