import math

import pandas as pd
import pytest
import torch

from energygan.theory import claims as theory
from energygan.theory import divergences as dv

P = {"loc": 0.0, "scale": 1.0}
THETA = [0.7, 0.8]
FS = ["identity", "softplus", "softminus", {"name": "power", "alpha": 3}]
LOSSES = ["logistic", "lsif", {"name": "hinge", "margin": 10}, "least_squares"]
HINGE = {"samples": 512, "hidden": 16, "depth": 1, "steps": 200, "lr": 0.02, "weight_decay": 0.0, "margin": 10}


@pytest.fixture(scope="module")
def outer():
    table, learned = theory.outer_loop(P, THETA, LOSSES, FS, 20_000, 0, HINGE)
    return table.set_index(["loss", "f", "s"]), learned


def grad_kl_normal(mq, sq, mp=0.0, sp=1.0):
    """d/d(mq, sq) of KL(N(mq, sq^2) || N(mp, sp^2)), differentiated by hand."""
    return (mq - mp) / sp ** 2, -1 / sq + sq / sp ** 2


def fd(func, h=1e-5):
    mu, sigma = THETA
    return ((func(mu + h, sigma) - func(mu - h, sigma)) / (2 * h), (func(mu, sigma + h) - func(mu, sigma - h)) / (2 * h))


def test_logistic_identity_is_kl_value_and_gradient(outer):
    row = outer[0].loc["logistic", "identity", "optimal"]
    assert row.value_quadrature == pytest.approx(dv.kl_normal(*THETA, 0.0, 1.0), abs=1e-9)
    assert (row.grad_mu, row.grad_sigma) == pytest.approx(grad_kl_normal(*THETA), abs=1e-7)
    assert abs(row.value_mc - row.value_quadrature) < 4 * row.value_mc_se


def test_lsif_identity_gradient_is_half_the_chi2_gradient(outer):
    row = outer[0].loc["lsif", "identity", "optimal"]
    chi2 = lambda m, s: math.exp(dv.renyi_normal(2, m, s, 0.0, 1.0)) - 1  # noqa: E731
    assert row.value_quadrature == pytest.approx(1 + chi2(*THETA), abs=1e-9)
    assert (row.grad_mu, row.grad_sigma) == pytest.approx(tuple(0.5 * g for g in fd(chi2)), abs=1e-6)


def test_lsif_power_gradient_is_a_third_of_the_renyi_moment_gradient(outer):
    row = outer[0].loc["lsif", "power_alpha3", "optimal"]
    moment = lambda m, s: math.exp(2 * dv.renyi_normal(3, m, s, 0.0, 1.0))  # noqa: E731
    assert row.value_quadrature == pytest.approx(moment(*THETA), abs=1e-8)
    assert (row.grad_mu, row.grad_sigma) == pytest.approx(tuple(g / 3 for g in fd(moment)), abs=1e-6)


def test_hinge_gradient_vanishes_at_the_optimum_but_not_for_a_learned_s(outer):
    table = outer[0]
    for f in ["identity", "softplus", "softminus", "power_alpha3"]:
        row = table.loc["hinge_margin10", f, "optimal"]
        assert row.grad_mu == 0.0 and row.grad_sigma == 0.0
    learned = table.loc["hinge_margin10", "identity", "learned"]
    assert math.hypot(learned.grad_mu, learned.grad_sigma) > 0.1
    # E_Q s* = m Q(q > p): q > p on an interval whose ends solve log q = log p (a quadratic), by hand
    mq, sq = THETA
    a, b = 1 / (2 * sq ** 2) - 0.5, -mq / sq ** 2
    c = mq ** 2 / (2 * sq ** 2) + math.log(sq)
    lo, hi = sorted(((-b - math.sqrt(b * b - 4 * a * c)) / (2 * a), (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)))
    phi = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731
    mass = phi((hi - mq) / sq) - phi((lo - mq) / sq)
    assert table.loc["hinge_margin10", "identity", "optimal"].value_quadrature == pytest.approx(10 * mass, abs=1e-3)


def test_logistic_power_is_reported_undefined(outer):
    assert outer[0].loc["logistic", "power_alpha3", "optimal"].divergence.startswith("undefined")


def test_renyi_bias_negative_at_small_batches_and_vanishing():
    table = theory.renyi_bias(P, THETA, 2.0, [4, 4096], 4000, 0)
    small, large = table.iloc[0], table.iloc[1]
    assert small.bias < -4 * small.bias_se  # log of a mean: biased low (Jensen)
    assert abs(large.bias) < 4 * large.bias_se + 1e-3
    assert abs(small.moment_bias) < 4 * small.moment_bias_se  # the mean itself is unbiased


def test_formula_checks_against_hand_numbers():
    table = theory.formula_checks(P, THETA, 3.0, 10.0).set_index("check")
    typo = table.iloc[0]
    # integral q^2 p for Gaussians, by hand: a product of three normal densities integrated
    mq, sq = THETA
    prec = 2 / sq ** 2 + 1
    mean_term = 2 * mq / sq ** 2
    const = math.exp(mean_term ** 2 / (2 * prec) - mq ** 2 / sq ** 2) * math.sqrt(2 * math.pi / prec)
    assert typo.as_written == pytest.approx(const / ((2 * math.pi) ** 1.5 * sq ** 2), rel=1e-8)
    sign = table.iloc[2]
    assert sign.as_written == pytest.approx(math.log(0.3 / 1.1), abs=1e-4)


def test_inner_loop_logistic_learns_log_ratio():
    pair = {"p": {"weights": [1.0], "means": [0.0], "scales": [1.0]},
            "q": {"weights": [1.0], "means": [0.5], "scales": [1.0]}}
    result = theory.inner_loop(pair, ["logistic"], [4096], hidden=16, depth=1, steps=300, lr=0.02,
                               weight_decay=0.0, seed=0)
    x = result.grid[:, 0]
    torch.testing.assert_close(result.optimum["logistic"], 0.5 * x - 0.125)  # log q/p for these Gaussians
    assert result.table.relative_error.item() < 0.2


def test_optimum_check_errors_are_within_the_grid_step():
    table = theory.optimum_check(LOSSES, points=120_001)
    assert (table.max_abs_error <= table.grid_step).all()


def test_claim_verdicts_follow_the_numbers(outer):
    tol = {"optimum_abs": 1e-3, "inner_relative_error": 0.3, "hinge_region_agreement": 0.9, "value_abs": 1e-3,
           "gradient_abs": 1e-4, "gradient_cosine": 0.999, "mc_z": 4, "bias_z": 4, "non_saturating_slope": 0.5}
    optimum = theory.optimum_check(LOSSES, points=120_001)

    def inner(error):
        return pd.DataFrame([{"dim": 1, "loss": name, "n": 100, "relative_error": error,
                              "region_agreement": 0.95 if name.startswith("hinge") else None}
                             for name in optimum.loss])
    tables = {"optimum_check": optimum, "outer_loop": outer[0].reset_index(),
              "renyi_bias": theory.renyi_bias(P, THETA, 2.0, [8, 512], 2000, 0),
              "formula_checks": theory.formula_checks(P, THETA, 3.0, 10.0)}
    good = theory.claims({**tables, "inner_loop_1d": inner(0.1)}, tol).set_index("claim").verdict
    bad = theory.claims({**tables, "inner_loop_1d": inner(0.5)}, tol).set_index("claim").verdict
    first = "logistic: the optimal discrepancy is s* = log q/p (a difference of energies)"
    assert good[first] == "supported" and bad[first] == "refuted"
    assert good["lsif + identity: E_Q s* = integral Q^2 P"] == "refuted"
    assert good["logistic + f = softplus recovers the GAN that minimises Jensen-Shannon"] == "refuted"
    assert good["the minibatch Monte Carlo estimate of the Renyi divergence is biased"] == "supported"
