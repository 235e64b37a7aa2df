"""How a network's output becomes the discrepancy s: non-negative or positive where the loss or f needs it,
and an autoencoder's energy of its reconstruction error. Names only at import (no torch): the config is
checked against them before any job starts (energygan.engine.architectures.problems).
"""

from __future__ import annotations


def _softplus(u):
    from torch.nn.functional import softplus  # torch only when a network runs
    return softplus(u)


# How a network's real output u becomes s >= 0 where the loss needs it (the hinge: `setup.nonnegative_s`), or
# s > 0 where only f does (the power f: `setup.positive_s`). softplus(u) saturates: once u is far below 0 on
# every input, s and its gradients vanish there and the discriminator is dead (measured: all 4 hinge Ds on
# ring8 and 1 of 4 on MNIST, whose other 3 hinge runs scored IS 1.0 too). u^2 and |u| reach 0 at u = 0 with a
# gradient that does not vanish as |u| grows, but their
# zero set is a surface: a generator minimising the power f's s^(alpha - 1) collapsed onto it (ring8: LSIF /
# power 1 mode of 8 with u^2, 7 with softplus). Every positive optimum is reachable with each.
NONNEGATIVE = {"softplus": _softplus, "square": lambda u: u.square(), "abs": lambda u: u.abs()}


def nonnegative(u, how: str):
    if how not in NONNEGATIVE:
        raise ValueError(f"unknown parametrisation of s >= 0 {how!r}; known: {sorted(NONNEGATIVE)}")
    return NONNEGATIVE[how](u)


# An autoencoder's energy from its reconstruction error e = Dec(Enc(x)) - x, flattened [K, B, D]:
# `mean_squared` is the blog's "mean-squared reconstruction error"; `l2_norm` is EBGAN's D(x) = ||e|| as the
# paper writes it (its appendix, with the scale its margins are on, is not available offline).
ENERGIES = {"mean_squared": lambda e: (e * e).mean(-1),
            "l2_norm": lambda e: (e * e).sum(-1).clamp_min(1e-12).sqrt()}  # clamped: no 0/0 in the gradient


def reconstruction_energy(error, energy: str):
    if energy not in ENERGIES:
        raise ValueError(f"unknown energy {energy!r}; known: {sorted(ENERGIES)}")
    return ENERGIES[energy](error)


def needs_positive(loss, nonlinearity=None) -> bool:
    return loss.domain != "real" or (nonlinearity is not None and nonlinearity.domain != "real")


def parametrisation(loss, nonlinearity, nonnegative_s: str, positive_s: str) -> str | None:
    """How a run's s is made non-negative (a name in NONNEGATIVE), or None where s is the net's output."""
    if loss.domain != "real":
        return nonnegative_s
    return positive_s if nonlinearity.domain != "real" else None
