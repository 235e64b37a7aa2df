import torch

from energygan import rng


def test_rows_depend_only_on_their_key():
    keys = torch.tensor([3, 11, 5])
    alone = rng.uniform(torch.tensor([11]), 4, 17, (6, 2))
    assert torch.equal(rng.uniform(keys, 4, 17, (6, 2))[1], alone[0])


def test_streams_steps_and_keys_differ():
    keys = torch.tensor([1, 2])
    a = rng.uniform(keys, 0, 0, (1000,))
    assert not torch.equal(a[0], a[1])
    assert not torch.equal(a, rng.uniform(keys, 1, 0, (1000,)))
    assert not torch.equal(a, rng.uniform(keys, 0, 1, (1000,)))


def test_distributions_roughly_right():
    u = rng.uniform(torch.tensor([0]), 0, 0, (200_000,))
    assert 0 < u.min() and u.max() < 1
    assert abs(u.mean().item() - 0.5) < 0.005 and abs(u.var().item() - 1 / 12) < 0.002
    z = rng.normal(torch.tensor([0]), 0, 0, (200_000,))
    assert abs(z.mean().item()) < 0.01 and abs(z.std().item() - 1) < 0.01
    i = rng.integers(torch.tensor([0]), 0, 0, (100_000,), 10)
    assert torch.bincount(i.flatten(), minlength=10).min() > 9_500


def test_every_use_has_streams_of_its_own():
    """The table's bases are distinct, and each block of streams (a base plus a layer, pass or draw
    offset below the next base) stays below the next use's base."""
    bases = sorted([rng.Z_D, rng.Z_G, rng.Z_FIXED, rng.EVALUATION, rng.PROBES, rng.FIXED_Q, rng.DATA, rng.DROPOUT,
                    rng.DROPOUT_READ])
    assert len(set(bases)) == len(bases)
    assert rng.DATA + 1 < rng.DROPOUT and rng.DROPOUT + 10 * 99 + 9 < rng.DROPOUT_READ  # 100 layers, 10 passes

