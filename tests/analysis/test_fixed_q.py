import math

import torch

from energygan.analysis import fixed_q
from energygan.analysis.statistics import weighted_relative_error
from energygan.engine import losses

SETTINGS = {"steps": 1500, "batch_size": 256, "lr": 0.003, "pool": 20000}
MLP = {"architecture": "mlp", "arguments": {"shape": [2], "n_layers": 3, "size": 32, "batch_norm": False},
       "parametrisation": None}


def gaussians(n=20000):
    """P = N(0, I), Q = N((1, 0), I): log q/p = x1 - 1/2, a known optimum for every loss."""
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, 2, generator=g), torch.randn(n, 2, generator=g) + torch.tensor([1.0, 0.0])


def test_a_fresh_d_at_a_fixed_q_reaches_its_losss_closed_form_optimum():
    p, q = gaussians()
    points = torch.cat([p[:2000], q[:2000]])  # draws from (P + Q)/2: where the optimum is compared
    ratio = (points[:, 0] - 0.5).exp()  # q/p
    for name, record in (("logistic", MLP), ("least_squares", MLP)):
        loss = losses.make(name)
        s, fit = fixed_q.train(record, name, p, q, SETTINGS, seed=0)
        optimum = loss.optimum(torch.ones_like(ratio), ratio)  # s*(p, q) depends on q/p only
        error = weighted_relative_error(s(points).double(), optimum.double(), torch.ones(len(points)))
        assert error < 0.15, (name, error)
        assert abs(fit["loss_change"]) < 0.02  # its loss has stopped falling
        # the loss it reached is near the closed-form minimum E_P l1(s*) + E_Q l2(s*), in Monte Carlo
        at_p, at_q = (loss.optimum(torch.ones(len(x)), (x[:, 0] - 0.5).exp()) for x in (p, q))
        minimum = (loss.real(at_p).mean() + loss.fake(at_q).mean()).item()
        assert math.isclose(fit["loss"], minimum, rel_tol=0.05, abs_tol=0.01), (name, fit, minimum)


def test_the_hinge_fresh_d_keeps_s_nonnegative_and_separates_where_q_exceeds_p():
    p, q = gaussians()
    record = {**MLP, "parametrisation": "square"}
    s, _ = fixed_q.train(record, {"name": "hinge", "margin": 1}, p, q, SETTINGS, seed=0)
    values = s(torch.cat([p[:2000], q[:2000]]))
    assert values.min() >= 0
    # s* = m 1[q > p] = 1[x1 > 1/2] (m = 1): 0 well inside p > q, m well inside q > p
    left, right = s(torch.tensor([[-1.5, 0.0]])).item(), s(torch.tensor([[2.5, 0.0]])).item()
    assert left < 0.1 and abs(right - 1.0) < 0.2


def test_pools_draw_p_and_the_frozen_generator():
    def p_sample(keys, stream, size):
        return torch.zeros(1, size, 2)
    p, q = fixed_q.pools(p_sample, lambda z: z[:, :2] * 0 + 3.0, z_dim=4, size=5, seed=0)
    assert p.shape == q.shape == (5, 2) and (q == 3.0).all() and (p == 0).all()


def test_a_kinds_record_builds_its_architecture_and_makes_s_nonnegative_where_its_loss_needs_it():
    ebgan = fixed_q.record({"discriminator": "autoencoder", "energy": "l2_norm", "n_layer_d": 2, "size_d": 16,
                            "loss": {"name": "hinge", "margin": 1}}, (2,))
    assert ebgan == {"architecture": "autoencoder", "parametrisation": "square",
                     "arguments": {"shape": [2], "n_layers": 2, "size": 16, "batch_norm": False, "energy": "l2_norm"}}
    logistic = fixed_q.record({"discriminator": "mlp", "n_layer_d": 3, "size_d": 8, "loss": "logistic"}, (2,))
    assert logistic["parametrisation"] is None and logistic["arguments"]["n_layers"] == 3
    assert fixed_q.slug("logistic GAN") == "logistic_gan" and fixed_q.slug("EBGAN") == "ebgan"
    assert fixed_q.prefixed("EBGAN", {"loss": 1.0}) == {"fixed_q_ebgan_loss": 1.0}
