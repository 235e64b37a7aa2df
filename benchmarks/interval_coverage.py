"""How often does each interval method cover the true effect at the unit counts the verdicts rest on? The
verdicts' effects (energygan.analysis.verdicts, energygan.analysis.grid_search) are simulated with a known
truth, and each method's interval is checked against it:

- `mean`: a mean of per-run correlations (the title question's thresholds): rho = tanh(N(atanh 0.6, 0.16)),
  skewed and bounded like the measured ones (Fisher z's spread over seeds in benchmarks/measured/sweep_2d_ebgan:
  median 0.16);
- `difference`: the difference of two such groups' means (the title question's comparisons);
- `superiority`: P(A > B) between two groups of architectures with `runs` runs each (the grid search): a
  run's score is its architecture's effect plus its own noise at the intra-class correlation `icc`, shifted
  by 0.5 for A, and 20% of runs fail (below every score, as diverged runs count); icc 0.5 and 0.9, and 0.96,
  the one measured in studies/cpu_study (EBGAN's and EBGAN-PT's Inception scores on one architecture, 16
  architectures: a one-way ICC of 0.96, Spearman 0.90);
- `paired`: the share of pairs A wins, pairs nested in architectures (EBGAN-PT against EBGAN).

    python benchmarks/interval_coverage.py          # benchmarks/measured/interval_coverage.csv

Methods: the percentile bootstrap over units (clusters where there are), which the verdicts used before, and
the intervals of energygan.analysis.statistics (column `t`: Student's, Welch's, Obuchowski's clustered
placements, Wilson's at the design effect for the paired share).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from energygan.analysis import statistics as st

OUT = Path(__file__).parent / "measured" / "interval_coverage.csv"
FAIL = 0.2        # share of failed runs in the grid scenarios
CONFIDENCE = 0.95
SHIFT = 0.5       # A's scores above B's, in units of a run's total standard deviation


def correlations(rng, n, centre=0.6, spread=0.16):
    return np.tanh(rng.normal(math.atanh(centre), spread, n))


def true_correlation_mean(centre=0.6, spread=0.16, draws=2_000_000):
    return float(np.tanh(np.random.default_rng(123).normal(math.atanh(centre), spread, draws)).mean())


def clustered_scores(rng, clusters, runs, icc, shift):
    labels = np.repeat(np.arange(clusters), runs)
    scores = rng.normal(0, math.sqrt(icc), clusters)[labels] + rng.normal(0, math.sqrt(1 - icc), len(labels)) + shift
    scores[rng.random(len(labels)) < FAIL] = -math.inf
    return scores, labels


def true_superiority(shift):
    """P(A > B) + P(tie)/2 for one run of each, failures tied at the bottom: a run's score is N(shift, 1)."""
    ok = (1 - FAIL) ** 2 * norm.cdf(shift / math.sqrt(2))
    return ok + FAIL * (1 - FAIL) + 0.5 * FAIL ** 2


def draw(scenario, rng, units, runs, icc) -> tuple:
    """One simulated study: (truth, the statistic and groups to bootstrap, bootstrap options, the module's
    interval)."""
    if scenario == "mean":
        values = correlations(rng, units)
        return TRUE_MEAN, np.mean, (values,), {}, st.mean_interval(values, CONFIDENCE)
    if scenario == "difference":
        a, b = correlations(rng, units), correlations(rng, units, centre=0.4)
        return (TRUE_MEAN - TRUE_MEAN_04, lambda x, y: x.mean() - y.mean(), (a, b), {},
                st.difference_interval(a, b, CONFIDENCE))
    if scenario == "superiority":
        (a, la), (b, lb) = (clustered_scores(rng, units, runs, icc, shift) for shift in (SHIFT, 0.0))
        return (true_superiority(SHIFT), st.superiority, (a, b), {"clusters": (la, lb)},
                st.superiority_interval(a, b, CONFIDENCE, clusters=(la, lb)))
    labels = np.repeat(np.arange(units), runs)  # paired: a and b share the architecture's effect
    shared = rng.normal(0, math.sqrt(icc), units)[labels]
    a = shared + rng.normal(0, math.sqrt(1 - icc), len(labels)) + SHIFT
    b = shared + rng.normal(0, math.sqrt(1 - icc), len(labels))
    return (norm.cdf(SHIFT / math.sqrt(2 * (1 - icc))), st.paired_superiority, (a, b),
            {"clusters": (labels,), "paired": True},
            st.share_interval((a > b) + 0.5 * (a == b), CONFIDENCE, clusters=labels))


def simulate(scenario, units, runs, icc, trials, bootstrap_trials, resamples, seed) -> dict:
    """Coverage and median width of the module's interval over `trials` studies, and of the percentile
    bootstrap over the first `bootstrap_trials` of them (its resampling loop is the cost)."""
    rng = np.random.default_rng(seed)
    hits, widths = {"bootstrap": 0, "t": 0}, {"bootstrap": [], "t": []}
    for trial in range(trials):
        truth, statistic, groups, options, interval = draw(scenario, rng, units, runs, icc)
        found = [("t", interval)]
        if trial < bootstrap_trials:
            found.append(("bootstrap", st.bootstrap_interval(statistic, groups, CONFIDENCE, resamples, trial,
                                                             **options)))
        for name, (low, high) in found:
            hits[name] += bool(low <= truth <= high)
            widths[name].append(high - low)
    counts = {"t": trials, "bootstrap": min(trials, bootstrap_trials)}
    return {f"coverage_{name}": hits[name] / counts[name] for name in hits} | \
        {f"median_width_{name}": float(np.nanmedian(widths[name])) for name in widths} | \
        {f"trials_{name}": counts[name] for name in counts}


TRUE_MEAN = true_correlation_mean()
TRUE_MEAN_04 = true_correlation_mean(centre=0.4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=4000, help="studies per cell for the module's intervals")
    parser.add_argument("--bootstrap-trials", type=int, default=200, help="... and for the percentile bootstrap")
    parser.add_argument("--resamples", type=int, default=500)
    parser.add_argument("--icc", type=float, nargs="+", default=[0.5, 0.9, 0.96])
    args = parser.parse_args()
    rows = []
    for scenario in ("mean", "difference", "superiority", "paired"):
        for units in (4, 8, 16, 32):
            for runs, icc in ([(1, None)] if scenario in ("mean", "difference") else
                              [(runs, icc) for runs in (1, 4) for icc in args.icc]):
                row = {"scenario": scenario, "units": units, "runs_per_unit": runs, "icc": icc, "nominal": CONFIDENCE,
                       **simulate(scenario, units, runs, icc or 0.0, args.trials, args.bootstrap_trials,
                                  args.resamples, units)}
                rows.append(row)
                print(row, flush=True)
    table = pd.DataFrame(rows)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(OUT, index=False)
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
