import json

import numpy as np
import pandas as pd

from energygan import files
from energygan.analysis import headline


def runs_table():
    """Two experiments: MNIST (Frechet distance, lower is better) and ring8 (KL(P||Q), lower is better)."""
    rows = []
    for loss, f, fds in (("logistic", "softplus", [10.0, 14.0]), ("lsif", "identity", [30.0, 2.0]),
                         ("hinge", "identity", [5.0, np.nan])):
        for seed, fd in enumerate(fds):
            rows.append({"experiment": "mnist_x", "dataset": "mnist", "loss": loss, "f": f, "seed": seed,
                         "status": "diverged" if np.isnan(fd) else "ok", "frechet_distance": fd, "kl_p_q": np.nan,
                         "works": fd < 12, "d_dead": loss == "hinge" and not np.isnan(fd)})
    rows += [{"experiment": "ring", "dataset": "ring8", "loss": "logistic", "f": "identity", "seed": 0,
              "status": "diverged", "frechet_distance": np.nan, "kl_p_q": np.nan, "works": False, "d_dead": None}]
    return pd.DataFrame(rows)


def test_best_and_worst_pair_by_the_mean_over_finished_runs(tmp_path):
    files.write_csv(runs_table(), tmp_path / "runs.csv")
    verdicts = pd.DataFrame({"claim": ["A beats B (all runs)", "A beats B (all runs; deep)", "E"],
                             "verdict": ["supported", "supported", "refuted"], "runs_A": [8, 4, 2],
                             "working_A": [3, 1, 0], "scale": "g: 8 runs, 5000 steps"})
    files.write_csv(verdicts, tmp_path / "verdicts.csv")
    (tmp_path / "evaluator").mkdir()
    files.write_json({"test_accuracy": 0.9918, "test_inception_score": 9.75}, tmp_path / "evaluator/metrics.json")
    headline.write(tmp_path / "runs.csv", tmp_path / "metrics.json", {"grid_search": tmp_path / "verdicts.csv"},
                   tmp_path / "evaluator")
    record = json.loads((tmp_path / "metrics.json").read_text())
    # means over ok runs: logistic/softplus 12, lsif/identity 16, hinge/identity 5 (its diverged run left out)
    # working: FD 10, 2, 5 (below 12 in this table); dead: the hinge run that finished
    assert record["experiments"]["mnist_x"] == {"runs": 6, "diverged": 1, "working": 3, "dead_discriminators": 1,
                                                "score": "frechet_distance",
                                                "best": "hinge, identity", "best_frechet_distance": 5.0,
                                                "worst": "lsif, identity", "worst_frechet_distance": 16.0}
    # every run diverged: counted, and no pair ranked
    assert record["experiments"]["ring"] == {"runs": 1, "diverged": 1, "working": 0, "dead_discriminators": 0,
                                             "score": "kl_p_q"}
    assert record["verdicts"]["grid_search"] == {
        "counts": {"supported": 2, "refuted": 1, "not established at this scale": 0},
        "claims": {"a_beats_b_all_runs": {"verdict": "supported", "runs_A": 8, "working_A": 3,
                                          "scale": "g: 8 runs, 5000 steps"},
                   "a_beats_b_all_runs_deep": {"verdict": "supported", "runs_A": 4, "working_A": 1,
                                               "scale": "g: 8 runs, 5000 steps"},
                   "e": {"verdict": "refuted", "runs_A": 2, "working_A": 0, "scale": "g: 8 runs, 5000 steps"}}}
    assert record["evaluator"] == {"test_accuracy": 0.9918}


def test_pairs_are_ranked_by_the_headline_score_of_their_dataset():
    runs = pd.DataFrame({"experiment": "conv", "dataset": "mnist32", "loss": ["logistic", "lsif"], "f": "identity",
                         "status": "ok", "frechet_distance": [3.0, 1.0], "works": True, "d_dead": False})
    assert headline.experiment_metrics(runs)["best"] == "lsif, identity"
    runs = pd.DataFrame({"experiment": "m", "dataset": "ring8", "loss": ["logistic", "lsif"], "f": "identity",
                         "status": "ok", "kl_p_q": [0.5, 0.1], "modes_covered": [8, 2], "works": True, "d_dead": False})
    assert headline.experiment_metrics(runs)["best"] == "lsif, identity"  # the headline score is kl_p_q, not modes


def test_short_keys_are_slugs_made_unique():
    taken = set()
    assert headline.short_key("EBGAN's I' lies to the right of GAN's (all runs; Figure 2)", taken) == \
        "ebgan_s_i_lies_to_the_right_of_gan_s_all_runs_figure_2"
    assert headline.short_key("E", taken) == "e" and headline.short_key("e!", taken) == "e_"


def test_variants_that_share_a_loss_and_f_are_told_apart_where_the_experiment_varies_them():
    """The EBGAN variants are all (hinge, identity): the discriminator and the entropy weight name them."""
    runs = pd.DataFrame({"experiment": "ring8_ebgan", "dataset": "ring8", "loss": "hinge_margin1", "f": "identity",
                         "discriminator": ["autoencoder", "autoencoder", "mlp"], "entropy_weight": [0.0, 0.1, 0.1],
                         "status": "ok", "kl_p_q": [0.5, 0.2, 0.9], "works": False, "d_dead": False})
    record = headline.experiment_metrics(runs)
    assert record["best"] == "hinge_margin1, identity, autoencoder, 0.1" and record["best_kl_p_q"] == 0.2
    assert record["worst"] == "hinge_margin1, identity, mlp, 0.1"
