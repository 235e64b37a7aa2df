import itertools

import pytest
import torch

from energygan.engine import models, parametrisations


def test_stacked_linear_equals_each_run_alone():
    torch.manual_seed(0)
    layer = models.StackedLinear(3, 5, 4)
    layer.reset([torch.Generator().manual_seed(s) for s in (1, 2, 3)])
    x = torch.randn(3, 7, 5)
    out = layer(x)
    for k in range(3):
        torch.testing.assert_close(out[k], x[k] @ layer.weight[k] + layer.bias[k])


def test_stacked_init_depends_only_on_the_run_seed():
    a = models.StackedLinear(2, 5, 4)
    a.reset([torch.Generator().manual_seed(s) for s in (7, 8)])
    b = models.StackedLinear(1, 5, 4)
    b.reset([torch.Generator().manual_seed(8)])
    assert torch.equal(a.weight[1], b.weight[0]) and torch.equal(a.bias[1], b.bias[0])
    assert a.weight.abs().max() <= 5 ** -0.5


def pull_away_by_hand(codes):
    """The EBGAN paper's formula written as loops: 1/(N(N-1)) sum_{i != j} cos^2(S_i, S_j)."""
    n = len(codes)
    total = 0.0
    for i, j in itertools.product(range(n), range(n)):
        if i != j:
            si, sj = codes[i], codes[j]
            total += (float(si @ sj) / (float(si.norm()) * float(sj.norm()))) ** 2
    return total / (n * (n - 1))


def test_pull_away_term_hand_values():
    codes = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]])
    # pairs: (0,1) cos 0; (0,2) cos 1/sqrt2 -> 1/2; (1,2) -> 1/2; each twice: (0 + 1/2 + 1/2) * 2 / 6 = 1/3
    assert models.pull_away_term(codes[None]).item() == pytest.approx(1 / 3)
    torch.manual_seed(0)
    batch = torch.randn(4, 9, 5)
    pt = models.pull_away_term(batch)
    for k in range(4):
        assert pt[k].item() == pytest.approx(pull_away_by_hand(batch[k]), rel=1e-5)


def test_pull_away_regressions_of_public_implementations():
    """Known defects: unsquared cosine, diagonal kept, batch-normalised instead of per-row norms."""
    torch.manual_seed(1)
    codes = torch.randn(1, 6, 4) * torch.tensor([1.0, 5.0, 0.1, 2.0])[None, None]
    pt = models.pull_away_term(codes).item()
    n = 6
    unit = codes[0] / codes[0].norm(dim=1, keepdim=True)
    cos = unit @ unit.T
    unsquared = (cos.sum() - cos.diagonal().sum()).item() / (n * (n - 1))
    with_diagonal = (cos ** 2).sum().item() / (n * (n - 1))
    batch_normalised = codes[0] / codes[0].norm()
    wrong_norm = ((batch_normalised @ batch_normalised.T) ** 2).sum().item() / (n * (n - 1))
    for wrong in (unsquared, with_diagonal, wrong_norm):
        assert abs(pt - wrong) > 1e-3
    assert pt == pytest.approx(pull_away_by_hand(codes[0]), rel=1e-5)
    # identical codes: every pair has cosine 1, so PT = 1 exactly (the diagonal excluded or not)
    assert models.pull_away_term(torch.ones(1, 5, 3)).item() == pytest.approx(1.0)


@pytest.mark.parametrize("energy", ["mean_squared", "l2_norm"])
def test_autoencoder_energy_is_the_chosen_function_of_each_samples_reconstruction_error(energy):
    ae = models.StackedAutoencoder(2, [6], 3, 4, energy=energy)
    ae.reset([torch.Generator().manual_seed(s) for s in (0, 1)])
    x = torch.rand(2, 5, 6)
    energy_out, code = ae(x)
    for k in range(2):
        h = torch.relu(x[k] @ ae.encoder.layers[0].weight[k] + ae.encoder.layers[0].bias[k])
        h = torch.relu(h @ ae.encoder.layers[1].weight[k] + ae.encoder.layers[1].bias[k])
        recon = h @ ae.decoder.weight[k] + ae.decoder.bias[k]
        torch.testing.assert_close(code[k], h)
        squared = ((recon - x[k]) ** 2).sum(dim=1)
        torch.testing.assert_close(energy_out[k], squared / 6 if energy == "mean_squared" else squared.sqrt())
    assert energy_out.shape == (2, 5) and (energy_out >= 0).all()
    with pytest.raises(ValueError, match=r"unknown energy 'l1'; known: \['l2_norm', 'mean_squared'\]"):
        parametrisations.reconstruction_energy(x, "l1")


def test_batch_norm_normalises_each_run_with_its_own_statistics_like_torch_batchnorm1d():
    """Against torch.nn.BatchNorm1d applied to each run's slice alone, in training and in evaluation mode."""
    torch.manual_seed(0)
    stacked = models.StackedBatchNorm(3, 4)
    alone = [torch.nn.BatchNorm1d(4) for _ in range(3)]
    with torch.no_grad():
        stacked.weight.copy_(torch.rand(3, 4) + 0.5)
        stacked.bias.copy_(torch.randn(3, 4))
        for k, bn in enumerate(alone):
            bn.weight.copy_(stacked.weight[k])
            bn.bias.copy_(stacked.bias[k])
    for _ in range(3):  # runs on very different scales: pooled statistics would show
        x = (torch.randn(3, 16, 4) * torch.tensor([1.0, 10.0, 0.1])[:, None, None]
             + torch.tensor([0.0, 5.0, -3.0])[:, None, None])
        out = stacked(x)
        for k, bn in enumerate(alone):
            torch.testing.assert_close(out[k], bn(x[k]), atol=1e-5, rtol=1e-5)
    for k, bn in enumerate(alone):
        torch.testing.assert_close(stacked.running_mean[k], bn.running_mean)
        torch.testing.assert_close(stacked.running_var[k], bn.running_var)
    stacked.eval()
    x = torch.randn(3, 5, 4)
    for k, bn in enumerate(alone):
        torch.testing.assert_close(stacked(x)[k], bn.eval()(x[k]), atol=1e-5, rtol=1e-5)


def test_batch_norm_sits_after_every_weight_layer_but_the_generators_output_and_the_discriminators_input():
    g = models.MLPGenerator(2, z_dim=3, shape=[6], n_layers=4, size=5, batch_norm=True)
    d = models.MLPDiscriminator(2, shape=[6], n_layers=4, size=5, batch_norm=True)
    ae = models.StackedAutoencoder(2, shape=[6], n_layers=4, size=5, batch_norm=True)
    assert sorted(g.norms) == ["0", "1", "2"]          # hidden layers 0-2; output layer 3 plain
    assert sorted(d.norms) == ["1", "2"]               # input layer 0 and the output s(x) plain
    assert sorted(ae.encoder.norms) == ["1", "2"]      # encoder input plain; the one-layer decoder plain
    assert not models.MLPGenerator(2, 3, [6], 4, 5).norms   # off by default


def test_mlp_with_batch_norm_equals_a_loop_over_runs():
    torch.manual_seed(2)
    g = models.MLPGenerator(2, z_dim=3, shape=[4], n_layers=3, size=5, batch_norm=True)
    g.reset([torch.Generator().manual_seed(s) for s in (0, 1)])
    z = torch.randn(2, 7, 3)
    out = g(z)
    for k in range(2):
        h = z[k]
        for i, layer in enumerate(g.layers):
            if i < 2:  # no bias before batch normalization (weight 1, bias 0 at the start)
                assert layer.bias is None
                h = torch.relu(torch.nn.functional.batch_norm(h @ layer.weight[k], None, None, training=True))
            else:
                h = h @ layer.weight[k] + layer.bias[k]
        torch.testing.assert_close(out[k], h, atol=1e-5, rtol=1e-5)
