"""Datasets as a registry: what a run trains on, and everything that depends on it.

Each dataset names how its training data are loaded (and from which prepared folder), the shape of one
sample, the generator's output activation (and so the range training data are scaled to), how its
samples are scored, and its report category. No other module lists dataset names.

Training data are drawn with the counter-based generator (energygan.rng): a run's batch at a step depends
only on its seed and the step, whatever else trains beside it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from energygan import files

if TYPE_CHECKING:
    import torch

# torch (and energygan.rng) are imported where data are made: the table jobs that only look a dataset up
# start in a second rather than three

LSUN_CATEGORIES = ["bedroom", "bridge", "church_outdoor", "classroom", "conference_room", "dining_room",
                   "kitchen", "living_room", "restaurant", "tower"]


@dataclass(frozen=True)
class Dataset:
    name: str
    shape: tuple            # one sample: (C, H, W) for images, (2,) for the plane
    output: str             # generator output activation: sigmoid ([0, 1] data) | tanh ([-1, 1]) | identity
    # classifier (the MNIST evaluator) | density (known p) | fidelity (Inception, torch-fidelity)
    scorer: str
    category: str           # the report's category for its experiments
    prepared: str | None    # the folder its training job reads (None: drawn from a closed form)
    load: Callable = field(repr=False)   # (prepared folder, split) -> data (see ImageData, MixtureData)
    pad: int = 0            # zero pixels added on each side of the stored images (MNIST at 32x32)

    @property
    def images(self) -> bool:
        return len(self.shape) == 3

    def to_unit(self, x: torch.Tensor) -> torch.Tensor:
        """Generator outputs (after the activation) as images in [0, 1]."""
        return (x + 1) / 2 if self.output == "tanh" else x

    def from_unit(self, x: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] in the range the generator is trained to produce."""
        return x * 2 - 1 if self.output == "tanh" else x

    def stored_view(self, x: torch.Tensor) -> torch.Tensor:
        """Images [N, C, H, W] in [0, 1] without the padding: what the evaluator was trained on."""
        return x[..., self.pad:x.shape[-2] - self.pad, self.pad:x.shape[-1] - self.pad] if self.pad else x

    def activate(self, x: torch.Tensor) -> torch.Tensor:
        return {"sigmoid": x.sigmoid, "tanh": x.tanh, "identity": lambda: x}[self.output]()


REGISTRY: dict[str, Dataset] = {}


def register(dataset: Dataset) -> Dataset:
    REGISTRY[dataset.name] = dataset
    return dataset


def names() -> list[str]:
    return sorted(REGISTRY)


def get(name: str) -> Dataset:
    if name not in REGISTRY:
        raise ValueError(f"unknown dataset {name!r}; known datasets: {names()}")
    return REGISTRY[name]


# --- training data ---------------------------------------------------------------------------------

class ImageData:
    """uint8 images [N, C, H, W] held in memory; a batch is scaled to the generator's range on the fly."""
    host_side = False   # everything lives on the training device: a CUDA graph can capture the draw

    def __init__(self, images: torch.Tensor, dataset: Dataset):
        self.images, self.dataset = images, dataset

    def to(self, device):
        self.images = self.images.to(device)
        return self

    def sample(self, keys, tick, batch) -> torch.Tensor:
        """[K, batch, C, H, W]: run k's batch at `tick`, drawn with replacement from its own stream."""
        from energygan import rng
        index = rng.integers(keys, rng.DATA, tick, (batch,), len(self.images))
        return self.dataset.from_unit(self.images[index].float() / 255.0)


class ShardedImages:
    """Images in .npy shards ([n, H, W, C] uint8) read through memory maps, never loaded whole (an LSUN
    category is tens of GB). Indices are drawn on the device, rows gathered on the host."""
    host_side = True    # each draw reads the disk: no CUDA graph

    def __init__(self, folder: str | Path, dataset: Dataset):
        paths = sorted(Path(folder).glob("shard-*.npy"))
        if not paths:
            raise files.refuse(folder, "holds no shard-*.npy")
        self.shards = [files.open_array(p, made_by=folder) for p in paths]
        self.starts = np.cumsum([0] + [len(s) for s in self.shards])
        self.dataset, self.device = dataset, "cpu"
        stored = tuple(self.shards[0].shape[1:])
        if stored != (*dataset.shape[1:], dataset.shape[0]):
            raise files.refuse(paths[0], f"holds images of shape {list(stored)} (H, W, C), but dataset {dataset.name} "
                                         f"trains on {list(dataset.shape)} (C, H, W): made with another "
                                         "lsun.image_size?", made_by=folder)

    def __len__(self) -> int:
        return int(self.starts[-1])

    def to(self, device):
        self.device = device
        return self

    def images_at(self, index: np.ndarray):
        """Images at global indices [N] as a uint8 tensor [N, C, H, W]."""
        import torch
        return torch.from_numpy(self.rows(index)).permute(0, 3, 1, 2).contiguous()

    def rows(self, index: np.ndarray) -> np.ndarray:
        """Images at global indices, [*index.shape, H, W, C] uint8."""
        flat = index.reshape(-1)
        shard = np.searchsorted(self.starts, flat, side="right") - 1
        out = np.stack([self.shards[s][i - self.starts[s]] for s, i in zip(shard, flat)])
        return out.reshape(*index.shape, *out.shape[1:])

    def sample(self, keys, tick, batch) -> torch.Tensor:
        import torch

        from energygan import rng
        index = rng.integers(keys, rng.DATA, tick, (batch,), len(self)).cpu().numpy()
        images = torch.from_numpy(self.rows(index)).to(self.device).permute(0, 1, 4, 2, 3)
        return self.dataset.from_unit(images.float() / 255.0)


class MixtureData:
    """A 2D Gaussian mixture with known density: equal weights, the same std for every mode."""
    host_side = False

    def __init__(self, means: torch.Tensor, std: float):
        self.means, self.std = means, std

    def to(self, device):
        self.means = self.means.to(device)
        return self

    def sample(self, keys, tick, batch) -> torch.Tensor:
        from energygan import rng
        component = rng.integers(keys, rng.DATA, tick, (batch,), len(self.means))
        return self.means[component] + self.std * rng.normal(keys, rng.DATA + 1, tick, (batch, 2))

    def log_density(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) of the mixture at points x [N, 2], in float64."""
        return log_gaussian_mixture(x, self.means, self.std)


def log_gaussian_mixture(points: torch.Tensor, centres: torch.Tensor, std: float, leave_one_out: bool = False,
                         chunk: int = 1024) -> torch.Tensor:
    """log of the equal-weight mixture of 2D Gaussians N(centre, std^2 I) at `points` [N, 2], in float64
    (a mixture's density, or a Gaussian kernel density estimate). With `leave_one_out`, points are the
    centres and each leaves itself out. Chunked over points to bound memory."""
    import torch
    n = len(centres) - leave_one_out
    out = []
    for lo in range(0, len(points), chunk):  # in place: this is the 2D probes' and scores' main cost
        log_k = torch.cdist(points[lo:lo + chunk].double(), centres.double()).square_().mul_(-0.5 / std ** 2)
        if leave_one_out:
            rows = torch.arange(len(log_k))
            log_k[rows, rows + lo] = -math.inf
        top = log_k.amax(1, keepdim=True)
        out.append(log_k.sub_(top).exp_().sum(1).log_().add_(top[:, 0]))
    return torch.cat(out) - math.log(2 * math.pi * std ** 2) - math.log(n)


# --- the registered datasets --------------------------------------------------------------------------

def _mnist_images(prepared: str | Path, split: str = "train", pad: int = 0) -> torch.Tensor:
    import torch

    from energygan.data import mnist
    images = mnist.load_prepared(prepared, split)["images"][:, None]
    return torch.nn.functional.pad(images, (pad,) * 4) if pad else images


def _ring8():
    import torch
    angles = torch.arange(8) * (2 * math.pi / 8)
    return MixtureData(2.0 * torch.stack([angles.cos(), angles.sin()], 1), 0.05)


def _grid25():
    import torch
    axis = torch.arange(-2, 3, dtype=torch.float32)
    return MixtureData(torch.cartesian_prod(axis, axis), 0.05)


MNIST_PREPARED = "data/mnist/prepared"
register(Dataset("mnist", (1, 28, 28), "sigmoid", "classifier", "3. MNIST", MNIST_PREPARED,
                 lambda folder, split: ImageData(_mnist_images(folder, split), REGISTRY["mnist"])))
# MNIST padded to 32x32 (DCGAN's strided convolutions halve 32 to 4), in [-1, 1] for a tanh generator;
# scored by the same classifier on the central 28x28
register(Dataset("mnist32", (1, 32, 32), "tanh", "classifier", "7. Convolutional GANs", MNIST_PREPARED,
                 lambda folder, split: ImageData(_mnist_images(folder, split, pad=2), REGISTRY["mnist32"]), pad=2))
register(Dataset("ring8", (2,), "identity", "density", "2. 2D mixtures", None, lambda folder, split: _ring8()))
register(Dataset("grid25", (2,), "identity", "density", "2. 2D mixtures", None, lambda folder, split: _grid25()))
for _category in LSUN_CATEGORIES:
    register(Dataset(f"lsun_{_category}", (3, 64, 64), "tanh", "fidelity", "7. Convolutional GANs",
                     f"data/lsun/{_category}",
                     lambda folder, split, name=f"lsun_{_category}": ShardedImages(folder, REGISTRY[name])))


def load(name: str, prepared: str | Path | None = None, split: str = "train"):
    """A dataset's data (training split unless asked); `prepared` overrides its registered folder."""
    dataset = get(name)
    return dataset.load(prepared or dataset.prepared, split)


def mixture(name: str) -> MixtureData:
    """A density-scored dataset's known mixture."""
    data = load(name)
    if not isinstance(data, MixtureData):
        raise ValueError(f"dataset {name!r} has no known density")  # noqa: TRY004 (the name is wrong, not its type)
    return data
