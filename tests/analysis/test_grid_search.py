import numpy as np
import pandas as pd
import pytest

from energygan.analysis import grid_search

SETTINGS = {"confidence": 0.95, "min_units": 2, "min_working": 1}


def runs_table(rows):
    """rows: (experiment, pt_weight, n_layer_g, n_layer_d, status, score); the architecture is the two depths
    (widths fixed), a run works from a score of 3 on, and a score of exactly 1 marks its discriminator dead."""
    table = pd.DataFrame(rows, columns=["experiment", "pt_weight", "n_layer_g", "n_layer_d", "status", "ebgan_score"])
    return table.assign(frechet_distance=100.0 - table["ebgan_score"].fillna(0), optim_d="adam", optim_g="adam",
                        lr=0.001, size_g=100, size_d=32, dropout_d=False, seed=0,
                        works=table["ebgan_score"] >= 3, d_dead=table["ebgan_score"] == 1)


def test_families_select_runs_by_experiment_and_settings():
    runs = runs_table([("gan", 0.0, 2, 2, "ok", 1.0), ("eb", 0.0, 2, 2, "ok", 2.0), ("eb", 0.1, 2, 2, "ok", 3.0),
                       ("other", 0.0, 2, 2, "ok", 9.0)])
    families = grid_search.family_runs(runs, {"EBGAN-PT": {"experiment": "eb", "where": {"pt_weight": 0.1}},
                                              "GAN": {"experiment": "gan"},
                                              "EBGAN": {"experiment": "eb", "where": {"pt_weight": 0.0}}})
    assert families[["family", "ebgan_score"]].values.tolist() == [["GAN", 1.0], ["EBGAN", 2.0], ["EBGAN-PT", 3.0]]
    with pytest.raises(ValueError, match="no column 'margin' in runs.csv"):
        grid_search.matches(runs, {"margin": 1})


def test_claims_compare_families_with_diverged_runs_below_every_score():
    rows = [("gan", 0.0, 5, 5, "ok", 1.0), ("gan", 0.0, 2, 2, "diverged", np.nan), ("gan", 0.0, 3, 3, "ok", 0.5),
            ("eb", 0.0, 5, 5, "ok", 2.0), ("eb", 0.0, 2, 2, "ok", 0.2), ("eb", 0.0, 3, 3, "ok", 3.0),
            ("eb", 0.1, 5, 5, "ok", 1.5), ("eb", 0.1, 3, 3, "ok", 1.0)]
    # keys in sorted order, as the rule's JSON settings pass them: the roles come from the names
    spec = {"families": {"EBGAN": {"experiment": "eb", "where": {"pt_weight": 0.0}},
                         "EBGAN-PT": {"experiment": "eb", "where": {"pt_weight": 0.1}}, "GAN": {"experiment": "gan"}},
            "depth_limits": [3], "fair": {"lr": 0.001}, "verdicts": SETTINGS}
    table = grid_search.claims(runs_table(rows), spec, "test scale").set_index("claim")
    assert list(table[["A", "B"]].itertuples(index=False, name=None))[:4] == [
        ("EBGAN", "GAN"), ("EBGAN", "GAN"), ("EBGAN-PT", "EBGAN"), ("EBGAN", "GAN (lr=0.001)")]
    all_runs = table.iloc[0]
    # EBGAN {2, 0.2, 3} vs GAN {1, -inf, 0.5}: 2 beats all 3, 0.2 beats only -inf, 3 beats all 3 -> 7/9
    assert all_runs["P(A > B)"] == pytest.approx(7 / 9)
    assert (all_runs["runs_A"], all_runs["runs_B"], all_runs["diverged_B"]) == (3, 3, 1)
    assert (all_runs["architectures_A"], all_runs["working_A"], all_runs["working_B"]) == (3, 1, 0)
    assert all_runs["working share A - B"] == pytest.approx(1 / 3)
    # GAN has no run that works: whatever the interval, nothing is decided
    assert all_runs["verdict"] == "not established at this scale"
    shallow = table.iloc[1]  # nLayer <= 3: EBGAN {0.2, 3} vs GAN {-inf, 0.5}: 0.2 beats -inf; 3 beats both -> 3/4
    assert shallow["P(A > B)"] == pytest.approx(3 / 4) and shallow["runs_A"] == 2
    # EBGAN-PT against EBGAN, paired on the architecture: (5,5) 1.5 vs 2 loses, (3,3) 1 vs 3 loses; (2,2) unpaired
    pt = table.iloc[2]
    assert pt["P(A > B)"] == 0.0 and (pt["runs_A"], pt["runs_B"]) == (2, 2) and "paired" in pt["design"]
    assert "Figure 4" not in pt.name and "this pipeline's question" in pt.name
    assert (table["scale"] == "test scale").all()
    assert table.iloc[3]["runs_B"] == 3  # the fair GAN sub-grid: lr 0.001 is every GAN run here


def test_a_verdict_needs_architectures_and_working_runs_on_both_sides():
    # A: 4 architectures x 2 runs, all working, far above B (4 architectures, 2 of 8 runs working)
    rows = [("eb", 0.0, g, d, "ok", 5.0 + g) for g in (2, 3) for d in (2, 3) for _ in range(2)]
    rows += [("gan", 0.0, g, d, "ok", 3.0 if (g, d) == (2, 2) else 0.5)
             for g in (2, 3) for d in (2, 3) for _ in range(2)]
    runs = grid_search.family_runs(runs_table(rows), {"GAN": {"experiment": "gan"},
                                                     "EBGAN": {"experiment": "eb", "where": {"pt_weight": 0.0}},
                                                     "EBGAN-PT": {"experiment": "eb", "where": {"pt_weight": 0.1}}})
    a, b = runs[runs["family"] == "EBGAN"], runs[runs["family"] == "GAN"]
    row = grid_search.compare("c", a, b, ("A", "B"), {**SETTINGS, "min_units": 4, "min_working": 2}, "s")
    assert (row["architectures_A"], row["architectures_B"], row["working_A"], row["working_B"]) == (4, 4, 8, 2)
    assert row["P(A > B)"] == 1.0 and row["verdict"] == "supported"
    assert row["working share A - B"] == pytest.approx(1 - 2 / 8)
    assert grid_search.compare("c", a, b, ("A", "B"), {**SETTINGS, "min_units": 5, "min_working": 2}, "s")["verdict"] \
        == "not established at this scale"
    assert grid_search.compare("c", a, b, ("A", "B"), {**SETTINGS, "min_units": 4, "min_working": 3}, "s")["verdict"] \
        == "not established at this scale"


def test_runs_of_one_architecture_are_one_unit():
    runs = runs_table([("gan", 0.0, 2, 2, "ok", 1.0), ("gan", 0.0, 2, 2, "ok", 2.0), ("gan", 0.0, 3, 2, "ok", 2.0)])
    labels = grid_search.architectures(runs)
    assert labels[0] == labels[1] != labels[2] and len(set(labels)) == 2


def test_family_table_quantiles_and_threshold_shares_include_diverged_runs():
    families = runs_table([("gan", 0.0, 2, 2, "ok", 1.0), ("gan", 0.0, 2, 2, "ok", 3.0),
                           ("gan", 0.0, 2, 2, "diverged", np.nan), ("gan", 0.0, 2, 2, "ok", 5.0)]).assign(family="GAN")
    row = grid_search.family_table(families, real_score=8.0, thresholds=[0.5]).iloc[0]
    assert (row["runs"], row["diverged"]) == (4, 1)
    assert (row["working"], row["dead_d"]) == (0.5, 1)  # 3 and 5 of the 4 runs work; score 1's D is dead
    assert row["I' q0.5"] == pytest.approx(3.0)  # median of the scored runs 1, 3, 5
    assert row["share I' > 0.5 x real (4)"] == pytest.approx(1 / 4)  # only 5 > 4, out of all 4 runs


def test_margin_is_read_from_the_hinge_label():
    assert grid_search.margin_of("hinge_margin10") == 10.0 and grid_search.margin_of("hinge_margin0.5") == 0.5
