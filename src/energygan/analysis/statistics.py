"""Statistics that verdicts and probes share: correlations and errors weighted by a density, the
common-language effect size (which is also the area under the ROC curve), and bootstrap intervals over
independent units (runs, or clusters of runs such as the architectures of a grid).
"""

from __future__ import annotations

import math
from collections.abc import Callable

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


# --- intervals over independent units, chosen by their simulated coverage --------------------------------
# (benchmarks/interval_coverage.py: at 4 to 32 units, where the percentile bootstrap above is too narrow)

def _t_quantile(confidence: float, dof: float) -> float:
    from scipy.stats import t
    return float(t.ppf((1 + confidence) / 2, dof))


def cluster_means(values, clusters=None) -> np.ndarray:
    """The mean of each cluster's values (in the order of their labels), or the values where no labels."""
    values = np.asarray(values, dtype=float)
    if clusters is None:
        return values
    labels, index = np.unique(np.asarray(clusters), return_inverse=True)
    return np.bincount(index, values, len(labels)) / np.bincount(index, minlength=len(labels))


def mean_interval(values, confidence: float, clusters=None) -> tuple[float, float]:
    """Student's t interval of the mean over independent units: the values, or their clusters' means (runs of
    one architecture are not independent). NaN with fewer than two units."""
    units = cluster_means(values, clusters)
    if len(units) < 2:
        return math.nan, math.nan
    half = _t_quantile(confidence, len(units) - 1) * units.std(ddof=1) / math.sqrt(len(units))
    return float(units.mean() - half), float(units.mean() + half)


def _welch(mean: float, var_a: float, var_b: float, n_a: int, n_b: int, confidence: float) -> tuple[float, float]:
    """mean +- t s with s^2 = var_a + var_b (each a variance of a group's mean) and Welch-Satterthwaite's
    degrees of freedom from the groups' n_a - 1 and n_b - 1."""
    total = var_a + var_b
    if total == 0:
        return mean, mean
    dof = total ** 2 / (var_a ** 2 / (n_a - 1) + var_b ** 2 / (n_b - 1))
    half = _t_quantile(confidence, dof) * math.sqrt(total)
    return mean - half, mean + half


def difference_interval(a, b, confidence: float, clusters=(None, None)) -> tuple[float, float]:
    """Welch's interval of mean(A) - mean(B) over each group's independent units (values or clusters' means).
    NaN with fewer than two units on either side."""
    units_a, units_b = cluster_means(a, clusters[0]), cluster_means(b, clusters[1])
    if min(len(units_a), len(units_b)) < 2:
        return math.nan, math.nan
    return _welch(units_a.mean() - units_b.mean(), units_a.var(ddof=1) / len(units_a),
                  units_b.var(ddof=1) / len(units_b), len(units_a), len(units_b), confidence)


def superiority_interval(a, b, confidence: float, clusters=(None, None)) -> tuple[float, float]:
    """Interval of P(A > B) + P(A = B)/2 between two groups whose runs come in clusters (Obuchowski 1997, the
    clustered form of DeLong's variance): each cluster's placement, the sum over its runs of the share of the
    other group's runs it beats, varies about its size times the estimate; the variance of the estimate is
    the sum of the two groups' cluster-level terms, and the interval is Welch's t on them. NaN with fewer
    than two clusters on either side."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    labels = [np.arange(len(v)) if c is None else np.asarray(c) for v, c in zip((a, b), clusters)]
    wins = (a[:, None] > b[None, :]) + 0.5 * (a[:, None] == b[None, :])
    estimate = float(wins.mean())
    parts = []
    for placements, group in ((wins.mean(1), labels[0]), (wins.mean(0), labels[1])):
        names, index = np.unique(group, return_inverse=True)
        if len(names) < 2:
            return math.nan, math.nan
        sums, sizes = np.bincount(index, placements), np.bincount(index)
        spread = len(names) / (len(names) - 1) * ((sums - sizes * estimate) ** 2).sum() / len(group)
        parts.append((spread / len(group), len(names)))
    (var_a, n_a), (var_b, n_b) = parts
    low, high = _welch(estimate, var_a, var_b, n_a, n_b, confidence)
    return max(low, 0.0), min(high, 1.0)


def share_interval(values, confidence: float, clusters=None) -> tuple[float, float]:
    """Wilson's score interval of a share (values in [0, 1]: wins, with ties as halves) whose members come in
    clusters, at the effective sample size: the members over Kish's design effect, the share's variance from
    its clusters' means over that of as many independent members (at most the members themselves). A t
    interval on a share near 0 or 1 undercovers (measured: 0.90 at 16 pairs of runs). NaN with fewer than two
    clusters."""
    from scipy.stats import norm
    values = np.asarray(values, dtype=float)
    units = cluster_means(values, clusters)
    if len(units) < 2:
        return math.nan, math.nan
    share, var, size = values.mean(), units.var(ddof=1) / len(units), len(values)
    # the design effect: the variance from the clusters over the variance of as many independent members
    # (both unbiased: for clusters of one member each, it is 1 and the interval is Wilson's own)
    srs = share * (1 - share) / (size - 1) if size > 1 else 0.0
    n = size if var <= 0 or srs <= 0 else min(size, size * srs / var)
    z = norm.ppf((1 + confidence) / 2)
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)
