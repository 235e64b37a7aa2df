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


def test_the_training_streams_do_not_overlap():
    """Within one run's key: the normal noise streams (two uniform streams each), the data's two streams and
    the dropout blocks (100 layers x 10 passes) are pairwise disjoint, and so are the read-back masks'."""
    noise = {u for s in (rng.Z_D, rng.Z_G, rng.Z_FIXED) for u in (2 * s, 2 * s + 1)}
    data = {rng.DATA, rng.DATA + 1}
    dropout = {rng.DROPOUT + 10 * layer + draw for layer in range(100) for draw in range(10)}
    read = {rng.DROPOUT_READ + layer for layer in range(100)}
    blocks = [noise, data, dropout, read]
    assert sum(map(len, blocks)) == len(set().union(*blocks))
