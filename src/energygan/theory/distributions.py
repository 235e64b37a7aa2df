"""The known distributions of the theory checks, in double precision: Gaussians and Gaussian mixtures
(1D, and 2D with isotropic components)."""

from __future__ import annotations

import torch
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

F64 = torch.float64  # the theory is computed in double precision throughout


def mixture(weights: list, means: list, scales: list):
    """A Gaussian mixture; `means` are numbers (1D) or coordinate lists (isotropic components)."""
    means_t = torch.tensor(means, dtype=torch.float64)
    scales_t = torch.tensor(scales, dtype=torch.float64)
    mix = Categorical(probs=torch.tensor(weights, dtype=torch.float64))
    if means_t.ndim == 1:
        return MixtureSameFamily(mix, Normal(means_t, scales_t))
    components = Independent(Normal(means_t, scales_t[:, None].expand_as(means_t)), 1)
    return MixtureSameFamily(mix, components)


def density(dist, x):
    return dist.log_prob(x).exp()


def gaussian(loc, scale) -> Normal:
    """A 1D Gaussian in double precision (plain floats would make float32 parameters)."""
    return Normal(torch.as_tensor(loc, dtype=F64), torch.as_tensor(scale, dtype=F64))


def normal(spec: dict) -> Normal:
    return gaussian(spec["loc"], spec["scale"])
