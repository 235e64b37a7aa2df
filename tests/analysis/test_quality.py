
import pytest
import torch

from energygan.analysis import quality


def test_the_scale_of_a_spread_is_the_margin_of_a_margin_loss():
    assert quality.loss_scale({"name": "hinge", "margin": 10}) == 10.0
    assert quality.loss_scale("logistic") == quality.loss_scale("lsif") == 1.0


def test_a_saturated_discriminator_is_dead_and_one_flat_on_the_data_only_is_not():
    """Built by hand: a softplus far below 0 everywhere (a saturated hinge D: s ~ e^-30) is dead; an
    equilibrium D of EBGAN's Theorem 2, one value on the data and the samples (p_G = p_data) but higher off
    them, is alive. The spread is the std of s over the three pooled sets, in margins."""
    data = torch.randn(200, 2) * 0.1
    samples = torch.randn(200, 2) * 0.1
    noise = torch.rand(200, 2) * 6 - 3
    saturated = lambda x: torch.nn.functional.softplus(-30 + x.sum(1))
    checks = quality.discriminator_checks(saturated, data, samples, noise, scale=1.0, dead_below=0.05)
    pooled = saturated(torch.cat([data, samples, noise])).double()
    assert checks["s_spread"] == pytest.approx(pooled.std().item())
    assert checks["d_dead"] and checks["s_spread"] < 1e-6
    flat = lambda x: 4.0 + 10.0 * (x.norm(dim=1) > 1).float() * x.norm(dim=1)  # m = 10
    checks = quality.discriminator_checks(flat, data, samples, noise, scale=10.0, dead_below=0.05)
    assert checks["s_data"] == checks["s_samples"] == 4.0  # flat on the data: the theorem's equilibrium
    assert not checks["d_dead"] and checks["s_spread"] > 0.05


def test_the_gradient_check_is_the_mean_input_gradient_norm_of_s_at_the_samples_in_scale_units():
    w = torch.tensor([3.0, -4.0])
    linear = lambda x: x @ w  # the gradient of s is w everywhere, norm 5
    x = torch.randn(50, 2)
    checks = quality.discriminator_checks(linear, x, x, x, scale=2.0, dead_below=0.05)
    assert checks["s_gradient"] == pytest.approx(5.0 / 2.0)
    assert checks["s_data"] == pytest.approx((x @ w).mean().item(), rel=1e-6)


def test_the_theorem_2_claim_counts_a_flat_equilibrium_d_and_leaves_a_saturated_one_out():
    """Four hand-built EBGAN discriminators of each kind (m = 10) on MNIST-like inputs, run through the
    checks that mark a D dead and the probe of its spread on the data, then through the claim: the
    saturated ones (s ~ 0 everywhere) are left out; the equilibrium ones (s = 4 on the data and on the
    samples, higher off them) are in, and flat."""
    import pandas as pd

    from energygan.analysis import probes
    from energygan.analysis import title_question as tq
    data, noise = torch.rand(300, 784) * 0.1, torch.rand(300, 784)
    saturated = lambda x: torch.nn.functional.softplus(-40 + x.sum(1) * 1e-3)
    equilibrium = lambda x: 4.0 + 10.0 * torch.relu(x.mean(1) - 0.2)  # flat where the data are
    rows = []
    for kind, s in (("saturated", saturated), ("equilibrium", equilibrium)):
        checks = quality.discriminator_checks(s, data, data, noise, scale=10.0, dead_below=0.05)
        spread = probes.flatness(s(data), torch.cat([s(data), s(noise)]))["spread_on_p"]
        for seed in range(4):
            rows.append({"experiment": "mnist_ebgan", "run_id": f"{kind}{seed}", "dataset": "mnist",
                         "discriminator": "autoencoder", "loss_name": "hinge", "loss": "hinge_margin10",
                         "f": "identity", "pt_weight": 0.0, "seed": seed, "status": "ok", "step": 10, "fraction": 1.0,
                         "works": True,
                         "d_dead": checks["d_dead"], "spread_in_margins": spread / 10, "gap_in_margins": 0.0})
        assert checks["d_dead"] == (kind == "saturated")
    spec = {"statistic": "spearman", "tolerances": {"tracks": 0.5, "no_better": 0.1, "better": 0.1, "flat": 0.1},
            "groups": {"logistic GAN": {"loss_name": "logistic"},
                       "EBGAN": {"discriminator": "autoencoder", "loss_name": "hinge", "f": "identity"},
                       "calibrated EBGAN": {"loss_name": "hinge", "entropy_weight": 0.1}},
            "verdicts": {"confidence": 0.95, "min_units": 4}}
    row = tq.claims(pd.DataFrame(rows), spec, "s").iloc[-1]
    assert "MNIST" in row["claim"] and row["runs"] == "4" and row["mean"] == 0.0
    assert row["verdict"] == "supported" and "0 below the quality floor, 4 with a dead D" in row["measure"]
