import math

import pytest
import torch
import torch.nn.functional as F

from energygan import rng
from energygan.data import datasets
from energygan.engine.entropy import nearest_neighbour_entropy
from energygan.engine.spec import Run, Setup
from energygan.engine.training import Trainer

from tests.engine.test_training import TINY, plain_mlp


def gaussian_entropy(cov: torch.Tensor) -> float:
    """H of N(mu, cov) in nats: (1/2) log det(2 pi e cov)."""
    return 0.5 * math.log(torch.linalg.det(2 * math.pi * math.e * cov).item())


def test_the_estimate_is_the_formula_computed_point_by_point():
    x = torch.randn(2, 7, 3, dtype=torch.float64)
    for k in range(2):
        points = x[k].tolist()
        nearest = [min(math.dist(p, q) for j, q in enumerate(points) if j != i) for i, p in enumerate(points)]
        # d mean log rho + log(pi^(d/2) / Gamma(d/2 + 1)) + psi(7) - psi(1), psi(7) = 1 + 1/2 + ... + 1/6 - gamma
        expected = (3 * sum(map(math.log, nearest)) / 7 + 1.5 * math.log(math.pi) - math.lgamma(2.5)
                    + sum(1 / i for i in range(1, 7)))
        assert nearest_neighbour_entropy(x)[k].item() == pytest.approx(expected, rel=1e-10, abs=1e-10)


def test_the_estimate_of_a_gaussian_batch_is_its_closed_form_entropy():
    """2D Gaussians, 50 batches of 1,024: the mean estimate within 0.03 nats of (1/2) log det(2 pi e cov)
    (the estimator's standard deviation at this size is about 0.06 a batch, so 0.03 is 3.5 standard errors
    of the mean beyond its finite-sample bias, measured at 0.01 at this size)."""
    generator = torch.Generator().manual_seed(0)
    for cov in (torch.eye(2), torch.tensor([[1.0, 0.9], [0.9, 1.0]]), torch.diag(torch.tensor([4.0, 0.0025]))):
        root = torch.linalg.cholesky(cov.double())
        x = torch.randn(50, 1024, 2, dtype=torch.float64, generator=generator) @ root.T
        assert abs(nearest_neighbour_entropy(x).mean().item() - gaussian_entropy(cov.double())) < 0.03


def test_the_regularised_generator_reaches_the_gibbs_optimum():
    """For a fixed s, E_Q s - w H(Q) is least at q ∝ exp(-s / w): with s = |x - a|^2 / (2 b^2) that is
    N(a, w b^2). A Gaussian generator x = mu + sigma eps trained with the estimate (batches of 128, Adam, its
    parameters averaged over the second half) gets there: measured over 3 seeds, within 0.007 of a and 2.6%
    of sqrt(w) b."""
    a, b = torch.tensor([1.0, -0.5], dtype=torch.float64), torch.tensor([0.3, 0.7], dtype=torch.float64)
    generator = torch.Generator().manual_seed(1)
    for w in (1.0, 0.25):
        mu = torch.zeros(2, dtype=torch.float64, requires_grad=True)
        log_sigma = torch.zeros(2, dtype=torch.float64, requires_grad=True)
        optimiser = torch.optim.Adam([mu, log_sigma], lr=0.05)
        averaged = []
        for step in range(400):
            x = mu + log_sigma.exp() * torch.randn(128, 2, dtype=torch.float64, generator=generator)
            loss = ((x - a) ** 2 / (2 * b ** 2)).sum(1).mean() - w * nearest_neighbour_entropy(x[None])[0]
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            if step >= 200:
                averaged.append(torch.cat([mu.detach(), log_sigma.detach()]))
        mean = torch.stack(averaged).mean(0)
        torch.testing.assert_close(mean[:2], a, atol=0.02, rtol=0)
        torch.testing.assert_close(mean[2:].exp(), math.sqrt(w) * b, atol=0, rtol=0.05)


def test_one_step_of_a_calibrated_run_matches_a_hand_computed_update():
    """The generator's loss is mean s - w H(its batch), H computed here by the formula; the run beside it
    without the entropy term is unchanged by it (batched runs stay apart)."""
    w = 0.3
    runs = [Run("calibrated", seed=0, loss={"name": "hinge", "margin": 2.0}, f="identity", lr=0.05,
                optim_d="sgd", optim_g="sgd", entropy_weight=w),
            Run("plain", seed=0, loss={"name": "hinge", "margin": 2.0}, f="identity", lr=0.05, optim_d="sgd",
                optim_g="sgd")]
    data = datasets.load("ring8")
    trainer = Trainer(Setup(**TINY.__dict__), runs, data)
    g0 = [(layer.weight.detach().clone(), layer.bias.detach().clone()) for layer in trainer.G.layers]
    d0 = [(layer.weight.detach().clone(), layer.bias.detach().clone()) for layer in trainer.D.layers]
    trainer.step()
    key = torch.tensor([0])
    s = lambda x, weights: plain_mlp(weights, x, lambda v: F.leaky_relu(v, 0.2)).squeeze(-1).square()  # noqa: E731
    gw = [(wt[0].clone().requires_grad_(), bs[0].clone().requires_grad_()) for wt, bs in g0]
    dw = [(wt[0].clone().requires_grad_(), bs[0].clone().requires_grad_()) for wt, bs in d0]
    x_real = data.sample(key, 0, 4)[0]
    x_fake = plain_mlp(gw, rng.normal(key, rng.Z_D, 0, (4, 2))[0], torch.relu).detach()
    d_loss = s(x_real, dw).mean() + torch.clamp(2.0 - s(x_fake, dw), min=0).mean()
    grads = torch.autograd.grad(d_loss, [p for pair in dw for p in pair])
    d1 = [p.detach() - 0.05 * g for p, g in zip([p for pair in dw for p in pair], grads)]
    d1 = list(zip(d1[::2], d1[1::2]))
    x_gen = plain_mlp(gw, rng.normal(key, rng.Z_G, 0, (4, 2))[0], torch.relu)
    nearest = torch.stack([min((x_gen[i] - x_gen[j]).norm() for j in range(4) if j != i) for i in range(4)])
    entropy = 2 * nearest.log().mean() + math.log(math.pi) + sum(1 / i for i in range(1, 4))  # d = 2, N = 4
    g_loss = s(x_gen, d1).mean() - w * entropy
    ggrads = torch.autograd.grad(g_loss, [p for pair in gw for p in pair])
    g1 = [p.detach() - 0.05 * g for p, g in zip([p for pair in gw for p in pair], ggrads)]
    for i, layer in enumerate(trainer.G.layers):
        torch.testing.assert_close(layer.weight[0], g1[2 * i], atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(layer.bias[0], g1[2 * i + 1], atol=1e-5, rtol=1e-4)
    # the plain run shares the seed and D's first step, and not the entropy term: its G moved otherwise
    assert not torch.allclose(trainer.G.layers[0].weight[1], trainer.G.layers[0].weight[0])
