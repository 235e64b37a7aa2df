"""A loss of one's own, through the whole pipeline without editing energygan: the Pearson chi-square f-GAN
(Nowozin, Cseke, Tomioka 2016), in energygan's convention (s high on fake samples).

The f-GAN critic T maximises E_P T - E_Q f*(T) with f*(t) = t^2/4 + t for f(u) = (u - 1)^2; with s = -T the
discriminator minimises E_P l1(s) + E_Q l2(s) with l1(s) = s and l2(s) = s^2/4 - s. Pointwise,
p l1(s) + q l2(s) is least where p + q (s/2 - 1) = 0: s* = 2 (1 - p/q) (-inf where q = 0 < p: s is pushed down
without bound where only real data lie). None of the built-in losses is this one: LSIF's s* = q/p, least
squares' q/(p + q). At s*, -min L = chi2(P || Q) = integral (p - q)^2 / q, which the generator with the minimax
f = -l2 descends (the envelope theorem, which the theory checks judge).

Loaded by `plugins: [pearson_chi2.py]` in this folder's config (or `plugins: [path/to/pearson_chi2.py]`).
"""

from __future__ import annotations

from dataclasses import dataclass

from energygan.engine import losses, nonlinearities


@losses.REGISTRY.register("pearson_chi2")
@dataclass(frozen=True)
class PearsonChi2:
    name = "pearson_chi2"
    domain = "real"  # s takes either sign: the network's output as it is

    def real(self, s):
        return s

    def fake(self, s):
        return s * s / 4 - s

    def optimum(self, p, q):
        """The claimed s*(p, q): the theory checks it against a dense search and a learned s."""
        import torch
        p, q = (torch.as_tensor(v, dtype=torch.float64) for v in (p, q))
        s = 2 * (1 - p / q)
        return torch.where((p == 0) & (q == 0), torch.full_like(s, float("nan")), s)


@nonlinearities.REGISTRY.register("pearson_minimax")
@dataclass(frozen=True)
class PearsonMinimax:
    """The f-GAN generator's own f = -l2 = s - s^2/4: with s held at s*, its gradient is that of chi2(P || Q)."""
    domain = "real"

    def __call__(self, s):
        return s - s * s / 4
