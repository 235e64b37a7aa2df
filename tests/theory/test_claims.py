
import pandas as pd

from energygan.theory import claims, formulas, inner, outer

from tests.theory.conftest import LOSSES, THETA, P


def test_claim_verdicts_follow_the_numbers(outer_table):
    tol = {"optimum_abs": 1e-3, "inner_relative_error": 0.3, "hinge_region_agreement": 0.9, "value_abs": 1e-3,
           "gradient_abs": 1e-4, "gradient_cosine": 0.999, "mc_z": 4, "bias_z": 4, "non_saturating_slope": 0.5}
    optimum = inner.optimum_check(LOSSES, points=120_001)

    def inner_table(error):
        return pd.DataFrame([{"dim": 1, "loss": name, "n": 100, "relative_error": error,
                              "region_agreement": 0.95 if name.startswith("hinge") else None}
                             for name in optimum.loss])
    tables = {"optimum_check": optimum, "outer_loop": outer_table[0].reset_index(),
              "renyi_bias": outer.renyi_bias(P, THETA, 2.0, [8, 512], 2000, 0),
              "formula_checks": formulas.formula_checks(P, THETA, 3.0, 10.0)}
    good = claims.claims({**tables, "inner_loop_1d": inner_table(0.1)}, tol).set_index("claim").verdict
    bad = claims.claims({**tables, "inner_loop_1d": inner_table(0.5)}, tol).set_index("claim").verdict
    first = "logistic: the optimal discrepancy is s* = log q/p (a difference of energies)"
    assert good[first] == "supported" and bad[first] == "refuted"
    assert good["lsif + identity: E_Q s* = integral Q^2 P"] == "refuted"
    assert good["logistic + f = softplus recovers the GAN that minimises Jensen-Shannon"] == "refuted"
    assert good["the minibatch Monte Carlo estimate of the Renyi divergence is biased"] == "supported"
