"""The generator's entropy, estimated from its own batch: the calibrated EBGAN's regulariser (Dai, Almahairi,
Bachman, Hovy, Courville, "Calibrating Energy-based Generative Adversarial Networks", ICLR 2017).

With the generator loss E_Q f(s) - w H(Q) and f the identity, the generator's optimum for a fixed s is
q ∝ exp(-s / w) (the Gibbs distribution: minimise E_Q s - w H(Q) over densities); at an equilibrium where
q = p this makes s = -w log p + c = w E_P + c: the discriminator is the data's energy. The entropy is taken
with the Kozachenko-Leonenko nearest-neighbour estimate, differentiable in the samples.
"""

from __future__ import annotations

import math

import torch

EULER_GAMMA = 0.5772156649015329  # -psi(1)


def nearest_neighbour_entropy(x: torch.Tensor) -> torch.Tensor:
    """H of each run's batch x [K, N, D] (N >= 2 samples in D dimensions), in nats: d E log rho + log V_d +
    psi(N) - psi(1), rho a sample's distance to its nearest other sample and V_d the unit ball's volume."""
    k, n, d = x.shape
    distances = torch.cdist(x, x).square()  # squared, then one log: the gradient at rho = 0 stays finite
    distances = distances + torch.diag(torch.full((n,), math.inf, dtype=x.dtype, device=x.device))
    log_rho = 0.5 * distances.min(-1).values.clamp_min(1e-24).log()
    log_ball = (d / 2) * math.log(math.pi) - math.lgamma(d / 2 + 1)
    psi_n = torch.special.digamma(torch.tensor(float(n), dtype=torch.float64)).item()
    return d * log_rho.mean(-1) + log_ball + psi_n + EULER_GAMMA
