"""Statistics that verdicts and probes share: correlations and errors weighted by a density, the
common-language effect size (which is also the area under the ROC curve), and bootstrap intervals over
independent units (runs, or clusters of runs such as the architectures of a grid).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np


def _arrays(*values):
    return [np.asarray(v, dtype=float).ravel() for v in values]


def _scaled(x: np.ndarray, top: float | None = None) -> np.ndarray:
    """x / top (default max|x|): squares of s* = q/p, which can reach 1e300, stay finite; the statistics
    below do not change under this scaling."""
    top = np.abs(x).max(initial=0.0) if top is None else top
    return x / top if 0 < top < np.inf else x


def weighted_pearson(a, b, weights) -> float:
    """Pearson's correlation of a and b under the weights (any positive scale); NaN where either is constant."""
    a, b, w = _arrays(a, b, weights)
    if not len(a) or a.min() == a.max() or b.min() == b.max():  # exactly constant (rounding would give a number)
        return math.nan
    a, b, w = _scaled(a), _scaled(b), w / w.sum()
    da, db = a - w @ a, b - w @ b
    var_a, var_b = w @ (da * da), w @ (db * db)
    if var_a <= 0 or var_b <= 0:
        return math.nan
    return float(np.clip(w @ (da * db) / math.sqrt(var_a * var_b), -1.0, 1.0))


def weighted_ranks(x, weights) -> np.ndarray:
    """Each value's mid-rank under the weights: the weight below it plus half the weight of its ties (with
    equal weights, an affine map of the usual average ranks)."""
    x, w = _arrays(x, weights)
    values, group = np.unique(x, return_inverse=True)
    group_weight = np.bincount(group, w, minlength=len(values))
    return (np.cumsum(group_weight) - group_weight / 2)[group]


def weighted_spearman(a, b, weights) -> float:
    """Spearman's rank correlation under the weights: Pearson's of the weighted mid-ranks."""
    return weighted_pearson(weighted_ranks(a, weights), weighted_ranks(b, weights), weights)


def weighted_relative_error(estimate, target, weights, up_to_constant: bool = False) -> float:
    """Weighted RMS of (estimate - target) over the target's weighted standard deviation: 0 is exact, 1 is
    no better than the right constant. `up_to_constant`: the estimate is first shifted by the constant
    that fits best (the weighted mean of target - estimate): an energy is defined up to one."""
    s, t, w = _arrays(estimate, target, weights)
    if up_to_constant:
        s = s + (w / w.sum()) @ (t - s)
    top = np.abs(np.concatenate([s, t])).max(initial=0.0)  # one scale for both: their difference matters
    s, t, w = _scaled(s, top), _scaled(t, top), w / w.sum()
    spread = math.sqrt(w @ (t - w @ t) ** 2)
    return math.sqrt(w @ (s - t) ** 2) / spread if spread > 0 else math.nan


def superiority(a, b) -> float:
    """P(A > B) + P(A = B) / 2 for one draw from each group (the common-language effect size, Mann-Whitney's
    U over n_a n_b; the area under the ROC curve of a score that should be higher on A). 0.5: no difference."""
    a, b = np.asarray(a, dtype=float)[:, None], np.asarray(b, dtype=float)[None, :]
    return float(((a > b) + 0.5 * (a == b)).mean())


def bootstrap_interval(statistic: Callable, groups: tuple, confidence: float, resamples: int, seed: int,
                       clusters: tuple | None = None, paired: bool = False) -> tuple[float, float]:
    """Percentile interval of `statistic(*groups)` over resamples of the independent units of each group.

    A unit is a member (a run) unless `clusters` gives each group's members a label (their architecture):
    runs of one architecture are not independent, so whole clusters are drawn. `paired`: the groups are
    aligned member by member (a[i] is paired with b[i], same label) and one draw of units serves them all.
    """
    rng = np.random.default_rng(seed)
    groups = [np.asarray(g, dtype=float) for g in groups]
    labels = [np.arange(len(g)) for g in groups] if clusters is None else [np.asarray(c) for c in clusters]
    if paired:  # one draw serves every group: one label array (the first group's) for all
        if any(len(g) != len(groups[0]) for g in groups) or any(len(lab) != len(groups[0]) for lab in labels) \
                or any((lab != labels[0]).any() for lab in labels):
            raise ValueError("paired groups must be aligned member by member, with the same cluster labels")
        labels = [labels[0]] * len(groups)
    units = [[np.flatnonzero(lab == u) for u in np.unique(lab)] for lab in labels]

    def draw(members: list) -> np.ndarray:
        return np.concatenate([members[i] for i in rng.integers(len(members), size=len(members))])

    values = []
    for _ in range(resamples):
        if paired:
            index = draw(units[0])
            values.append(statistic(*(g[index] for g in groups)))
        else:
            values.append(statistic(*(g[draw(m)] for g, m in zip(groups, units))))
    tail = (1 - confidence) / 2
    return float(np.quantile(values, tail)), float(np.quantile(values, 1 - tail))


def paired_superiority(a, b) -> float:
    """P(A > B) + P(A = B) / 2 within pairs (a[i] against b[i] only): the share of pairs that A wins."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(((a > b) + 0.5 * (a == b)).mean())
