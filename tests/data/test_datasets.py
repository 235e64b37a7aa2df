import numpy as np
import pytest
import torch

from energygan import files, rng
from energygan.data import datasets


def test_unknown_dataset_is_refused_with_the_known_names():
    with pytest.raises(ValueError, match=r"unknown dataset 'mnist64'; known datasets: \['grid25', 'lsun_bedroom'"):
        datasets.get("mnist64")
    assert {"mnist", "mnist32", "ring8", "grid25", "lsun_bedroom", "lsun_church_outdoor"} <= set(datasets.names())


def test_every_dataset_names_shape_output_scorer_and_category():
    for name in datasets.names():
        d = datasets.get(name)
        assert d.output in ("sigmoid", "tanh", "identity") and d.scorer in ("classifier", "density", "fidelity")
        assert d.category and (d.images == (len(d.shape) == 3))
    assert datasets.get("mnist").shape == (1, 28, 28) and datasets.get("mnist32").shape == (1, 32, 32)
    assert datasets.get("lsun_bedroom").shape == (3, 64, 64) and datasets.get("lsun_bedroom").scorer == "fidelity"


def fake_mnist(folder, n=6):
    images = torch.arange(n * 28 * 28, dtype=torch.int64).remainder(256).to(torch.uint8).reshape(n, 28, 28)
    for split in ("train", "test"):
        torch.save({"images": images, "labels": torch.zeros(n, dtype=torch.int64)}, folder / f"{split}.pt")
    return images


def test_mnist32_is_mnist_padded_by_two_zero_pixels_in_minus_one_to_one(tmp_path):
    images = fake_mnist(tmp_path)
    data = datasets.load("mnist32", tmp_path)
    keys = torch.tensor([3, 4])
    batch = data.sample(keys, 5, 7)
    index = rng.integers(keys, rng.DATA, 5, (7,), len(images))
    assert batch.shape == (2, 7, 1, 32, 32)
    expected = images[index].float() / 255 * 2 - 1
    torch.testing.assert_close(batch[..., 0, 2:30, 2:30], expected, rtol=0, atol=1e-6)
    assert (batch[..., :2, :] == -1).all() and (batch[..., :, 30:] == -1).all()  # zero pixels, as -1
    spec = datasets.get("mnist32")
    torch.testing.assert_close(spec.stored_view(spec.to_unit(batch[0])), images[index[0]].float()[:, None] / 255)
    # MNIST itself: [0, 1], no padding, the same draw
    torch.testing.assert_close(datasets.load("mnist", tmp_path).sample(keys, 5, 7)[:, :, 0], expected.add(1).div(2))


def shards(folder, sizes, side=8):
    folder.mkdir()
    start = 0
    for i, n in enumerate(sizes):
        values = (np.arange(start, start + n)[:, None, None, None] + np.zeros((1, side, side, 3))).astype(np.uint8)
        np.save(folder / f"shard-{i:05d}.npy", values)
        start += n


def test_lsun_shards_are_read_through_memory_maps_with_counter_based_draws(tmp_path, monkeypatch):
    shards(tmp_path / "bedroom", [5, 3, 4], side=64)
    data = datasets.load("lsun_bedroom", tmp_path / "bedroom")
    assert len(data) == 12 and all(isinstance(s, np.memmap) for s in data.shards)
    keys = torch.tensor([0, 1])
    batch = data.sample(keys, 2, 9)
    index = rng.integers(keys, rng.DATA, 2, (9,), 12)
    # image i holds the value i everywhere: the draw picks exactly the counter-based indices, across shards
    torch.testing.assert_close(batch[:, :, 1, 3, 5], index.float() / 255 * 2 - 1)
    assert batch.shape == (2, 9, 3, 64, 64) and data.host_side
    assert data.images_at(np.array([11, 0])).shape == (2, 3, 64, 64)


def test_lsun_shards_of_another_size_or_none_are_refused_by_name(tmp_path):
    shards(tmp_path / "small", [2], side=8)
    with pytest.raises(files.FileError, match=r"small/shard-00000.npy holds images of shape \[8, 8, 3\].*lsun_bedroom "
                                              r"trains on \[3, 64, 64\].*snakemake --cores all --force .*small"):
        datasets.load("lsun_bedroom", tmp_path / "small")
    (tmp_path / "empty").mkdir()
    with pytest.raises(files.FileError,
                       match=r"empty holds no shard-\*.npy; re-make it: snakemake --cores all --force .*empty"):
        datasets.load("lsun_bedroom", tmp_path / "empty")


def test_mixtures_have_their_known_densities():
    ring = datasets.mixture("ring8")
    assert ring.means.shape == (8, 2) and torch.allclose(ring.means.norm(dim=1), torch.full((8,), 2.0))
    assert datasets.mixture("grid25").means.shape == (25, 2)
