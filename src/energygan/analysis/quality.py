"""Does a run work? Whether its discriminator is alive, beside the quality floor of its samples.

A verdict drawn from runs that did not train is no verdict, so every scoring job marks each run:
- `works`: its samples clear the config's `evaluation.quality_floor` for its dataset's scorer
  (energygan.analysis.scorers: all ten digits and an inception score of at least a fraction of real
  digits'; most modes covered and most samples near a mode; an FID bound on colour images);
- `d_dead`: its discriminator's s is (nearly) one value on held-out data, on its own samples and on
  uniform noise alike, its spread below `evaluation.discriminator.dead_below` of the loss's scale (the
  margin m for a margin loss, 1 otherwise). A D that is flat on the data at equilibrium (EBGAN's Theorem
  2) still differs off it, on noise, and is not dead; a saturated one (softplus far below 0 everywhere,
  its gradients vanished) is flat everywhere.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from energygan.registry import parse

if TYPE_CHECKING:
    import torch
# torch is imported where a discriminator is checked: the summary and the DAG read CHECKS without it


def loss_scale(loss) -> float:
    """The scale a discriminator's spread is measured in: the margin m of a margin loss, else 1."""
    name, params = parse(loss)
    return float(params.get("margin", 1.0)) if name == "hinge" else 1.0


CHECKS = ("s_data", "s_samples", "s_spread", "s_gradient", "d_dead")  # what discriminator_checks measures


def discriminator_checks(discrepancy, data: torch.Tensor, samples: torch.Tensor, noise: torch.Tensor,
                         scale: float, dead_below: float) -> dict:
    """s on held-out data, on the run's samples and on uniform noise (each [N, *shape], in the generator's
    range): the means on data and samples, the spread (std over the three pooled) in units of `scale`,
    whether D is dead (spread below `dead_below`), and the mean norm of the input gradient of s at the
    samples, in units of `scale` (what the generator's step follows)."""
    import torch
    with torch.no_grad():
        s = [discrepancy(x).double() for x in (data, samples, noise)]
    pooled = torch.cat(s)
    spread = pooled.std().item() / scale if torch.isfinite(pooled).all() else math.nan
    x = samples.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        gradient, = torch.autograd.grad(discrepancy(x).sum(), x)
    return {"s_data": s[0].mean().item(), "s_samples": s[1].mean().item(), "s_spread": spread,
            "s_gradient": gradient.flatten(1).norm(dim=1).mean().item() / scale,
            "d_dead": bool(spread < dead_below) if math.isfinite(spread) else False}
