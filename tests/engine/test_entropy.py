import math

import pytest
import torch
import torch.nn.functional as F

from energygan import rng
from energygan.data import datasets
from energygan.engine import entropy
from energygan.engine.spec import Run, Setup
from energygan.engine.training import Trainer

from tests.engine.test_training import TINY, plain_mlp


def gaussian_entropy(cov: torch.Tensor) -> float:
    """H of N(mu, cov) in nats: (1/2) log det(2 pi e cov)."""
    return 0.5 * math.log(torch.linalg.det(2 * math.pi * math.e * cov).item())


def digamma(n: int) -> float:
    return -0.5772156649015329 + sum(1 / i for i in range(1, n))


@pytest.mark.parametrize("k", [1, 3])
def test_the_estimate_is_the_formula_computed_point_by_point(k):
    x = torch.randn(2, 7, 3, dtype=torch.float64)
    for run in range(2):
        points = x[run].tolist()
        kth = [sorted(math.dist(p, q) for j, q in enumerate(points) if j != i)[k - 1] for i, p in enumerate(points)]
        # d mean log rho_k + log(pi^(d/2) / Gamma(d/2 + 1)) + psi(7) - psi(k)
        expected = (3 * sum(map(math.log, kth)) / 7 + 1.5 * math.log(math.pi) - math.lgamma(2.5)
                    + digamma(7) - digamma(k))
        assert entropy.kozachenko_leonenko(x, k)[run].item() == pytest.approx(expected, rel=1e-10, abs=1e-10)


def test_close_pairs_far_from_the_origin_keep_their_distance():
    """Float32 points near (1e4, 1e4), a pair one float32 spacing (2^-10) apart: |a|^2 + |b|^2 - 2 a.b in float32
    rounds their distance to 0 (or to noise of order 10); differences in float64 give it exactly."""
    x = torch.tensor([[[1e4, 1e4], [1e4 + 2 ** -10, 1e4], [1e4, 1e4 + 1.0], [1e4 + 3.0, 1e4 + 1.0]]],
                     dtype=torch.float32)
    points = x[0].double().tolist()
    nearest = [min(math.dist(p, q) for j, q in enumerate(points) if j != i) for i, p in enumerate(points)]
    expected = 2 * sum(map(math.log, nearest)) / 4 + math.log(math.pi) + digamma(4) - digamma(1)
    assert nearest[0] == 2 ** -10
    assert entropy.kozachenko_leonenko(x, 1)[0].item() == pytest.approx(expected, rel=1e-6)


def test_the_mean_shift_gradient_is_dai_et_al_s_direction_computed_point_by_point():
    """Sample i's gradient: (x_i - mean of its k nearest neighbours) / (N variance of those k points and x_i, per
    coordinate); its value is the Kozachenko-Leonenko estimate with the same k."""
    x = torch.randn(1, 6, 2, dtype=torch.float64, requires_grad=True)
    value = entropy.mean_shift(x, 2)
    gradient, = torch.autograd.grad(value.sum(), x)
    points = x[0].detach()
    for i in range(6):
        order = sorted((j for j in range(6) if j != i), key=lambda j: (points[j] - points[i]).norm().item())[:2]
        neighbours = points[order]
        spread = torch.cat([points[i:i + 1], neighbours]).var(0, unbiased=False)
        torch.testing.assert_close(gradient[0, i], (points[i] - neighbours.mean(0)) / spread / 6, rtol=1e-10, atol=0)
    assert value.item() == pytest.approx(entropy.kozachenko_leonenko(x.detach(), 2).item(), rel=1e-12)


COVARIANCES = {"round": torch.eye(2), "correlated": torch.tensor([[1.0, 0.9], [0.9, 1.0]]),
               "stretched 40:1": torch.diag(torch.tensor([4.0, 0.0025]))}


@pytest.mark.parametrize("k", [1, 20])
@pytest.mark.parametrize("name", COVARIANCES)
def test_the_estimate_of_a_gaussian_batch_is_its_closed_form_entropy(name, k):
    """10 batches of 4,096: the mean estimate within 0.03 nats of (1/2) log det(2 pi e cov). Its standard deviation
    is about sqrt((psi'(k) + d/2) / N) = 0.025 a batch (k = 1), 0.008 for the mean; the k-NN estimate's bias
    grows with the neighbourhood, (k / N)^(2/d) in d dimensions: 0.005 here. At N = 512 a ball of 20 neighbours is
    not small beside the stretched Gaussian's short axis (measured bias +0.45 nats); at N = 4,096 it is (-0.007)."""
    cov = COVARIANCES[name].double()
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(10, 4096, 2, dtype=torch.float64, generator=generator) @ torch.linalg.cholesky(cov).T
    assert abs(entropy.kozachenko_leonenko(x, k).mean().item() - gaussian_entropy(cov)) < 0.03


def field(estimator: str, k: int, cov: torch.Tensor, n: int = 512, batches: int = 20):
    """N times the estimate's gradient at each sample of Gaussian batches, and there the score's negative
    -grad log q = cov^-1 x, each [M, 2]: moving sample i by dx changes H by -(1/N) dx . grad log q(x_i)."""
    generator = torch.Generator().manual_seed(1)
    x = (torch.randn(batches, n, 2, dtype=torch.float64, generator=generator) @ torch.linalg.cholesky(cov).T)
    x.requires_grad_(True)
    gradient, = torch.autograd.grad(entropy.estimate(x, estimator, k).sum(), x)
    return n * gradient.reshape(-1, 2), x.detach().reshape(-1, 2) @ torch.linalg.inv(cov)


def gain(g: torch.Tensor, target: torch.Tensor) -> float:
    """The field's length along the target, in units of the target's: the c that fits g = c target best."""
    return ((g * target).sum() / (target * target).sum()).item()


@pytest.mark.parametrize("name", COVARIANCES)
def test_the_full_gradient_of_the_estimate_is_the_score_on_average(name):
    """One nearest neighbour's gradient is noisy sample by sample (measured: median cosine with the score
    0.13-0.37), but on average it is the score's length: gain within 0.06 of 1 (measured 0.99-1.04; the
    estimate's scale equivariance fixes sum_i x_i . grad_i H = d, the direction of each term it does not)."""
    g, target = field("kozachenko_leonenko", 1, COVARIANCES[name].double())
    assert gain(g, target) == pytest.approx(1.0, abs=0.06)


@pytest.mark.parametrize("name", COVARIANCES)
def test_the_mean_shift_direction_points_along_the_score_and_is_no_shorter(name):
    """Dai et al.'s 20-neighbour direction, batches of 512: sample by sample along -grad log q (median cosine
    above 0.8; measured 0.86-0.99), and longer by a factor between 1 (1/variance is convex: Jensen) and 1.5
    (measured 1.18-1.41)."""
    g, target = field("mean_shift", 20, COVARIANCES[name].double())
    assert torch.nn.functional.cosine_similarity(g, target, dim=1).median() > 0.8
    assert 1.0 <= gain(g, target) <= 1.5


@pytest.mark.parametrize("k", [1, 5])
def test_the_regularised_generator_reaches_the_gibbs_optimum(k):
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
            loss = ((x - a) ** 2 / (2 * b ** 2)).sum(1).mean() - w * entropy.kozachenko_leonenko(x[None], k)[0]
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            if step >= 200:
                averaged.append(torch.cat([mu.detach(), log_sigma.detach()]))
        mean = torch.stack(averaged).mean(0)
        torch.testing.assert_close(mean[:2], a, atol=0.02, rtol=0)
        torch.testing.assert_close(mean[2:].exp(), math.sqrt(w) * b, atol=0, rtol=0.05)


def test_estimator_names_and_neighbours_are_checked():
    with pytest.raises(ValueError,
                       match=r"unknown entropy estimator 'kde'; known: \['kozachenko_leonenko', 'mean_shift'\]"):
        entropy.estimate(torch.zeros(1, 4, 2), "kde", 1)
    with pytest.raises(ValueError, match="with 4 neighbours needs a batch of more than 4 samples, got 4"):
        entropy.estimate(torch.randn(1, 4, 2), "mean_shift", 4)


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
    s = lambda x, weights: plain_mlp(weights, x, lambda v: F.leaky_relu(v, 0.2)).squeeze(-1).square()
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
