import math

import pytest

from energygan.theory import formulas

from tests.theory.conftest import THETA, P


def test_formula_checks_against_hand_numbers():
    table = formulas.formula_checks(P, THETA, 3.0, 10.0).set_index("check")
    typo = table.iloc[0]
    # integral q^2 p for Gaussians, by hand: a product of three normal densities integrated
    mq, sq = THETA
    prec = 2 / sq ** 2 + 1
    mean_term = 2 * mq / sq ** 2
    const = math.exp(mean_term ** 2 / (2 * prec) - mq ** 2 / sq ** 2) * math.sqrt(2 * math.pi / prec)
    assert typo.as_written == pytest.approx(const / ((2 * math.pi) ** 1.5 * sq ** 2), rel=1e-8)
    sign = table.iloc[2]
    assert sign.as_written == pytest.approx(math.log(0.3 / 1.1), abs=1e-4)
