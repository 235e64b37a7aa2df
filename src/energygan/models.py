"""Networks. `mlp` is the building block; `Discrepancy` maps a network's output into a loss's domain."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def mlp(in_features: int, hidden: int, depth: int, out_features: int = 1,
        activation: type[nn.Module] = nn.SiLU) -> nn.Sequential:
    """`depth` hidden layers of width `hidden`."""
    layers, width = [], in_features
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), activation()]
        width = hidden
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)


class Discrepancy(nn.Module):
    """s(x) = net(x), passed through softplus where the loss or f needs s >= 0 (hinge) or s > 0 (power).

    Softplus keeps every positive optimum reachable and gives gradients everywhere (ReLU would not).
    """

    def __init__(self, net: nn.Module, positive: bool):
        super().__init__()
        self.net, self.positive = net, positive

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.net(x).squeeze(-1)
        return F.softplus(s) if self.positive else s


def needs_positive(loss, nonlinearity=None) -> bool:
    return loss.domain != "real" or (nonlinearity is not None and nonlinearity.domain != "real")
