import math

import numpy as np
import pandas as pd
import pytest

from energygan.analysis import statistics as st


def test_superiority_counts_wins_and_half_ties_over_all_pairs():
    # pairs (a, b): (3,2) win, (3,2) win, (1,2) loss, (1,2) loss, (2,2) tie, (2,2) tie -> (2 + 1) / 6
    assert st.superiority([3, 1, 2], [2, 2]) == pytest.approx(0.5)
    assert st.superiority([3, 2], [2, 1]) == pytest.approx((1 + 1 + 0.5 + 1) / 4)
    assert st.superiority([5], [1, 2, 3]) == 1.0 and st.superiority([0], [1, 2]) == 0.0
    # a diverged run (-inf) loses to every scored run and ties with another diverged run
    assert st.superiority([-math.inf], [0.0]) == 0.0
    assert st.superiority([-math.inf], [-math.inf]) == 0.5


def test_bootstrap_interval_degenerates_where_every_resample_agrees_and_covers_the_estimate():
    assert st.bootstrap_interval(st.superiority, ([5, 6, 7], [1, 2]), 0.95, 200, 0) == (1.0, 1.0)
    rng = np.random.default_rng(1)
    a, b = rng.normal(0.3, 1, 40), rng.normal(0, 1, 40)
    low, high = st.bootstrap_interval(st.superiority, (a, b), 0.9, 1000, 0)
    assert low < st.superiority(a, b) < high
    assert (low, high) == st.bootstrap_interval(st.superiority, (a, b), 0.9, 1000, 0)  # seeded
    # the bootstrap's own loop, written out: the 5% and 95% quantiles of superiority over resamples
    draws = np.random.default_rng(0)
    values = []
    for _ in range(1000):
        ra, rb = draws.choice(a, len(a)), draws.choice(b, len(b))
        values.append(np.mean([(x > y) + 0.5 * (x == y) for x in ra for y in rb]))
    assert low == pytest.approx(np.quantile(values, 0.05)) and high == pytest.approx(np.quantile(values, 0.95))


def test_bootstrap_interval_of_a_one_group_statistic():
    low, high = st.bootstrap_interval(np.mean, ([1.0, 2.0, 3.0, 10.0],), 0.95, 500, 0)
    assert 1.0 <= low < 4.0 < high <= 10.0


def test_weighted_pearson_equals_pearson_of_the_repeated_sample():
    # integer weights = repeating each point that many times
    a, b, w = np.array([1.0, 2.0, 4.0, 7.0]), np.array([2.0, 1.0, 5.0, 6.0]), np.array([1, 3, 2, 1])
    expected = np.corrcoef(np.repeat(a, w), np.repeat(b, w))[0, 1]
    assert st.weighted_pearson(a, b, w) == pytest.approx(expected, abs=1e-12)
    assert st.weighted_pearson(a, b, 10 * w) == pytest.approx(expected, abs=1e-12)  # scale of the weights
    assert st.weighted_pearson(a, 3 * a - 1, w) == pytest.approx(1.0)
    assert math.isnan(st.weighted_pearson(a, np.ones(4), w))  # a constant has no correlation


def test_weighted_spearman_equals_spearman_of_the_repeated_sample_ties_included():
    a, b, w = np.array([1.0, 2.0, 2.0, 7.0, 9.0]), np.array([5.0, 1.0, 3.0, 3.0, 8.0]), np.array([2, 1, 3, 1, 2])
    ra, rb = pd.Series(np.repeat(a, w)).rank(), pd.Series(np.repeat(b, w)).rank()  # average ranks
    assert st.weighted_spearman(a, b, w) == pytest.approx(np.corrcoef(ra, rb)[0, 1], abs=1e-12)
    # any increasing map keeps the rank correlation at 1
    assert st.weighted_spearman(a, np.exp(a), w) == pytest.approx(1.0)


def test_weighted_relative_error_by_hand():
    t, w = np.array([0.0, 2.0]), np.array([1.0, 1.0])  # weighted mean 1, spread 1
    assert st.weighted_relative_error(t, t, w) == 0.0
    assert st.weighted_relative_error([1.0, 1.0], t, w) == pytest.approx(1.0)  # the best constant
    assert st.weighted_relative_error([0.5, 2.5], t, w) == pytest.approx(0.5)
    assert math.isnan(st.weighted_relative_error([1.0, 2.0], [3.0, 3.0], w))


def test_cluster_bootstrap_draws_whole_clusters():
    # two clusters of identical members: every resample is one of {all 0, mixed, all 10}, so the mean's
    # interval is the whole range; resampling members would almost never draw all of one value
    values, labels = [0.0] * 5 + [10.0] * 5, [0] * 5 + [1] * 5
    assert st.bootstrap_interval(np.mean, (values,), 0.9, 400, 0, clusters=(labels,)) == (0.0, 10.0)
    low, high = st.bootstrap_interval(np.mean, (values,), 0.9, 400, 0)
    assert 0.0 < low and high < 10.0


def test_cluster_bootstrap_covers_on_clustered_data_where_the_run_bootstrap_does_not():
    # 8 architectures x 4 runs, architecture effects sd 1, runs within one sd 0.3, true mean 0: runs of one
    # architecture are far from independent (intra-class correlation 0.92, design effect 3.8), so a
    # 90% interval over runs is about half as wide as it should be
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(8), 4)
    covered = {"clusters": 0, "runs": 0}
    trials = 200
    for trial in range(trials):
        values = rng.normal(0, 1, 8)[labels] + rng.normal(0, 0.3, len(labels))
        for name, clusters in (("clusters", (labels,)), ("runs", None)):
            low, high = st.bootstrap_interval(np.mean, (values,), 0.9, 300, trial, clusters=clusters)
            covered[name] += low <= 0 <= high
    clusters, runs = covered["clusters"] / trials, covered["runs"] / trials
    # normal theory: runs 2 Phi(1.645 / 1.95) - 1 = 0.60; clusters about 0.85 (8 clusters: a little short)
    assert 0.78 <= clusters <= 0.95
    assert runs <= 0.70 and clusters - runs >= 0.15


def test_paired_bootstrap_draws_pairs_together():
    a, b = np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.5, 1.5, 2.5, 3.5])  # A wins every pair
    assert st.paired_superiority(a, b) == 1.0
    assert st.superiority(a, b) == pytest.approx(10 / 16)  # unpaired: A's low runs lose to B's high ones
    assert st.bootstrap_interval(st.paired_superiority, (a, b), 0.95, 300, 0, paired=True) == (1.0, 1.0)
    assert st.paired_superiority([1, 2, 3], [1, 3, 0]) == pytest.approx((0.5 + 0 + 1) / 3)
    with pytest.raises(ValueError, match="aligned"):
        st.bootstrap_interval(st.paired_superiority, (a, b[:3]), 0.95, 10, 0, paired=True)
    with pytest.raises(ValueError, match="aligned"):  # one label array for both, the second group shorter
        st.bootstrap_interval(st.paired_superiority, (a, b[:3]), 0.95, 10, 0, clusters=([0, 0, 1, 1],), paired=True)


def test_paired_cluster_bootstrap_draws_the_pairs_of_an_architecture_together():
    # two architectures of two pairs each; A wins both pairs of architecture 0 and loses both of 1: a resample
    # holds 0, 2 or 4 won pairs of 4, never 1 or 3, which pairs drawn one by one give
    a, b = np.array([1.0, 1.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0, 1.0])
    for clusters, expected in ((([0, 0, 1, 1],), {0.0, 0.5, 1.0}), (None, {0.0, 0.25, 0.5, 0.75, 1.0})):
        seen = []

        def statistic(x, y, seen=seen):
            seen.append(st.paired_superiority(x, y))
            return seen[-1]
        st.bootstrap_interval(statistic, (a, b), 0.9, 300, 0, clusters=clusters, paired=True)
        assert set(seen) == expected


def test_the_relative_error_up_to_a_constant_ignores_a_shift_and_only_that():
    target, weights = np.array([0.0, 1.0, 3.0, 4.0]), np.array([1.0, 2.0, 1.0, 0.5])
    shifted = st.weighted_relative_error(target + 5.0, target, weights, up_to_constant=True)
    assert shifted == pytest.approx(0.0, abs=1e-12)
    assert st.weighted_relative_error(target + 5.0, target, weights) > 1
    # 2 x target: off by (target - its weighted mean) after the best shift, so exactly 1
    assert st.weighted_relative_error(2 * target, target, weights, up_to_constant=True) == pytest.approx(1.0)


# --- the verdicts' intervals ---------------------------------------------------------------------------

def test_the_mean_interval_is_students_t_by_hand_and_over_cluster_means():
    # mean 3, sample sd sqrt(14 / 3), t(0.975, 3 dof) = 3.182446305 (the table's value)
    low, high = st.mean_interval([1.0, 2.0, 3.0, 6.0], 0.95)
    half = 3.182446305284263 * math.sqrt(14 / 3) / 2
    assert (low, high) == pytest.approx((3 - half, 3 + half), rel=1e-9)
    # clusters: the units are the means 1.5, 3 and 6 of clusters {1, 2}, {3}, {6}
    assert st.mean_interval([1.0, 2.0, 3.0, 6.0], 0.95, clusters=[0, 0, 1, 2]) == \
        pytest.approx(st.mean_interval([1.5, 3.0, 6.0], 0.95))
    assert all(math.isnan(v) for v in st.mean_interval([1.0], 0.95))


def test_the_difference_interval_is_welchs():
    from scipy.stats import ttest_ind
    a, b = [1.0, 2.0, 3.0, 4.0, 2.5], [2.0, 4.0, 6.0, 7.5]
    expected = ttest_ind(a, b, equal_var=False).confidence_interval(0.9)
    assert st.difference_interval(a, b, 0.9) == pytest.approx((expected.low, expected.high), rel=1e-9)


def obuchowski_by_loops(a, b, la, lb, confidence):
    """Obuchowski's (1997) clustered AUC variance with every sum written as a loop, and Welch's interval."""
    from scipy.stats import t
    psi = lambda x, y: 1.0 if x > y else 0.5 if x == y else 0.0
    theta = sum(psi(x, y) for x in a for y in b) / (len(a) * len(b))
    terms = []
    for values, labels, other, flip in ((a, la, b, False), (b, lb, a, True)):
        clusters = sorted(set(labels))
        s = 0.0
        for c in clusters:
            members = [v for v, lab in zip(values, labels) if lab == c]
            placement = sum((psi(y, v) if flip else psi(v, y)) for v in members for y in other) / len(other)
            s += (placement - len(members) * theta) ** 2
        s *= len(clusters) / ((len(clusters) - 1) * len(values))
        terms.append((s / len(values), len(clusters)))
    (va, na), (vb, nb) = terms
    dof = (va + vb) ** 2 / (va ** 2 / (na - 1) + vb ** 2 / (nb - 1))
    half = t.ppf((1 + confidence) / 2, dof) * math.sqrt(va + vb)
    return max(theta - half, 0.0), min(theta + half, 1.0)


def test_the_superiority_interval_is_obuchowskis_written_as_loops():
    rng = np.random.default_rng(3)
    a, b = np.round(rng.normal(0.4, 1, 12), 1), np.round(rng.normal(0, 1, 9), 1)  # rounded: some ties
    a[0] = -math.inf  # a failed run
    la, lb = np.repeat(np.arange(4), 3), np.repeat(np.arange(3), 3)
    assert st.superiority_interval(a, b, 0.9, (la, lb)) == pytest.approx(obuchowski_by_loops(a, b, la, lb, 0.9))
    # singleton clusters: DeLong's variance
    assert st.superiority_interval(a, b, 0.9) == \
        pytest.approx(obuchowski_by_loops(a, b, list(range(12)), list(range(9)), 0.9))


def test_the_share_interval_is_wilsons_at_the_design_effect():
    # 7 of 10 independent wins: Wilson's 95% interval [0.3968, 0.8922] (the textbook value)
    wins = [1.0] * 7 + [0.0] * 3
    assert st.share_interval(wins, 0.95) == pytest.approx((0.3968, 0.8922), abs=5e-5)
    # two clusters that agree within themselves: the effective size is the clusters' (design effect 5)
    clustered = st.share_interval([1.0] * 5 + [0.0] * 5, 0.95, clusters=[0] * 5 + [1] * 5)
    assert clustered[1] - clustered[0] > st.share_interval([1.0] * 5 + [0.0] * 5, 0.95)[1] - 0.5


# Coverage of each verdict's interval where its truth is known: the measured spread of per-seed correlations
# (benchmarks/measured/sweep_2d_ebgan: Fisher z's standard deviation over seeds, median 0.16, quartiles 0.10 and
# 0.22) and grid-like clustered scores (benchmarks/interval_coverage.py, which also compares the bootstrap).

@pytest.mark.parametrize("units", [8, 16, 32])
def test_t_intervals_of_correlation_means_and_differences_cover_within_two_points(units):
    from scipy.stats import t
    rng, trials = np.random.default_rng(units), 20000
    for centre in (0.3, 0.6, 0.9):
        for spread in (0.1, 0.2):
            truth = np.tanh(np.random.default_rng(0).normal(math.atanh(centre), spread, 2_000_000)).mean()
            x = np.tanh(rng.normal(math.atanh(centre), spread, (trials, units)))
            half = t.ppf(0.975, units - 1) * x.std(1, ddof=1) / math.sqrt(units)
            covered = (np.abs(x.mean(1) - truth) <= half).mean()
            assert abs(covered - 0.95) <= 0.02, (centre, spread, covered)
            # the loop's interval is the module's
            assert st.mean_interval(x[0], 0.95) == pytest.approx((x[0].mean() - half[0], x[0].mean() + half[0]))
    a = np.tanh(rng.normal(math.atanh(0.8), 0.1, (4000, units)))
    b = np.tanh(rng.normal(math.atanh(0.5), 0.2, (4000, units)))
    truth = np.tanh(np.random.default_rng(0).normal(math.atanh(0.8), 0.1, 2_000_000)).mean() - \
        np.tanh(np.random.default_rng(0).normal(math.atanh(0.5), 0.2, 2_000_000)).mean()
    covered = np.mean([low <= truth <= high
                       for low, high in (st.difference_interval(x, y, 0.95) for x, y in zip(a, b))])
    assert abs(covered - 0.95) <= 0.02


def clustered(rng, clusters, runs, icc, shift, fail=0.2):
    labels = np.repeat(np.arange(clusters), runs)
    scores = rng.normal(0, math.sqrt(icc), clusters)[labels] + rng.normal(0, math.sqrt(1 - icc), len(labels)) + shift
    scores[rng.random(len(labels)) < fail] = -math.inf  # failed runs, below every score
    return scores, labels


@pytest.mark.parametrize("units", [8, 16, 32])
def test_the_grid_intervals_cover_within_two_points_at_8_architectures_or_more(units):
    """P(A > B) between two families of architectures (4 runs each, 20% failed, intra-class correlation 0.5 or
    0.9), and the share of pairs A wins within architectures (EBGAN-PT against EBGAN): 2,000 trials each."""
    from scipy.stats import norm
    rng, trials, shift, fail = np.random.default_rng(units), 2000, 0.5, 0.2
    truth = (1 - fail) ** 2 * norm.cdf(shift / math.sqrt(2)) + fail * (1 - fail) + 0.5 * fail ** 2
    for icc in (0.5, 0.9):
        hits = 0
        for _ in range(trials):
            (a, la), (b, lb) = clustered(rng, units, 4, icc, shift), clustered(rng, units, 4, icc, 0.0)
            low, high = st.superiority_interval(a, b, 0.95, (la, lb))
            hits += low <= truth <= high
        assert abs(hits / trials - 0.95) <= 0.02, ("superiority", icc, hits / trials)
        hits, labels = 0, np.repeat(np.arange(units), 4)
        for _ in range(trials):
            shared = rng.normal(0, math.sqrt(icc), units)[labels]
            a = shared + rng.normal(0, math.sqrt(1 - icc), len(labels)) + shift
            b = shared + rng.normal(0, math.sqrt(1 - icc), len(labels))
            low, high = st.share_interval((a > b) + 0.5 * (a == b), 0.95, labels)
            hits += low <= norm.cdf(shift / math.sqrt(2 * (1 - icc))) <= high
        assert abs(hits / trials - 0.95) <= 0.02, ("paired", icc, hits / trials)
