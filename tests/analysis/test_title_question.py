import numpy as np
import pandas as pd
import pytest

from energygan.analysis import title_question as tq

VERDICTS = {"confidence": 0.95, "min_units": 4}
SPEC = {"statistic": "spearman",
        "groups": {"logistic GAN": {"loss_name": "logistic", "f": ["identity", "softplus", "softminus"]},
                   "EBGAN": {"discriminator": "autoencoder", "loss_name": "hinge", "f": "identity",
                             "entropy_weight": 0.0},
                   "calibrated EBGAN": {"loss_name": "hinge", "f": "identity", "entropy_weight": 0.1}},
        "tolerances": {"tracks": 0.5, "no_better": 0.1, "better": 0.1, "flat": 0.1}, "verdicts": VERDICTS,
        "plane": {"extent": 3.0, "points": 11}, "kde_samples": 100, "samples": 50}


def probe_rows(loss_name, dataset, values: dict, runs=4, fraction=1.0, works=lambda seed: seed % 2 == 0,
               dead=lambda seed: seed == 3, f="identity", discriminator="mlp", entropy_weight=0.0):
    rows = []
    for seed in range(runs):
        rows.append({"experiment": f"{dataset}_x", "run_id": f"{loss_name}{seed}", "dataset": dataset,
                     "discriminator": discriminator, "loss_name": loss_name, "loss": loss_name, "f": f,
                     "pt_weight": 0.0, "entropy_weight": entropy_weight, "seed": seed, "status": "ok",
                     "step": int(100 * fraction), "fraction": fraction, "works": works(seed), "d_dead": dead(seed),
                     **{k: v + 0.01 * seed for k, v in values.items()}})
    return rows


def test_claims_use_working_runs_with_a_live_d_of_each_group_at_the_end_of_training():
    every = {"works": lambda seed: seed < 4, "dead": lambda seed: False}
    ebgan = {"discriminator": "autoencoder", **every}
    # a fresh D of each kind at each run's frozen Q (here the logistic runs'): the logistic one's correlations
    # with log q/p at 0.95 and with E_P at 0.5, EBGAN's with E_P at 0.2
    rows = (probe_rows("logistic", "ring8", {"plane_energy_difference_spearman": 0.8, "plane_energy_spearman": 0.6,
                                             "fixed_q_logistic_gan_plane_energy_difference_spearman": 0.95,
                                             "fixed_q_logistic_gan_plane_energy_spearman": 0.5,
                                             "fixed_q_ebgan_plane_energy_spearman": 0.2},
                       runs=6, works=lambda seed: seed != 4, dead=lambda seed: seed == 5)
            # outside the logistic group: the power f (s > 0 forced on s* = log q/p); an MLP hinge run is not EBGAN
            + [{**row, "run_id": f"power{row['seed']}"} for row in probe_rows(
                "logistic", "ring8", {"plane_energy_difference_spearman": -0.9, "plane_energy_spearman": -0.9},
                f="power_alpha3", **every)]
            + probe_rows("hinge", "ring8", {"plane_energy_spearman": 0.9, "spread_in_margins": 0.9}, **every)
            + probe_rows("hinge", "ring8", {"plane_energy_difference_spearman": 0.0, "plane_energy_spearman": -0.3,
                                            "spread_in_margins": 0.02, "gap_in_margins": 0.4}, **ebgan)
            + probe_rows("hinge", "mnist", {"spread_in_margins": 0.5, "gap_in_margins": 0.1}, **ebgan)
            # dead discriminators (flat off the data too) and runs below the quality floor: left out, whatever s
            + [{**row, "run_id": f"dead{row['seed']}", "d_dead": True, "spread_in_margins": 0.0}
               for row in probe_rows("hinge", "mnist", {}, **ebgan)]
            + [{**row, "run_id": f"bad{row['seed']}", "works": False, "spread_in_margins": 0.0}
               for row in probe_rows("hinge", "mnist", {}, **ebgan)]
            # a snapshot half-way through, which would flip every verdict were it counted
            + probe_rows("logistic", "ring8", {"plane_energy_difference_spearman": -0.9, "plane_energy_spearman": -0.9},
                         fraction=0.5, **every)
            + probe_rows("hinge", "ring8", {"spread_in_margins": 0.9}, fraction=0.5, **ebgan))
    claims = tq.claims(pd.DataFrame(rows), SPEC, "test scale")
    verdicts = claims["verdict"].tolist()
    assert verdicts[:4] + verdicts[-2:] == ["supported", "supported", "supported", "supported", "supported", "refuted"]
    assert verdicts[4:8] == ["not established at this scale"] * 4  # no calibrated EBGAN runs, no composed energy
    # logistic seeds 0-3 (seed 4 below the floor, seed 5's D dead): 0.8 + 0.015
    assert claims.loc[0, "mean"] == pytest.approx(0.815)
    assert ("4 of 6 runs used; left out: 0 diverged, 1 below the quality floor, 1 with a dead D"
            in claims.loc[0, "measure"])
    assert claims.loc[1, "mean"] == pytest.approx(-0.3 - 0.6) and claims.loc[1, "runs"] == "4 vs 4"
    # at a fixed Q fresh Ds are read, so a run whose own D died still gives its Q: seeds 0, 1, 2, 3, 5
    assert claims.loc[2, "mean"] == pytest.approx(0.95 + 0.022) and claims.loc[2, "runs"] == "5"
    # EBGAN's fresh D against the logistic one on the same five Qs: 0.2 - 0.5 in every pair
    assert claims.loc[3, "mean"] == pytest.approx(-0.3) and claims.loc[3, "runs"] == "5 pairs"
    assert claims.loc[3, "ci_high"] == pytest.approx(-0.3) and claims.loc[3, "half_width"] == pytest.approx(0.0)
    assert claims.loc[8, "mean"] == pytest.approx(0.035)
    assert "energy gap (mean s on Q - on P) 0.415 m" in claims.loc[8, "measure"]
    assert claims.loc[9, "mean"] == pytest.approx(0.515) and claims.loc[9, "runs"] == "4"
    assert ("4 of 12 runs used; left out: 0 diverged, 4 below the quality floor, 4 with a dead D"
            in claims.loc[9, "measure"])
    assert (claims["scale"] == "test scale").all()


def test_the_positive_controls_compare_the_calibrated_ebgan_with_the_plain_one_and_the_logistic_gan():
    """Calibrated EBGANs (autoencoder and MLP D alike) at 0.9; plain EBGANs at 0.3 (much less well); logistic GANs
    at 0.85 (not less well by more than 0.1); the logistic GANs' composed energy at 0.8."""
    every = {"works": lambda seed: True, "dead": lambda seed: False}
    rows = (probe_rows("hinge", "ring8", {"plane_energy_spearman": 0.9}, discriminator="autoencoder",
                       entropy_weight=0.1, runs=2, **every)
            + [{**row, "run_id": f"mlp{row['seed']}"} for row in probe_rows(
                "hinge", "ring8", {"plane_energy_spearman": 0.9}, entropy_weight=0.1, runs=2, **every)]
            + probe_rows("hinge", "ring8", {"plane_energy_spearman": 0.3}, discriminator="autoencoder", **every)
            + probe_rows("logistic", "ring8", {"plane_energy_spearman": 0.85, "plane_composed_spearman": 0.8}, **every))
    claims = tq.claims(pd.DataFrame(rows), SPEC, "s").set_index("claim")
    calibrated = claims.loc["a calibrated EBGAN's s tracks the data's energy E_P (its entropy term makes s = w E_P + c "
                            "at equilibrium)"]
    assert calibrated["verdict"] == "supported" and calibrated["runs"] == "4"
    assert calibrated["mean"] == pytest.approx(0.905)  # seeds 0 and 1 of each discriminator: 0.9 and 0.91
    plain = claims.loc["a plain EBGAN's s alone tracks E_P less well than a calibrated EBGAN's"]
    assert (plain["verdict"] == "supported" and plain["mean"] == pytest.approx(0.905 - 0.315)
            and plain["runs"] == "4 vs 4")
    logistic = claims.loc["a logistic GAN's s alone tracks E_P less well than a calibrated EBGAN's"]
    assert logistic["verdict"] == "refuted" and logistic["mean"] == pytest.approx(0.905 - 0.865)
    composed = claims.loc["a logistic GAN's composed energy E_Q + s tracks the data's energy E_P"]
    assert composed["verdict"] == "supported" and composed["mean"] == pytest.approx(0.815)


def test_a_group_with_too_few_eligible_runs_decides_nothing():
    rows = probe_rows("logistic", "ring8", {"plane_energy_difference_spearman": 0.9, "plane_energy_spearman": 0.9})
    claims = tq.claims(pd.DataFrame(rows), SPEC, "s")  # seeds 0 and 2 work with a live D: 2 < min_units
    assert claims.loc[0, "runs"] == "2" and claims.loc[0, "verdict"] == "not established at this scale"


def test_per_setting_table_of_no_probed_runs_is_empty_with_its_columns():
    rows = probe_rows("logistic", "ring8", {"flatness": 0.2}, fraction=0.5)  # snapshots only: nothing at the end
    table = tq.per_setting(pd.DataFrame(rows), ["flatness", "auroc_noise"])
    assert table.empty and {"runs", "working", "flatness"} <= set(table.columns)


def test_per_setting_table_counts_runs_diverged_working_and_dead():
    rows = probe_rows("logistic", "ring8", {"flatness": 0.2}) + probe_rows("hinge", "ring8", {"flatness": 0.1}, runs=2)
    rows[0] = {**rows[0], "status": "diverged", "flatness": np.nan, "works": False, "d_dead": None}
    table = tq.per_setting(pd.DataFrame(rows), ["flatness", "auroc_noise"])
    # seeds 0-3 and 0-1: even seeds work (seed 0 of logistic diverged), seed 3's D is dead
    assert table[["loss", "runs", "diverged", "working", "dead_d"]].values.tolist() == [["logistic", 4, 1, 1, 1],
                                                                                      ["hinge", 2, 0, 1, 0]]
    assert table["flatness"].tolist() == pytest.approx([0.22, 0.105])  # the diverged run has no probe


def test_fixed_q_probes_are_averaged_over_each_runs_checkpoints():
    end = probe_rows("logistic", "ring8", {"fixed_q_logistic_gan_plane_energy_difference_spearman": 0.4,
                                          "plane_energy_spearman": 0.1, "plane_energy_difference_spearman": 0.5},
                     works=lambda seed: True, dead=lambda seed: False)
    early = probe_rows("logistic", "ring8", {"fixed_q_logistic_gan_plane_energy_difference_spearman": 0.9},
                       fraction=0.25, works=lambda seed: True, dead=lambda seed: False)
    runs, fractions = tq.with_fixed_q_over_checkpoints(pd.DataFrame(end + early))
    assert fractions == "0.25/1" and len(runs) == 4 and (runs["fraction"] == 1.0).all()
    # per seed: (0.9 + 0.4) / 2 + 0.01 seed; the run's own probes stay those at the end
    fixed_q = runs["fixed_q_logistic_gan_plane_energy_difference_spearman"]
    assert fixed_q.tolist() == pytest.approx([0.65, 0.66, 0.67, 0.68])
    assert runs["plane_energy_spearman"].tolist() == pytest.approx([0.1, 0.11, 0.12, 0.13])
    claims = tq.claims(pd.DataFrame(end + early), SPEC, "s")
    assert claims.loc[2, "mean"] == pytest.approx(0.665)
    assert "at fractions 0.25/1 of training" in claims.loc[2, "measure"]
