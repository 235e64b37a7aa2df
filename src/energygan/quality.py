"""Does a run work? The quality floor of its samples, per scorer, and whether its discriminator is alive.

A verdict drawn from runs that did not train is no verdict, so every scoring job marks each run:
- `works`: its samples clear the config's `evaluation.quality_floor` for its dataset's scorer (all ten
  digits and an inception score of at least a fraction of real digits'; most modes covered and most
  samples near a mode; an FID bound on colour images);
- `d_dead`: its discriminator's s is (nearly) one value on held-out data, on its own samples and on
  uniform noise alike, its spread below `evaluation.discriminator.dead_below` of the loss's scale (the
  margin m for a margin loss, 1 otherwise). A D that is flat on the data at equilibrium (EBGAN's Theorem
  2) still differs off it, on noise, and is not dead; a saturated one (softplus far below 0 everywhere,
  its gradients vanished) is flat everywhere.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .registry import parse

if TYPE_CHECKING:
    import torch
# torch is imported where a discriminator is checked: the summary and the DAG read CHECKS without it

SCORERS = ("classifier", "density", "fidelity")  # energygan.datasets' scorers, each with a floor here


def works(scorer: str, scores: dict, floor: dict, reference: dict) -> bool:
    """Whether `scores` (energygan.evaluation's for this scorer) clear the floor; False where a score is
    missing or not finite (a diverged run). `reference`: real digits' `inception_score` (classifier), the
    mixture's number of `modes` (density)."""
    if scorer == "classifier":
        classes, inception = scores.get("classes_covered", math.nan), scores.get("inception_score", math.nan)
        return bool(classes >= floor["min_classes"]
                    and inception >= floor["min_inception_of_real"] * reference["inception_score"])
    if scorer == "density":
        covered, share = scores.get("modes_covered", math.nan), scores.get("high_quality_share", math.nan)
        return bool(covered >= floor["min_modes_share"] * reference["modes"] and share >= floor["min_high_quality_share"])
    if scorer == "fidelity":
        return bool(scores.get("fid", math.nan) <= floor["max_fid"])
    raise ValueError(f"unknown scorer {scorer!r}; known: {list(SCORERS)}")


def describe(scorer: str, floor: dict) -> str:
    """The floor in words, for tables and figure titles."""
    if scorer == "classifier":
        return (f"works: >= {floor['min_classes']} digit classes covered and inception score >= "
                f"{floor['min_inception_of_real']:g} x real digits'")
    if scorer == "density":
        return (f"works: >= {floor['min_modes_share']:.0%} of the modes covered and >= "
                f"{floor['min_high_quality_share']:.0%} of samples within 3 std of a mode")
    return f"works: FID <= {floor['max_fid']:g}"


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
