"""The outer loop with P and Q known: E_Q f(s*) and its pathwise gradient (s held fixed, gradient through
x = mu + sigma eps) by quadrature and Monte Carlo, against the divergence each (loss, f) pair is claimed to
minimise (`outer_loop`); a smooth hinge s learned from samples (`hinge_curves`); the bias of the minibatch
estimate of a Renyi divergence (`renyi_bias`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import torch

from energygan.engine import losses as losses_mod
from energygan.engine import nonlinearities as nl_mod
from energygan.engine.models import Discrepancy
from energygan.registry import label, parse
from energygan.theory import divergences as dv
from energygan.theory.distributions import F64, density, gaussian, normal
from energygan.theory.inner import fit_discrepancy

# --- 3. the outer loop ------------------------------------------------------------------------

@dataclass(frozen=True)
class Prediction:
    """What E_Q f(s*) is claimed to be, and which gradient it is claimed to follow.

    value(theta) is the claimed E_Q f(s*_theta); the pathwise gradient with s fixed is claimed to be
    factor * grad target(theta) (factor 0: the claim is that the gradient vanishes).
    """
    divergence: str
    value: Callable
    target: Callable
    factor: float


def predictions(P, margin: float, alpha_values: list) -> dict:
    """(loss label, f label) -> Prediction, from the identities of framework.md (derived there)."""
    x = dv.grid()

    def kl(Q): return dv.kl(Q, P, x)
    def jsd(Q): return dv.js(P, Q, x)
    def chi2(Q): return dv.chi2(Q, P, x)
    def tri(Q): return dv.triangular(P, Q, x)

    def q_mass_where_q_above_p(Q):
        pd_, qd = dv.densities(P, Q, x)
        return dv.integrate(qd * (qd > pd_), x)

    table = {
        ("logistic", "identity"): Prediction("KL(Q||P)", kl, kl, 1.0),
        ("logistic", "softminus"): Prediction(
            "JS(P,Q)", lambda Q: dv.kl_to_mixture(Q, P, x) - dv.LOG2, jsd, 2.0),
        ("logistic", "softplus"): Prediction(
            "KL(Q||P) - 2 JS(P,Q)", lambda Q: kl(Q) - dv.kl_to_mixture(Q, P, x) + dv.LOG2,
            lambda Q: kl(Q) - 2 * jsd(Q), 1.0),
        ("lsif", "identity"): Prediction("chi2(Q||P)", lambda Q: 1 + chi2(Q), chi2, 0.5),
        (label({"name": "hinge", "margin": margin}), "identity"): Prediction(
            "TV(P,Q)", lambda Q: margin * q_mass_where_q_above_p(Q), lambda Q: dv.tv(P, Q, x), 0.0),
        ("least_squares", "identity"): Prediction(
            "triangular(P,Q)", lambda Q: 0.5 + tri(Q) / 4, tri, 0.25),
    }
    for alpha in alpha_values:
        def renyi_moment(Q, a=alpha):
            return torch.exp((a - 1) * dv.renyi(a, Q, P, x))
        table["lsif", label({"name": "power", "alpha": alpha})] = Prediction(
            f"Renyi_{alpha:g}(Q||P)", renyi_moment, renyi_moment, 1 / alpha)
    return table


def pathwise(f, s_star: Callable, theta: tuple, eps: torch.Tensor, weights: torch.Tensor | None):
    """E f(s*(x)), x = mu + sigma eps, and its gradient in (mu, sigma) with s* held fixed.

    `weights` are quadrature weights of eps (None: eps are Monte Carlo draws). Returns value, gradient
    and, for Monte Carlo, the standard error of the value.
    """
    mu, sigma = (torch.tensor(v, dtype=F64, requires_grad=True) for v in theta)
    values = f(s_star(mu + sigma * eps))
    value = (values * weights).sum() if weights is not None else values.mean()
    if value.requires_grad:
        grad = torch.autograd.grad(value, (mu, sigma), allow_unused=True, materialize_grads=True)
    else:  # f(s*(x)) does not depend on x at all (a piecewise-constant s*): no path for a gradient
        grad = (torch.zeros((), dtype=F64), torch.zeros((), dtype=F64))
    se = values.std().item() / math.sqrt(len(values)) if weights is None else 0.0
    return value.item(), torch.stack(grad).detach(), se


def central_difference(func: Callable, theta: tuple, h: float = 1e-4) -> torch.Tensor:
    mu, sigma = theta
    return torch.stack([
        (func(gaussian(mu + h, sigma)) - func(gaussian(mu - h, sigma))) / (2 * h),
        (func(gaussian(mu, sigma + h)) - func(gaussian(mu, sigma - h))) / (2 * h)])


def outer_loop(p: dict, theta: list, loss_specs: list, f_specs: list, mc_samples: int, seed: int,
               learned_hinge: dict) -> tuple[pd.DataFrame, Discrepancy]:
    """One row per (loss, f): value and pathwise gradient by quadrature and MC, against the claim.

    A last row repeats the hinge with a smooth s learned from samples; that s is returned too.
    """
    P = normal(p)
    theta = tuple(theta)
    Q0 = gaussian(*theta)
    eps_grid = torch.linspace(-12, 12, 48_001, dtype=F64)
    eps_weights = density(gaussian(0.0, 1.0), eps_grid) * (eps_grid[1] - eps_grid[0])
    eps_mc = torch.randn(mc_samples, generator=torch.Generator().manual_seed(seed), dtype=F64)
    alphas = [nl_mod.make(s).alpha for s in f_specs if parse(s)[0] == "power"]
    margin = next((losses_mod.make(s).margin for s in loss_specs if parse(s)[0] == "hinge"), 10.0)
    claimed = predictions(P, margin, alphas)
    rows = []
    for loss_spec in loss_specs:
        loss = losses_mod.make(loss_spec)
        s_star = _optimum_fixed_at(loss, P, Q0)
        for f_spec in f_specs:
            f = nl_mod.make(f_spec)
            row = {"loss": label(loss_spec), "f": label(f_spec), "s": "optimal"}
            if f.domain == "positive" and (s_star(eps_grid * theta[1] + theta[0]) < 0).any():
                row.update(divergence="undefined: s* < 0 where f needs s > 0")
                rows.append(row)
                continue
            rows.append(_measure(row, f, s_star, theta, eps_grid, eps_weights, eps_mc,
                                 claimed.get((row["loss"], row["f"]))))
    rows += [_envelope_row(spec, P, theta, eps_grid, eps_weights) for spec in loss_specs
             if not losses_mod.REGISTRY.built_in(parse(spec)[0])]
    row, learned = _learned_hinge_row(P, Q0, theta, learned_hinge, eps_grid, eps_weights, eps_mc,
                                      claimed, seed)
    rows.append(row)
    return pd.DataFrame(rows), learned


def _envelope_row(spec, P, theta, eps_grid, eps_weights) -> dict:
    """A plugin loss's identity that holds only where its claimed s* is the inner loop's optimum (the envelope
    theorem): the minimax generator f = -l2, with s held at s*, follows the gradient of D(theta) = -min_s
    E_P l1(s) + E_Q l2(s), taken here by quadrature with s* recomputed at each theta."""
    loss = losses_mod.make(spec)
    x = dv.grid()

    def divergence(Q):
        p, q = density(P, x), density(Q, x)
        s = loss.optimum(p, q)
        integrand = p * loss.real(s) + q * loss.fake(s)
        return -dv.integrate(torch.where(torch.isfinite(integrand), integrand, torch.zeros_like(integrand)), x)
    row = {"loss": label(spec), "f": "minimax (-l2)", "s": "envelope", "divergence": "-min_s L(s) (envelope)"}
    value, grad, _ = pathwise(lambda s: -loss.fake(s), _optimum_fixed_at(loss, P, gaussian(*theta)), theta,
                              eps_grid, eps_weights)
    target = central_difference(divergence, theta)
    row.update(value_quadrature=value, grad_mu=grad[0].item(), grad_sigma=grad[1].item(),
               target_grad_mu=target[0].item(), target_grad_sigma=target[1].item(), factor_claimed=1.0,
               factor_fitted=(grad @ target / (target @ target)).item() if target.norm() > 0 else float("nan"),
               grad_cosine=_cosine(grad, target), grad_abs_error=(grad - target).norm().item())
    return row


def _optimum_fixed_at(loss, P, Q0) -> Callable:
    """s*(x) for the pair (P, Q0): Q0's parameters are constants, so gradients flow through x only."""
    return lambda x: loss.optimum(density(P, x), density(Q0, x))


def _measure(row, f, s, theta, eps_grid, eps_weights, eps_mc, claim: Prediction | None) -> dict:
    value_q, grad_q, _ = pathwise(f, s, theta, eps_grid, eps_weights)
    value_mc, grad_mc, se = pathwise(f, s, theta, eps_mc, None)
    row.update(value_quadrature=value_q, value_mc=value_mc, value_mc_se=se,
               grad_mu=grad_q[0].item(), grad_sigma=grad_q[1].item(),
               grad_mc_mu=grad_mc[0].item(), grad_mc_sigma=grad_mc[1].item(),
               mc_value_z=abs(value_mc - value_q) / se if se > 0 else 0.0)
    if claim is None:
        row["divergence"] = "none known"
        return row
    predicted = claim.value(gaussian(*theta)).item()
    target_grad = central_difference(claim.target, theta)
    expected = claim.factor * target_grad
    row.update(divergence=claim.divergence, value_predicted=predicted,
               value_abs_error=abs(value_q - predicted),
               target_grad_mu=target_grad[0].item(), target_grad_sigma=target_grad[1].item(),
               factor_claimed=claim.factor,
               factor_fitted=(grad_q @ target_grad / (target_grad @ target_grad)).item(),
               grad_cosine=_cosine(grad_q, target_grad),
               grad_abs_error=(grad_q - expected).norm().item())
    return row


def _cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    norm = a.norm() * b.norm()
    return (a @ b / norm).item() if norm > 0 else float("nan")


def _learned_hinge_row(P, Q0, theta, params, eps_grid, eps_weights, eps_mc, claimed, seed):
    """The hinge with a smooth s trained from samples instead of the step function s*."""
    loss = losses_mod.make({"name": "hinge", "margin": params["margin"]})
    torch.manual_seed(seed)
    n = params["samples"]
    s = fit_discrepancy(loss, P.sample((n, 1)).to(F64), Q0.sample((n, 1)).to(F64), params["hidden"], params["depth"],
                        params["steps"], params["lr"], seed, params["weight_decay"])
    for parameter in s.parameters():
        parameter.requires_grad_(False)
    row = {"loss": label({"name": "hinge", "margin": params["margin"]}), "f": "identity", "s": "learned"}
    row = _measure(row, nl_mod.make("identity"), lambda x: s(x[:, None]), theta, eps_grid, eps_weights,
                   eps_mc, claimed[row["loss"], "identity"])
    return row, s


# --- 4. minibatch bias of the Renyi estimate --------------------------------------------------

def hinge_curves(p: dict, theta: list, learned) -> tuple:
    """(x, p(x), q(x), learned s(x)) over the line, for the figure of the hinge's s* against a learned s."""
    x = torch.linspace(-4, 5, 900, dtype=F64)
    with torch.no_grad():
        s = learned(x[:, None])
    return x, density(normal(p), x), density(gaussian(*theta), x), s


def renyi_bias(p: dict, theta: list, alpha: float, batch_sizes: list, batches: int, seed: int) -> pd.DataFrame:
    """Bias of log(mean_batch r^(alpha-1)) / (alpha - 1) as an estimate of D_alpha(Q||P), r = q/p."""
    P, Q = normal(p), gaussian(*theta)
    truth = dv.renyi_normal(alpha, *theta, p["loc"], p["scale"])
    gen = torch.Generator().manual_seed(seed)
    rows = []
    for b in batch_sizes:
        x = theta[0] + theta[1] * torch.randn(batches, b, generator=gen, dtype=F64)
        moments = torch.exp((alpha - 1) * (Q.log_prob(x) - P.log_prob(x))).mean(dim=1)
        estimates = torch.log(moments) / (alpha - 1)
        rows.append({"alpha": alpha, "batch_size": b, "batches": batches, "true_divergence": truth,
                     "mean_estimate": estimates.mean().item(),
                     "bias": estimates.mean().item() - truth,
                     "bias_se": estimates.std().item() / math.sqrt(batches),
                     "moment_bias": moments.mean().item() - math.exp((alpha - 1) * truth),
                     "moment_bias_se": moments.std().item() / math.sqrt(batches)})
    return pd.DataFrame(rows)
