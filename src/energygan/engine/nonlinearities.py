"""Generator nonlinearities of the outer loop: the generator minimises E_Q f(s(x)), s held fixed.

With D_real = sigmoid(-s) the probability of 'real', f = softminus gives the minimax GAN generator
loss E_Q log(1 - D_real) and f = softplus the non-saturating -E_Q log D_real.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F

from energygan.registry import Registry

REGISTRY = Registry("nonlinearity")
make, names = REGISTRY.make, REGISTRY.names


@REGISTRY.register("identity")
@dataclass(frozen=True)
class Identity:
    domain = "real"

    def __call__(self, s):
        return s


@REGISTRY.register("softplus")
@dataclass(frozen=True)
class Softplus:
    """log(1 + e^s)."""
    domain = "real"

    def __call__(self, s):
        return F.softplus(s)


@REGISTRY.register("softminus")
@dataclass(frozen=True)
class Softminus:
    """-softplus(-s) = log sigmoid(s)."""
    domain = "real"

    def __call__(self, s):
        return -F.softplus(-s)


@REGISTRY.register("power")
@dataclass(frozen=True)
class Power:
    """s^(alpha - 1) on s > 0; with s* = q/p, E_Q f(s*) = exp((alpha - 1) D_alpha(Q || P)).

    alpha > 1 keeps f increasing, so that lowering E_Q f(s) lowers the divergence.
    """
    alpha: float = 3.0
    domain = "positive"

    def __post_init__(self):
        if not self.alpha > 1:
            raise ValueError(f"power: alpha must be > 1 (f increasing), got {self.alpha}")

    def __call__(self, s):
        return s ** (self.alpha - 1)
