"""Discriminator losses of the inner loop: L(s) = E_P l1(s(x)) + E_Q l2(s(x)).

Convention (shared/reference/framework.md): s is HIGH on fake samples (Q) and LOW on real ones (P).
Each loss gives the elementwise penalties `real` (l1) and `fake` (l2), and `optimum(p, q)`: the
pointwise minimiser of p l1(s) + q l2(s), from density values. Rules where the minimiser is not unique
or infinite: p = q = 0 gives NaN (no mass, s is unconstrained); the hinge at p = q returns 0 (every
value in [0, m] is optimal; 0 is EBGAN's "flat energy surface" at its lowest).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from energygan.registry import Registry

# names and parameters without torch (the config is checked against them before any job starts); torch where a
# loss is computed. A loss is a class with `real(s)`, `fake(s)`, `optimum(p, q)` and its `domain` of s.
REGISTRY = Registry("loss", required=("real", "fake", "optimum", "domain"),
                    why="every loss states its penalties l1 (real) and l2 (fake), the domain of s, and its closed-form "
                        "optimum s*(p, q), which the theory checks against a dense search")
make, names = REGISTRY.make, REGISTRY.names


def _densities(p, q):
    import torch
    return torch.as_tensor(p, dtype=torch.float64), torch.as_tensor(q, dtype=torch.float64)


def _undefined_where_no_mass(s, p, q):
    import torch
    return torch.where((p == 0) & (q == 0), torch.full_like(s, float("nan")), s)


def _softplus(s):
    from torch.nn.functional import softplus
    return softplus(s)


@REGISTRY.register("logistic")
@dataclass(frozen=True)
class Logistic:
    """The original GAN's logistic regression; s is the logit of 'fake'. s* = log q/p."""
    name = "logistic"
    domain = "real"

    def real(self, s):
        return _softplus(s)

    def fake(self, s):
        return _softplus(-s)

    def optimum(self, p, q):
        p, q = _densities(p, q)
        return _undefined_where_no_mass(q.log() - p.log(), p, q)


@REGISTRY.register("lsif")
@dataclass(frozen=True)
class LSIF:
    """Least-squares importance fitting (Kanamori et al. 2009). s* = q/p."""
    name = "lsif"
    domain = "real"

    def real(self, s):
        return s ** 2

    def fake(self, s):
        return -2 * s

    def optimum(self, p, q):
        p, q = _densities(p, q)
        return _undefined_where_no_mass(q / p, p, q)


@REGISTRY.register("hinge")
@dataclass(frozen=True)
class Hinge:
    """EBGAN's margin loss on an energy s >= 0: l1 = s, l2 = max(0, m - s). s* = m 1[q > p]."""
    margin: float = 10.0
    name = "hinge"
    domain = "nonnegative"

    def __post_init__(self):
        if not self.margin > 0:
            raise ValueError(f"hinge: margin must be > 0, got {self.margin}")

    def real(self, s):
        return s

    def fake(self, s):
        return (self.margin - s).clamp_min(0)

    def optimum(self, p, q):
        p, q = _densities(p, q)
        return _undefined_where_no_mass(self.margin * (q > p).to(p.dtype), p, q)


@REGISTRY.register("least_squares")
@dataclass(frozen=True)
class LeastSquares:
    """LSGAN's least squares with targets 0 (real) and 1 (fake). s* = q / (p + q)."""
    name = "least_squares"
    domain = "real"

    def real(self, s):
        return s ** 2

    def fake(self, s):
        return (s - 1) ** 2

    def optimum(self, p, q):
        p, q = _densities(p, q)
        return _undefined_where_no_mass(q / (p + q), p, q)


@REGISTRY.register("linear")
@dataclass(frozen=True)
class Linear:
    """The calibrated EBGAN's discriminator loss (Dai et al. 2017, their 2D code): E_P s - E_Q s on a signed
    s, each fake term clipped at the margin m (l2 = -min(s, m); no clipping where m is infinite, the
    default), and a penalty lambda s^2 on real data (`real_penalty`) that holds s's level where the linear
    terms leave it free. s* = min(m, (q/p - 1) / (2 lambda)) for lambda > 0. Without the penalty the optimum
    is m where q > p and -inf where q < p (every s <= m ties where q = p: returned as m)."""
    margin: float = math.inf
    real_penalty: float = 0.0
    name = "linear"
    domain = "real"

    def __post_init__(self):
        if not (self.margin > 0 and self.real_penalty >= 0):
            raise ValueError("linear: margin must be > 0 and real_penalty >= 0, "
                             f"got {self.margin}, {self.real_penalty}")

    def real(self, s):
        return s + self.real_penalty * s ** 2 if self.real_penalty else s

    def fake(self, s):
        return -s.clamp(max=self.margin) if math.isfinite(self.margin) else -s

    def optimum(self, p, q):
        p, q = _densities(p, q)
        if self.real_penalty:
            s = ((q / p - 1) / (2 * self.real_penalty)).clamp(max=self.margin)
        else:
            import torch
            s = torch.where(q >= p, torch.full_like(p, self.margin), torch.full_like(p, -math.inf))
        return _undefined_where_no_mass(s, p, q)
