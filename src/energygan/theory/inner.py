"""The inner loop with P and Q known: each loss's closed-form s* against a dense search of
p l1(s) + q l2(s) (`optimum_check`), and an MLP s trained from samples only against s* (`inner_loop`, 1D
and 2D Gaussian mixtures)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch

from energygan.analysis.statistics import weighted_relative_error
from energygan.engine import losses as losses_mod
from energygan.engine.models import Discrepancy, mlp
from energygan.engine.parametrisations import needs_positive
from energygan.registry import label, parse
from energygan.theory.distributions import F64, density, mixture

# --- 1. closed-form optimum against a dense search --------------------------------------------

def optimum_check(loss_specs: list, points: int = 600_001) -> pd.DataFrame:
    """Max |s* - argmin_s p l1(s) + q l2(s)| over a lattice of (p, q) with p != q, per loss."""
    values = torch.tensor([0.3, 0.5, 1.0, 2.0, 7.0], dtype=F64)  # q/p up to 23, log q/p from -3.2
    p, q = torch.meshgrid(values, values, indexing="ij")
    keep = p != q
    p, q = p[keep], q[keep]
    rows = []
    for spec in loss_specs:
        loss = losses_mod.make(spec)
        claimed = loss.optimum(p, q)
        # the search reaches past every finite claimed value, so that a claim is never judged at the grid's edge
        finite = claimed[torch.isfinite(claimed)]
        reach = max(30.0, finite.abs().max().item() + 1.0) if len(finite) else 30.0
        lo, hi = (0.0, 3 * getattr(loss, "margin", reach / 3)) if loss.domain == "nonnegative" else (-reach, reach)
        s = torch.linspace(lo, hi, points, dtype=F64)
        objective = p[:, None] * loss.real(s)[None] + q[:, None] * loss.fake(s)[None]
        searched = s[objective.argmin(dim=1)]
        step = (hi - lo) / (points - 1)
        rows.append({"loss": label(spec), "module": losses_mod.REGISTRY.origin(parse(spec)[0]), "pairs": len(p),
                     "max_abs_error": (searched - claimed).abs().max().item(), "grid_step": step})
    return pd.DataFrame(rows)


# --- 2. the inner loop from samples -----------------------------------------------------------

def fit_discrepancy(loss, x_real: torch.Tensor, x_fake: torch.Tensor, hidden: int, depth: int,
                    steps: int, lr: float, seed: int, weight_decay: float = 0.0) -> Discrepancy:
    """Minimise the empirical E_P l1(s) + E_Q l2(s) over an MLP s, full batch, AdamW.

    Trained in float32 for speed; returned in float64 for evaluation. Weight decay keeps s from
    growing without bound where few samples constrain it.
    """
    torch.manual_seed(seed)
    s = Discrepancy(mlp(x_real.shape[1], hidden, depth), positive=needs_positive(loss))
    x_real, x_fake = x_real.float(), x_fake.float()
    opt = torch.optim.AdamW(s.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(steps):
        opt.zero_grad()
        objective = loss.real(s(x_real)).mean() + loss.fake(s(x_fake)).mean()
        objective.backward()
        opt.step()
        schedule.step()
    return s.to(F64).eval()


def evaluation_grid(dim: int) -> torch.Tensor:
    if dim == 1:
        return torch.linspace(-6, 6, 1201, dtype=F64)[:, None]
    axis = torch.linspace(-5, 5, 101, dtype=F64)
    return torch.cartesian_prod(axis, axis)


@dataclass
class InnerLoopResult:
    table: pd.DataFrame
    grid: torch.Tensor
    p: torch.Tensor
    q: torch.Tensor
    learned: dict  # (loss label, n) -> s on the grid
    optimum: dict  # loss label -> s* on the grid


def inner_loop(pair: dict, loss_specs: list, sample_sizes: list, hidden: int, depth: int, steps: int,
               lr: float, weight_decay: float, seed: int) -> InnerLoopResult:
    P, Q = mixture(**pair["p"]), mixture(**pair["q"])
    dim = 1 if P.event_shape == () else P.event_shape[0]
    grid = evaluation_grid(dim)
    points = grid[:, 0] if dim == 1 else grid
    p, q = density(P, points), density(Q, points)
    weight = (p + q) / (p + q).sum()
    samples = {}
    for n in sample_sizes:  # the same samples for every loss
        torch.manual_seed(seed + n)
        samples[n] = P.sample((n,)).reshape(n, dim), Q.sample((n,)).reshape(n, dim)
    rows, learned, optimum = [], {}, {}
    for spec in loss_specs:
        loss, name = losses_mod.make(spec), label(spec)
        target = loss.optimum(p, q)
        optimum[name] = target
        for n, (x_real, x_fake) in samples.items():
            s = fit_discrepancy(loss, x_real, x_fake, hidden, depth, steps, lr, seed, weight_decay)
            with torch.no_grad():
                values = s(grid)
            learned[name, n] = values
            rmse = torch.sqrt((weight * (values - target) ** 2).sum()).item()
            row = {"dim": dim, "loss": name, "n": n, "weighted_rmse": rmse,
                   "relative_error": weighted_relative_error(values, target, weight)}
            if loss.domain == "nonnegative":  # the hinge: does s split the space where s* does?
                row["region_agreement"] = (weight * ((values > loss.margin / 2) == (q > p))).sum().item()
            rows.append(row)
    return InnerLoopResult(pd.DataFrame(rows), grid, p, q, learned, optimum)
