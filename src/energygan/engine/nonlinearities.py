"""Generator nonlinearities of the outer loop: the generator minimises E_Q f(s(x)), s held fixed.

With D_real = sigmoid(-s) the probability of 'real', f = softminus gives the minimax GAN generator
loss E_Q log(1 - D_real) and f = softplus the non-saturating -E_Q log D_real.
"""

from __future__ import annotations

from dataclasses import dataclass

from energygan.registry import Registry

# names and parameters without torch (the config is checked against them before any job starts); torch where f is
# computed. A nonlinearity is a callable class with the `domain` of s it needs.
REGISTRY = Registry("nonlinearity", required=("__call__", "domain"),
                    why="every nonlinearity f is called on s and states the domain of s it needs")
make, names = REGISTRY.make, REGISTRY.names


def _softplus(s):
    from torch.nn.functional import softplus
    return softplus(s)


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
        return _softplus(s)


@REGISTRY.register("softminus")
@dataclass(frozen=True)
class Softminus:
    """-softplus(-s) = log sigmoid(s)."""
    domain = "real"

    def __call__(self, s):
        return -_softplus(-s)


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
