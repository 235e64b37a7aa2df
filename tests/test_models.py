import itertools

import pytest
import torch

from energygan import models


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


def test_autoencoder_energy_is_per_sample_mean_squared_error():
    ae = models.StackedAutoencoder(2, 6, 3, 4)
    ae.reset([torch.Generator().manual_seed(s) for s in (0, 1)])
    x = torch.rand(2, 5, 6)
    energy, code = ae(x)
    for k in range(2):
        h = torch.relu(x[k] @ ae.encoder.layers[0].weight[k] + ae.encoder.layers[0].bias[k])
        h = torch.relu(h @ ae.encoder.layers[1].weight[k] + ae.encoder.layers[1].bias[k])
        recon = h @ ae.decoder.weight[k] + ae.decoder.bias[k]
        torch.testing.assert_close(code[k], h)
        torch.testing.assert_close(energy[k], ((recon - x[k]) ** 2).mean(dim=1))
    assert energy.shape == (2, 5) and (energy >= 0).all()
