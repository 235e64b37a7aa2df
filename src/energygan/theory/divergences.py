"""Divergences between 1D densities: closed forms for Gaussians, quadrature on a grid otherwise.

Densities are torch.distributions objects (float64); quadrature is the trapezoid rule on a grid wide
enough that the tails carry no mass worth counting.
"""

from __future__ import annotations

import math

import torch
from torch.distributions import Distribution

LOG2 = math.log(2.0)


def grid(lo: float = -15.0, hi: float = 15.0, points: int = 60_001) -> torch.Tensor:
    return torch.linspace(lo, hi, points, dtype=torch.float64)


def integrate(values: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return torch.trapezoid(values, x)


def densities(p: Distribution, q: Distribution, x: torch.Tensor):
    return p.log_prob(x).exp(), q.log_prob(x).exp()


def kl(q: Distribution, p: Distribution, x: torch.Tensor) -> torch.Tensor:
    """KL(Q || P) = E_Q log q/p."""
    return integrate(q.log_prob(x).exp() * (q.log_prob(x) - p.log_prob(x)), x)


def _log_mixture(p: Distribution, q: Distribution, x: torch.Tensor) -> torch.Tensor:
    """log m, m = (p + q) / 2, in log space so that tails that underflow stay finite."""
    return torch.logaddexp(p.log_prob(x), q.log_prob(x)) - LOG2


def kl_to_mixture(q: Distribution, p: Distribution, x: torch.Tensor) -> torch.Tensor:
    """KL(Q || M), M = (P + Q) / 2."""
    log_q = q.log_prob(x)
    return integrate(log_q.exp() * (log_q - _log_mixture(p, q, x)), x)


def js(p: Distribution, q: Distribution, x: torch.Tensor) -> torch.Tensor:
    """Jensen-Shannon divergence (natural log, in [0, log 2])."""
    return (kl_to_mixture(p, q, x) + kl_to_mixture(q, p, x)) / 2


def tv(p: Distribution, q: Distribution, x: torch.Tensor) -> torch.Tensor:
    """Total variation sup_A |P(A) - Q(A)| = (1/2) integral |p - q|."""
    pd, qd = densities(p, q, x)
    return integrate((pd - qd).abs(), x) / 2


def chi2(q: Distribution, p: Distribution, x: torch.Tensor) -> torch.Tensor:
    """Pearson chi^2(Q || P) = integral q^2/p - 1."""
    return integrate(torch.exp(2 * q.log_prob(x) - p.log_prob(x)), x) - 1


def renyi(alpha: float, q: Distribution, p: Distribution, x: torch.Tensor) -> torch.Tensor:
    """Renyi divergence of order alpha: log(integral q^alpha p^(1 - alpha)) / (alpha - 1)."""
    log_integrand = alpha * q.log_prob(x) + (1 - alpha) * p.log_prob(x)
    return torch.log(integrate(log_integrand.exp(), x)) / (alpha - 1)


def triangular(p: Distribution, q: Distribution, x: torch.Tensor) -> torch.Tensor:
    """Triangular discrimination (Vincze-Le Cam) integral (p - q)^2 / (p + q)."""
    pd, qd = densities(p, q, x)
    total = pd + qd
    return integrate(torch.where(total > 0, (pd - qd) ** 2 / total, torch.zeros_like(total)), x)


# --- Gaussian closed forms (independent of the quadrature above; the tests compare the two) ---

def kl_normal(mq: float, sq: float, mp: float, sp: float) -> float:
    """KL(N(mq, sq^2) || N(mp, sp^2))."""
    return math.log(sp / sq) + (sq ** 2 + (mq - mp) ** 2) / (2 * sp ** 2) - 0.5


def renyi_normal(alpha: float, mq: float, sq: float, mp: float, sp: float) -> float:
    """D_alpha(N(mq, sq^2) || N(mp, sp^2)); finite while alpha sp^2 + (1 - alpha) sq^2 > 0."""
    var = alpha * sp ** 2 + (1 - alpha) * sq ** 2
    if var <= 0:
        return math.inf
    return (alpha * (mq - mp) ** 2 / (2 * var)
            - math.log(var / (sq ** (2 * (1 - alpha)) * sp ** (2 * alpha))) / (2 * (alpha - 1)))


def tv_normal_equal_scale(mq: float, mp: float, s: float) -> float:
    """TV between two Gaussians of equal scale: 2 Phi(|mq - mp| / 2s) - 1."""
    return math.erf(abs(mq - mp) / (2 * s) / math.sqrt(2))
