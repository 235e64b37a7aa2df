"""The blog's suspect formulas, computed beside what they should be (`formula_checks`)."""

from __future__ import annotations

import math

import pandas as pd
import torch

from energygan.engine import losses as losses_mod
from energygan.engine import nonlinearities as nl_mod
from energygan.theory import divergences as dv
from energygan.theory.distributions import F64, gaussian, normal

# --- 5. formula checks: the blog's suspect formulas, computed -----------------------------------

def formula_checks(p: dict, theta: list, alpha: float, margin: float) -> pd.DataFrame:
    """Each row: a quantity as the blog writes it, the same quantity as derived, both computed."""
    P, Q = normal(p), gaussian(*theta)
    x = dv.grid()
    pd_, qd = dv.densities(P, Q, x)
    e_q_ratio = dv.integrate(qd * qd / pd_, x).item()
    renyi_a = dv.renyi_normal(alpha, *theta, p["loc"], p["scale"])
    renyi_a_minus_1 = dv.renyi_normal(alpha - 1, *theta, p["loc"], p["scale"])
    blog_power = dv.integrate(qd * (qd / pd_) ** (alpha - 2), x).item()
    derived_power = dv.integrate(qd * (qd / pd_) ** (alpha - 1), x).item()
    s = torch.linspace(-15, 15, 300_001, dtype=F64)
    p0, q0 = 0.3, 1.1  # one (p, q) pair; the blog's objective maximised over s
    blog_objective = p0 * nl_mod.make("softminus")(s) - q0 * nl_mod.make("softplus")(s)
    hinge = losses_mod.make({"name": "hinge", "margin": margin})
    flat_s = torch.linspace(0, margin, 1001, dtype=F64)
    flat = 0.7 * hinge.real(flat_s) + 0.7 * hinge.fake(flat_s)
    d = 5.0  # s where the discriminator confidently calls a sample fake
    slope = {name: torch.func.grad(nl_mod.make(name))(torch.tensor(d, dtype=F64)).item()
             for name in ("softplus", "softminus")}
    d_real = torch.sigmoid(-s)
    s_star = hinge.optimum(pd_, qd)
    hinge_minimum = dv.integrate(pd_ * hinge.real(s_star) + qd * hinge.fake(s_star), x).item()
    return pd.DataFrame([
        {"check": "E_Q[q/p] (the blog's integral Q^2 P)", "as_written": dv.integrate(qd * qd * pd_, x).item(),
         "as_derived": e_q_ratio, "reference": 1 + dv.chi2(Q, P, x).item(),
         "reference_name": "1 + chi2(Q||P)"},
        {"check": f"E_Q r^(alpha-2), alpha={alpha:g} (the blog's f = x^(alpha-2))", "as_written": blog_power,
         "as_derived": derived_power, "reference": math.exp((alpha - 1) * renyi_a),
         "reference_name": f"exp((alpha-1) D_alpha), alpha={alpha:g}",
         "alternative": math.exp((alpha - 2) * renyi_a_minus_1),
         "alternative_name": f"exp((alpha-2) D_(alpha-1)): Renyi of order {alpha - 1:g}"},
        {"check": "argmax_s of the blog's L(s) = E_P softminus(s) - E_Q softplus(s), p=0.3, q=1.1",
         "as_written": s[blog_objective.argmax()].item(), "as_derived": math.log(q0 / p0),
         "reference": math.log(q0 / p0), "reference_name": "s* = log q/p (the blog's own)",
         "alternative": math.log(p0 / q0), "alternative_name": "log p/q: s with the sign flipped"},
        {"check": "hinge objective at p = q over s in [0, m]: max - min (EBGAN Theorem 2)",
         "as_written": (flat.max() - flat.min()).item(), "as_derived": 0.0, "reference": 0.0,
         "reference_name": "flat: any s in [0, m] is optimal"},
        {"check": f"slope f'(s) at s={d:g} (non-saturating means slope stays near 1)",
         "as_written": slope["softminus"], "as_derived": slope["softplus"], "reference": 1.0,
         "reference_name": "as_written: softminus, as_derived: softplus"},
        {"check": "max over s of |softminus(s) - log(1 - D_real)| (written) and |softplus(s) + log D_real| "
                  "(derived), D_real = sigmoid(-s)",
         "as_written": (nl_mod.make("softminus")(s) - torch.log1p(-d_real)).abs().max().item(),
         "as_derived": (nl_mod.make("softplus")(s) + torch.log(d_real)).abs().max().item(),
         "reference": 0.0, "reference_name": "softminus: minimax loss; softplus: non-saturating loss"},
        {"check": f"hinge inner minimum L(s*) = E_P s* + E_Q max(0, m - s*), m={margin:g}",
         "as_written": hinge_minimum, "as_derived": margin * (1 - dv.tv(P, Q, x).item()),
         "reference": margin * (1 - dv.tv(P, Q, x).item()), "reference_name": "m (1 - TV(P, Q))"},
    ])
