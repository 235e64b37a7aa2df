import math

import pytest

from energygan.theory import divergences as dv
from energygan.theory import outer

from tests.theory.conftest import THETA, P


def grad_kl_normal(mq, sq, mp=0.0, sp=1.0):
    """d/d(mq, sq) of KL(N(mq, sq^2) || N(mp, sp^2)), differentiated by hand."""
    return (mq - mp) / sp ** 2, -1 / sq + sq / sp ** 2


def fd(func, h=1e-5):
    mu, sigma = THETA
    return ((func(mu + h, sigma) - func(mu - h, sigma)) / (2 * h),
            (func(mu, sigma + h) - func(mu, sigma - h)) / (2 * h))


def test_logistic_identity_is_kl_value_and_gradient(outer_table):
    row = outer_table[0].loc["logistic", "identity", "optimal"]
    assert row.value_quadrature == pytest.approx(dv.kl_normal(*THETA, 0.0, 1.0), abs=1e-9)
    assert (row.grad_mu, row.grad_sigma) == pytest.approx(grad_kl_normal(*THETA), abs=1e-7)
    assert abs(row.value_mc - row.value_quadrature) < 4 * row.value_mc_se


def test_lsif_identity_gradient_is_half_the_chi2_gradient(outer_table):
    row = outer_table[0].loc["lsif", "identity", "optimal"]
    chi2 = lambda m, s: math.exp(dv.renyi_normal(2, m, s, 0.0, 1.0)) - 1
    assert row.value_quadrature == pytest.approx(1 + chi2(*THETA), abs=1e-9)
    assert (row.grad_mu, row.grad_sigma) == pytest.approx(tuple(0.5 * g for g in fd(chi2)), abs=1e-6)


def test_lsif_power_gradient_is_a_third_of_the_renyi_moment_gradient(outer_table):
    row = outer_table[0].loc["lsif", "power_alpha3", "optimal"]
    moment = lambda m, s: math.exp(2 * dv.renyi_normal(3, m, s, 0.0, 1.0))
    assert row.value_quadrature == pytest.approx(moment(*THETA), abs=1e-8)
    assert (row.grad_mu, row.grad_sigma) == pytest.approx(tuple(g / 3 for g in fd(moment)), abs=1e-6)


def test_hinge_gradient_vanishes_at_the_optimum_but_not_for_a_learned_s(outer_table):
    table = outer_table[0]
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
    phi = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))
    mass = phi((hi - mq) / sq) - phi((lo - mq) / sq)
    assert table.loc["hinge_margin10", "identity", "optimal"].value_quadrature == pytest.approx(10 * mass, abs=1e-3)


def test_logistic_power_is_reported_undefined(outer_table):
    assert outer_table[0].loc["logistic", "power_alpha3", "optimal"].divergence.startswith("undefined")


def test_renyi_bias_negative_at_small_batches_and_vanishing():
    table = outer.renyi_bias(P, THETA, 2.0, [4, 4096], 4000, 0)
    small, large = table.iloc[0], table.iloc[1]
    assert small.bias < -4 * small.bias_se  # log of a mean: biased low (Jensen)
    assert abs(large.bias) < 4 * large.bias_se + 1e-3
    assert abs(small.moment_bias) < 4 * small.moment_bias_se  # the mean itself is unbiased
