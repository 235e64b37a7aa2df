import math

import numpy as np
import pytest
import torch

from energygan.analysis import probes
from energygan.data import datasets
from energygan.engine import losses

SETTINGS = {"plane": {"extent": 2.0, "points": 41}, "samples": 200, "kde_samples": 300, "seed": 7,
            "figure_f": "identity"}
DATA = datasets.load("ring8")


def generate(z):
    """A fixed 'generator': each noise vector to a point near one of the ring's modes, off by up to 0.1."""
    mode = (z[:, 0].abs() * 1000).long() % 8
    return DATA.means[mode] + 0.05 * z[:, 1:3]


def log_mixture(x, centres, std):
    """log of the equal-weight Gaussian mixture, written independently with numpy (log-sum-exp by hand)."""
    x, c = np.asarray(x, dtype=np.float64), np.asarray(centres, dtype=np.float64)
    e = -((x[:, None, :] - c[None]) ** 2).sum(-1) / (2 * std ** 2)
    top = e.max(1)
    return top + np.log(np.exp(e - top[:, None]).sum(1)) - math.log(2 * math.pi * std ** 2 * len(c))


CLOSED_FORMS = {  # s*(p, q) from log p and log q, by hand
    "logistic": lambda lp, lq: lq - lp,
    "lsif": lambda lp, lq: np.exp(lq - lp),
    "hinge": lambda lp, lq: 1.0 * (lq > lp),
    "least_squares": lambda lp, lq: 1 / (1 + np.exp(lp - lq)),
}


@pytest.mark.parametrize("spec", ["logistic", "lsif", {"name": "hinge", "margin": 1.0}, "least_squares"])
def test_a_discriminator_set_to_its_closed_form_optimum_scores_correlation_one_and_error_zero(spec):
    loss = losses.make(spec)
    name = spec if isinstance(spec, str) else spec["name"]
    kde = generate(probes.evaluation.evaluation_noise(SETTINGS["kde_samples"], 4, 1234)).double()

    def optimal(x):
        lp, lq = DATA.log_density(x.double()).numpy(), log_mixture(x.double(), kde, DATA.std)
        return torch.from_numpy(CLOSED_FORMS[name](lp, lq))
    row, maps = probes.probe_mixture(optimal, generate, loss, DATA, 4, SETTINGS, 1234)
    for points in ("plane", "samples"):
        assert row[f"{points}_optimum_excluded"] < 0.05
        assert row[f"{points}_optimum_pearson"] == pytest.approx(1.0, abs=1e-9)
        assert row[f"{points}_optimum_spearman"] == pytest.approx(1.0, abs=1e-9)
        assert row[f"{points}_optimum_relative_error"] == pytest.approx(0.0, abs=1e-9)
    if name == "logistic":  # its s* is the energy difference E_P - E_Q
        assert row["plane_energy_difference_pearson"] == pytest.approx(1.0, abs=1e-9)
    assert maps["s"].shape == (41 * 41,)


def test_a_discriminator_equal_to_the_data_energy_tracks_e_p_exactly():
    row, _ = probes.probe_mixture(lambda x: -DATA.log_density(x.double()), generate, losses.make("logistic"), DATA, 4,
                                  SETTINGS, 1234)
    assert row["plane_energy_pearson"] == pytest.approx(1.0) and row["samples_energy_spearman"] == pytest.approx(1.0)


def test_the_logistic_optimum_composed_with_e_q_is_the_data_energy_and_the_other_optima_are_not():
    """E_Q + s* = -log q + log q/p = E_P exactly for the logistic loss (Che et al. 2020); LSIF's s* = q/p composed
    with E_Q is not E_P (here: q from the same kernel estimate the probes take)."""
    kde = generate(probes.evaluation.evaluation_noise(SETTINGS["kde_samples"], 4, 1234)).double()
    composed = {}
    for name in ("logistic", "lsif"):
        def optimal(x, name=name):
            lp, lq = DATA.log_density(x.double()).numpy(), log_mixture(x.double(), kde, DATA.std)
            return torch.from_numpy(CLOSED_FORMS[name](lp, lq))
        composed[name], maps = probes.probe_mixture(optimal, generate, losses.make(name), DATA, 4, SETTINGS, 1234)
        assert maps["composed"].shape == (41 * 41,)
    assert composed["logistic"]["plane_composed_relative_error"] == pytest.approx(0.0, abs=1e-9)
    assert composed["logistic"]["plane_composed_pearson"] == pytest.approx(1.0, abs=1e-9)
    assert composed["lsif"]["plane_composed_relative_error"] > 0.1


def test_an_energy_scaled_by_the_entropy_weight_is_the_data_energy_in_value_up_to_a_constant():
    """The calibrated EBGAN's equilibrium s = w E_P + c: s / w against E_P has no error; s itself has."""
    w = 0.1

    def calibrated(x):
        return w * -DATA.log_density(x.double()) + 3.0
    scaled, _ = probes.probe_mixture(calibrated, generate, losses.make("logistic"), DATA, 4, SETTINGS, 1234, w)
    raw, _ = probes.probe_mixture(calibrated, generate, losses.make("logistic"), DATA, 4, SETTINGS, 1234)
    assert scaled["plane_scaled_energy_relative_error"] == pytest.approx(0.0, abs=1e-9)
    assert raw["plane_scaled_energy_relative_error"] == pytest.approx(1 - w)  # s - c = w E_P: off by (1 - w) E_P


def test_a_constant_discriminator_is_flat():
    row, _ = probes.probe_mixture(lambda x: torch.full((len(x),), 3.0), generate, losses.make("logistic"), DATA, 4,
                                  SETTINGS, 1234)
    assert row["spread_on_p"] == 0.0 and row["flatness"] == 0.0
    assert math.isnan(row["plane_energy_pearson"])  # a constant tracks nothing


def test_flatness_is_the_ratio_of_standard_deviations():
    on_data, reference = torch.tensor([1.0, 3.0]), torch.tensor([0.0, 4.0, 8.0])
    assert probes.flatness(on_data, reference) == {"spread_on_p": pytest.approx(math.sqrt(2)),
                                                   "flatness": pytest.approx(math.sqrt(2) / 4)}


def test_optimum_from_log_densities_survives_where_both_densities_underflow():
    log_p, log_q = torch.tensor([-2000.0, -5.0]), torch.tensor([-1990.0, -5.0])
    out = probes.targets(losses.make("lsif"), log_p, log_q)
    assert out["optimum"].tolist() == pytest.approx([math.exp(10), 1.0])
    assert out["energy_difference"].tolist() == [10.0, 0.0] and out["energy"].tolist() == [2000.0, 5.0]


def test_off_manifold_inputs_are_noise_shuffled_and_inverted_digits():
    digits = torch.rand(5, 784, generator=torch.Generator().manual_seed(0)) * 0.4
    off = probes.off_manifold(digits, seed=3)
    assert off["noise"].shape == digits.shape and 0 <= off["noise"].min() and off["noise"].max() < 1
    assert torch.equal(off["shuffled"].sort(1).values, digits.sort(1).values)  # each digit's own pixels
    assert not torch.equal(off["shuffled"], digits)
    assert torch.equal(off["inverted"], 1 - digits)


def test_auroc_on_a_hand_computed_case():
    """s = the largest pixel, exact under any order of the pixels: digits' largest pixels lie in [0, 0.78],
    so inverted digits (largest pixel 1 - their smallest, near 1) and noise (near 1) score above every digit;
    shuffled digits keep each value, so they tie the digits as a whole (0.5 exactly); the 'generator' draws
    constant images of 0.5, above exactly the digits whose largest pixel is below 0.5."""
    digits = torch.rand(40, 784, generator=torch.Generator().manual_seed(1)) * torch.linspace(0.2, 0.78, 40)[:, None]
    largest = digits.amax(1)
    row = probes.probe_images(lambda x: x.amax(1), lambda z: torch.full((len(z), 784), 0.5), digits, 4, SETTINGS,
                              datasets.get("mnist"))
    assert row["auroc_inverted"] == 1.0 and row["auroc_noise"] == 1.0
    assert row["auroc_shuffled"] == 0.5
    expected = ((0.5 > largest).double() + 0.5 * (largest == 0.5)).mean().item()
    assert row["auroc_samples"] == pytest.approx(expected) and 0.3 < expected < 0.7
    assert row["flatness"] < 1 and row["spread_on_p"] == pytest.approx(largest.double().std().item())


def test_the_probe_job_trains_a_fresh_d_of_each_kind_at_the_frozen_q_of_each_working_run(tmp_path):
    """Two runs trained briefly (the first marked as working by its scoring job, the second not), probed at their
    snapshot and at the end: a fresh D of each kind at each of the first run's checkpoints, its columns named by
    the kind; none for the run below the quality floor, whose own D is probed all the same."""
    from energygan import files
    from energygan.engine.spec import Run, Setup
    from energygan.study import runfolder, training_job
    setup = Setup(dataset="ring8", z_dim=2, n_layer_g=2, size_g=8, n_layer_d=2, size_d=8, batch_size=16, steps=20,
                  log_every=10, checkpoint_every=10, snapshots=(0.5,))
    runs = [Run(f"r{seed}", seed=seed, loss={"name": "hinge", "margin": 1.0}, f="identity", lr=1e-3) for seed in (0, 1)]
    dirs = [str(tmp_path / r.run_id) for r in runs]
    training_job.train_batch(setup, runs, dirs, str(tmp_path / "ck.pt"), None, "cpu")
    for run_dir, works in zip(dirs, (True, False)):
        files.write_json({"status": "ok", "samples": 50, "eval_seed": 1234, "works": works, "d_dead": False},
                         f"{run_dir}/{runfolder.METRICS}")
    kinds = {"logistic GAN": {"discriminator": "mlp", "n_layer_d": 2, "size_d": 8, "loss": "logistic"},
             "EBGAN": {"discriminator": "autoencoder", "energy": "l2_norm", "n_layer_d": 2, "size_d": 8,
                       "loss": {"name": "hinge", "margin": 1}}}
    settings = {**SETTINGS, "plane": {"extent": 3.0, "points": 11}, "samples": 50, "kde_samples": 50,
                "fixed_q": {"steps": 20, "batch_size": 16, "lr": 1e-3, "pool": 200, "every_checkpoint": True,
                            "discriminators": kinds}}
    table = probes.probe_experiment("e", dirs, settings, 1234, None, str(tmp_path / "probes.csv"),
                                    str(tmp_path / "maps.png"))
    assert table["step"].tolist() == [10, 20, 10, 20]
    for kind in ("logistic_gan", "ebgan"):
        for column in ("plane_energy_spearman", "loss", "loss_change"):
            values = table[f"fixed_q_{kind}_{column}"]
            assert values[:2].notna().all() and values[2:].isna().all(), (kind, column)
    assert table["plane_energy_spearman"].notna().all()  # every run's own D is probed
    assert table["spread_in_margins"].notna().all()  # the hinge's Theorem 2 scale


def test_the_probe_job_trains_fresh_ds_at_a_frozen_q_on_mnist_too(tmp_path):
    """The image probes (AUROC against off-manifold inputs) of a run's own D and of each fresh kind at its Q."""
    from energygan import files
    from energygan.engine.spec import Run, Setup
    from energygan.study import runfolder, training_job

    from tests.data.test_datasets import fake_mnist
    prepared = tmp_path / "prepared"
    prepared.mkdir()
    fake_mnist(prepared, n=20)
    setup = Setup(dataset="mnist", z_dim=4, n_layer_g=2, size_g=16, n_layer_d=2, size_d=16, batch_size=8, steps=10,
                  log_every=5, checkpoint_every=10)
    run_dir = str(tmp_path / "run")
    training_job.train_batch(setup, [Run("r", seed=0, loss="logistic", f="softplus", lr=1e-3)], [run_dir],
                             str(tmp_path / "ck.pt"), str(prepared), "cpu")
    files.write_json({"status": "ok", "samples": 20, "eval_seed": 1234, "works": True, "d_dead": False},
                     f"{run_dir}/{runfolder.METRICS}")
    kinds = {"logistic GAN": {"discriminator": "mlp", "n_layer_d": 2, "size_d": 8, "loss": "logistic"},
             "EBGAN": {"discriminator": "autoencoder", "energy": "l2_norm", "n_layer_d": 2, "size_d": 8,
                       "loss": {"name": "hinge", "margin": 10}}}
    settings = {**SETTINGS, "samples": 20, "fixed_q": {"steps": 10, "batch_size": 8, "lr": 1e-3, "pool": 40,
                                                       "every_checkpoint": False, "discriminators": kinds}}
    table = probes.probe_experiment("m", [run_dir], settings, 1234, str(prepared), str(tmp_path / "probes.csv"),
                                    str(tmp_path / "maps.png"))
    for prefix in ("", "fixed_q_logistic_gan_", "fixed_q_ebgan_"):
        assert 0 <= table.loc[0, f"{prefix}auroc_noise"] <= 1 and 0 <= table.loc[0, f"{prefix}auroc_samples"] <= 1
