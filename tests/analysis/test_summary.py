import math

import pandas as pd
import pytest

from energygan.analysis import scorers, summary


def runs(scores, statuses=None):
    """A run works when its Frechet distance is below 2 (here); the second run's discriminator is dead."""
    n = len(scores)
    return pd.DataFrame({"experiment": "e", "dataset": "mnist", "run_id": [f"r{i}" for i in range(n)],
                         "loss": ["lsif"] * n, "f": ["identity"] * n, "seed": range(n), "lr": 1e-3,
                         "status": statuses or ["ok"] * n, "frechet_distance": scores,
                         **{k: 1.0 for k in scorers.get("classifier").scores if k != "frechet_distance"},
                         "works": [s < 2 for s in scores], "d_dead": [i == 1 for i in range(n)]})


def test_aggregate_gives_the_mean_and_a_student_t_interval_over_seeds():
    table = summary.aggregate(runs([1.0, 2.0, 6.0]), confidence=0.95)
    row = table.iloc[0]
    # mean 3, sd sqrt(7), t_{0.975, 2} = 4.302653
    half = 4.302652729911275 * math.sqrt(7) / math.sqrt(3)
    assert row["frechet_distance"] == pytest.approx(3.0)
    assert row["frechet_distance_ci_low"] == pytest.approx(3 - half, rel=1e-9)
    assert row["frechet_distance_ci_high"] == pytest.approx(3 + half, rel=1e-9)
    assert row["runs"] == 3 and row["diverged"] == 0
    assert row["working"] == 1 and row["dead_d"] == 1  # only FD 1 works; the second run's D is dead


def test_diverged_runs_are_counted_not_averaged():
    table = summary.aggregate(runs([1.0, float("nan"), 3.0], ["ok", "diverged", "ok"]), confidence=0.9)
    row = table.iloc[0]
    assert row["runs"] == 3 and row["diverged"] == 1 and row["frechet_distance"] == pytest.approx(2.0)
    single = summary.aggregate(runs([1.0, float("nan")], ["ok", "diverged"]), confidence=0.9).iloc[0]
    assert single["frechet_distance"] == 1.0 and math.isnan(single["frechet_distance_ci_low"])


def test_settings_are_told_apart_by_the_columns_that_vary():
    table = runs([1.0, 2.0, 3.0, 4.0]).assign(lr=[1e-3, 1e-3, 1e-2, 1e-2])
    assert summary.group_columns(table) == ["loss", "f", "lr"]
    aggregated = summary.aggregate(table, 0.95)
    assert list(aggregated["lr"]) == [1e-3, 1e-2] and list(aggregated["frechet_distance"]) == [1.5, 3.5]
    best, worst = summary.ranking(aggregated, "mnist")
    assert best["lr"] == 1e-3 and worst["lr"] == 1e-2  # lower Frechet distance is better


def test_reference_rows_come_first():
    aggregated = summary.aggregate(runs([1.0, 2.0]), 0.95)
    reference = pd.DataFrame([{"reference": "test set against itself", "samples": 10, "frechet_distance": 0.0}])
    table = summary.with_reference(aggregated, reference)
    assert table.iloc[0]["loss"] == "test set against itself" and table.iloc[0]["frechet_distance"] == 0.0
    assert table.iloc[1]["loss"] == "lsif"
