import numpy as np
import pandas as pd
import pytest

from energygan import title_question as tq

VERDICTS = {"confidence": 0.95, "bootstrap": 500, "seed": 0, "min_runs": 4}
SPEC = {"statistic": "spearman", "groups": {"logistic GAN": {"loss_name": "logistic"}, "EBGAN": {"loss_name": "hinge"}},
        "tolerances": {"tracks": 0.5, "no_better": 0.1, "flat": 0.1, "dead_below": 0.001}, "verdicts": VERDICTS,
        "plane": {"extent": 3.0, "points": 11}, "kde_samples": 100, "samples": 50}


def probe_rows(loss_name, dataset, values: dict, runs=4, fraction=1.0):
    rows = []
    for seed in range(runs):
        rows.append({"experiment": f"{dataset}_x", "run_id": f"{loss_name}{seed}", "dataset": dataset,
                     "discriminator": "mlp", "loss_name": loss_name, "loss": loss_name, "f": "identity", "pt_weight": 0.0,
                     "seed": seed, "status": "ok", "step": int(100 * fraction), "fraction": fraction,
                     "works": seed % 2 == 0, "d_dead": seed == 3,
                     **{k: v + 0.01 * seed for k, v in values.items()}})
    return rows


@pytest.mark.parametrize("values, above, expected", [
    ([0.8, 0.9, 0.85, 0.95], True, "supported"), ([0.1, 0.2, 0.15, 0.05], True, "refuted"),
    ([0.1, 0.9, 0.2, 0.8], True, "not established at this scale"),
    ([0.8, 0.9, 0.85], True, "not established at this scale"),          # fewer than min_runs
    ([0.01, 0.02, 0.03, 0.02], False, "supported"), ([0.5, 0.6, 0.55, 0.7], False, "refuted"),
])
def test_threshold_verdict(values, above, expected):
    row = tq.threshold_verdict(values + [np.nan], 0.5 if above else 0.1, above, VERDICTS)  # NaN: a diverged run
    assert row["verdict"] == expected and row["runs"] == str(len(values))
    assert row["mean"] == pytest.approx(np.mean(values)) and row["ci_low"] <= row["mean"] <= row["ci_high"]


def test_difference_verdict_no_better_within_the_margin():
    same = tq.difference_verdict([0.50, 0.52, 0.51, 0.49], [0.50, 0.51, 0.52, 0.50], 0.1, VERDICTS)
    assert same["verdict"] == "supported" and same["mean"] == pytest.approx(-0.0025)
    better = tq.difference_verdict([0.9, 0.92, 0.91, 0.89], [0.50, 0.51, 0.52, 0.50], 0.1, VERDICTS)
    assert better["verdict"] == "refuted" and better["ci_low"] > 0.1
    few = tq.difference_verdict([0.5, 0.5], [0.5, 0.5, 0.5, 0.5], 0.1, VERDICTS)
    assert few["verdict"] == "not established at this scale" and few["runs"] == "2 vs 4"


def test_claims_from_probes_at_the_end_of_training_only():
    rows = (probe_rows("logistic", "ring8", {"plane_energy_difference_spearman": 0.8, "plane_energy_spearman": 0.6})
            + probe_rows("hinge", "ring8", {"plane_energy_difference_spearman": 0.0, "plane_energy_spearman": -0.3,
                                            "spread_in_margins": 0.02, "spread_pq_in_margins": 0.5})
            + probe_rows("hinge", "mnist", {"spread_in_margins": 0.5, "spread_pq_in_margins": 0.5})
            # dead discriminators: s constant on data and samples alike, left out of the flatness claim
            + [{**row, "spread_in_margins": 0.0, "spread_pq_in_margins": 0.0} for row in probe_rows("hinge", "mnist", {})]
            # a snapshot half-way through, which would flip every verdict were it counted
            + probe_rows("logistic", "ring8", {"plane_energy_difference_spearman": -0.9, "plane_energy_spearman": -0.9}, fraction=0.5)
            + probe_rows("hinge", "ring8", {"spread_in_margins": 0.9}, fraction=0.5))
    claims = tq.claims(pd.DataFrame(rows), SPEC, "test scale")
    assert claims["verdict"].tolist() == ["supported", "supported", "supported", "refuted"]
    assert claims.loc[0, "mean"] == pytest.approx(0.815)
    assert claims.loc[1, "mean"] == pytest.approx(-0.3 - 0.6) and claims.loc[1, "runs"] == "4 vs 4"
    assert claims.loc[3, "mean"] == pytest.approx(0.515) and claims.loc[3, "runs"] == "4"
    assert "a dead D: 4 of 8" in claims.loc[3, "measure"] and "a dead D: 0 of 4" in claims.loc[2, "measure"]
    assert (claims["scale"] == "test scale").all()


def test_per_setting_table_counts_runs_diverged_working_and_dead():
    rows = probe_rows("logistic", "ring8", {"flatness": 0.2}) + probe_rows("hinge", "ring8", {"flatness": 0.1}, runs=2)
    rows[0] = {**rows[0], "status": "diverged", "flatness": np.nan, "works": False, "d_dead": None}
    table = tq.per_setting(pd.DataFrame(rows), ["flatness", "auroc_noise"])
    # seeds 0-3 and 0-1: even seeds work (seed 0 of logistic diverged), seed 3's D is dead
    assert table[["loss", "runs", "diverged", "working", "dead_d"]].values.tolist() == [["logistic", 4, 1, 1, 1],
                                                                                      ["hinge", 2, 0, 1, 0]]
    assert table["flatness"].tolist() == pytest.approx([0.22, 0.105])  # the diverged run has no probe
