import math

import pytest
import torch
from scipy.spatial.distance import jensenshannon
from torch.distributions import Normal

from energygan.theory import divergences as dv

X = dv.grid()


def normal(m, s):
    return Normal(torch.tensor(m, dtype=torch.float64), torch.tensor(s, dtype=torch.float64))


@pytest.mark.parametrize("q, p", [((0.7, 0.8), (0.0, 1.0)), ((-1.0, 2.0), (0.5, 1.5))])
def test_kl_quadrature_matches_closed_form(q, p):
    # closed form written out here: log(sp/sq) + (sq^2 + (mq - mp)^2) / (2 sp^2) - 1/2
    expected = math.log(p[1] / q[1]) + (q[1] ** 2 + (q[0] - p[0]) ** 2) / (2 * p[1] ** 2) - 0.5
    assert dv.kl(normal(*q), normal(*p), X).item() == pytest.approx(expected, abs=1e-9)
    assert dv.kl_normal(*q, *p) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("alpha", [0.5, 1.5, 2.0, 3.0])
def test_renyi_quadrature_matches_closed_form(alpha):
    q, p = normal(0.7, 0.8), normal(0.0, 1.0)
    assert dv.renyi(alpha, q, p, X).item() == pytest.approx(dv.renyi_normal(alpha, 0.7, 0.8, 0.0, 1.0), abs=1e-9)


def test_renyi_tends_to_kl():
    assert dv.renyi_normal(1 + 1e-6, 0.7, 0.8, 0.0, 1.0) == pytest.approx(dv.kl_normal(0.7, 0.8, 0.0, 1.0), abs=1e-5)


def test_chi2_is_exp_renyi2_minus_1():
    q, p = normal(0.7, 0.8), normal(0.0, 1.0)
    assert dv.chi2(q, p, X).item() == pytest.approx(math.exp(dv.renyi_normal(2, 0.7, 0.8, 0.0, 1.0)) - 1, abs=1e-9)


def test_tv_equal_scales_closed_form():
    # TV(N(a, s^2), N(b, s^2)) = 2 Phi(|a - b| / 2s) - 1
    expected = 2 * 0.5 * (1 + math.erf(1.2 / (2 * 0.9) / math.sqrt(2))) - 1
    assert dv.tv(normal(0.0, 0.9), normal(1.2, 0.9), X).item() == pytest.approx(expected, abs=1e-7)


def test_js_properties():
    p, q = normal(0.0, 1.0), normal(0.7, 0.8)
    assert dv.js(p, p, X).item() == pytest.approx(0.0, abs=1e-12)
    assert dv.js(p, q, X).item() == pytest.approx(dv.js(q, p, X).item(), abs=1e-12)
    far = dv.js(normal(-20.0, 0.5), normal(20.0, 0.5), torch.linspace(-40, 40, 200_001, dtype=torch.float64))
    assert far.item() == pytest.approx(math.log(2), abs=1e-6)
    # an independent implementation: scipy's Jensen-Shannon distance on the discretised densities
    weights = [d.log_prob(X).exp().numpy() for d in (p, q)]
    assert dv.js(p, q, X).item() == pytest.approx(jensenshannon(*weights) ** 2, abs=1e-6)


def test_triangular_bounds():
    p = normal(0.0, 1.0)
    assert dv.triangular(p, p, X).item() == pytest.approx(0.0, abs=1e-12)
    far = dv.triangular(normal(-20.0, 0.5), normal(20.0, 0.5), torch.linspace(-40, 40, 200_001, dtype=torch.float64))
    assert far.item() == pytest.approx(2.0, abs=1e-6)
