import numpy as np
import pandas as pd
import pytest

from energygan import grid_search

SETTINGS = {"confidence": 0.95, "bootstrap": 500, "seed": 0, "min_runs": 2}


def runs_table(rows):
    """rows: (experiment, pt_weight, n_layer_g, n_layer_d, status, score); a run works from a score of 3 on, and
    a score of exactly 1 marks its discriminator dead."""
    table = pd.DataFrame(rows, columns=["experiment", "pt_weight", "n_layer_g", "n_layer_d", "status", "ebgan_score"])
    return table.assign(frechet_distance=100.0 - table["ebgan_score"].fillna(0), optim_d="adam", optim_g="adam", lr=0.001,
                        works=table["ebgan_score"] >= 3, d_dead=table["ebgan_score"] == 1)


@pytest.mark.parametrize("low, high, runs, expected", [
    (0.6, 0.9, 10, "supported"), (0.1, 0.4, 10, "refuted"), (0.4, 0.7, 10, "not established at this scale"),
    (0.6, 0.9, 1, "not established at this scale"), (0.5, 0.9, 10, "not established at this scale"),
])
def test_verdict_from_the_interval_and_the_number_of_runs(low, high, runs, expected):
    assert grid_search.verdict(low, high, runs, 10, min_runs=2) == expected


def test_histogram_counts_every_run_exactly_once_diverged_in_a_bin_of_its_own():
    edges = np.array([0.0, 1.0, 2.0, 3.0])
    scores = np.array([0.0, 0.5, 1.0, 2.999, 3.0, 7.0, np.nan, np.nan, -1.0, np.nan])
    percent, failed = grid_search.histogram(scores, edges)
    # bins [0,1): 0, 0.5, and -1 (below the axis, first bin); [1,2): 1.0; [2,3]: 2.999, 3.0, 7.0 (last bin)
    assert percent.tolist() == pytest.approx([30.0, 10.0, 30.0])
    assert failed == pytest.approx(30.0)
    assert percent.sum() + failed == pytest.approx(100.0)


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
    shallow = table.iloc[1]  # nLayer <= 3: EBGAN {0.2, 3} vs GAN {-inf, 0.5}: 0.2 beats -inf; 3 beats both -> 3/4
    assert shallow["P(A > B)"] == pytest.approx(3 / 4) and shallow["runs_A"] == 2
    pt = table.iloc[2]  # EBGAN-PT {1.5, 1} vs EBGAN {2, 0.2, 3}: each beats only 0.2 -> 2/6
    assert pt["P(A > B)"] == pytest.approx(2 / 6)
    assert set(table["verdict"]) <= set(grid_search.VERDICTS) and (table["scale"] == "test scale").all()
    assert table.iloc[3]["runs_B"] == 3  # the fair GAN sub-grid: lr 0.001 is every GAN run here


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
