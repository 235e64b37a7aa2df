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


# --- stacked networks: K independent runs of one architecture, one batched computation ---------

class StackedLinear(nn.Module):
    """K independent linear layers: x [K, B, in] -> [K, B, out] with one batched matmul."""

    def __init__(self, runs: int, fan_in: int, fan_out: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(runs, fan_in, fan_out))
        self.bias = nn.Parameter(torch.empty(runs, fan_out))

    def reset(self, generators: list[torch.Generator]) -> None:
        """nn.Linear's default init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), from each run's own generator."""
        bound = self.weight.shape[1] ** -0.5
        with torch.no_grad():
            for k, gen in enumerate(generators):
                self.weight[k].copy_(torch.empty(self.weight.shape[1:]).uniform_(-bound, bound, generator=gen))
                self.bias[k].copy_(torch.empty(self.bias.shape[1:]).uniform_(-bound, bound, generator=gen))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias.unsqueeze(1), x, self.weight)


class StackedMLP(nn.Module):
    """Linear layers of the given widths; `activation` between them, dropout after each hidden one."""

    def __init__(self, runs: int, widths: list[int], activation):
        super().__init__()
        self.layers = nn.ModuleList(StackedLinear(runs, a, b) for a, b in zip(widths, widths[1:]))
        self.activation = activation

    def reset(self, generators) -> None:
        for layer in self.layers:
            layer.reset(generators)

    def forward(self, x: torch.Tensor, keep_masks: list | None = None) -> torch.Tensor:
        """`keep_masks[i]`, if given, scales hidden layer i (inverted dropout: mask / keep)."""
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = self.activation(x)
                if keep_masks is not None:
                    x = x * keep_masks[i]
        return x


def generator(runs: int, z_dim: int, n_layers: int, size: int, out_dim: int) -> StackedMLP:
    """EBGAN Table 1's MLP generator: n_layers linear layers, `size` hidden units, ReLU."""
    return StackedMLP(runs, [z_dim] + [size] * (n_layers - 1) + [out_dim], torch.relu)


def mlp_discriminator(runs: int, in_dim: int, n_layers: int, size: int) -> StackedMLP:
    """EBGAN Table 1's MLP discriminator: n_layers linear layers, LeakyReLU(0.2), one output s(x)."""
    return StackedMLP(runs, [in_dim] + [size] * (n_layers - 1) + [1], lambda x: F.leaky_relu(x, 0.2))


class StackedAutoencoder(nn.Module):
    """EBGAN's autoencoder discriminator: an encoder of n_layers - 1 layers to a code of `size` units,
    a one-layer decoder. Energy = per-sample mean squared reconstruction error (the paper's ||Dec(Enc(x)) - x||
    with the squared norm averaged over pixels, as in the blog's "mean-squared reconstruction error")."""

    def __init__(self, runs: int, in_dim: int, n_layers: int, size: int):
        super().__init__()
        self.encoder = StackedMLP(runs, [in_dim] + [size] * (n_layers - 1), torch.relu)
        self.decoder = StackedLinear(runs, size, in_dim)

    def reset(self, generators) -> None:
        self.encoder.reset(generators)
        self.decoder.reset(generators)

    def forward(self, x: torch.Tensor, keep_masks: list | None = None):
        """(energy [K, B], code [K, B, size])."""
        code = torch.relu(self.encoder(x, keep_masks))
        if keep_masks is not None and len(keep_masks) == len(self.encoder.layers):
            code = code * keep_masks[-1]
        energy = ((self.decoder(code) - x) ** 2).mean(dim=-1)
        return energy, code


def pull_away_term(codes: torch.Tensor) -> torch.Tensor:
    """EBGAN's PT per run: mean over pairs i != j of the squared cosine between codes i and j.

    codes [K, N, h] -> [K]. The diagonal is excluded with a mask, not by subtracting N.
    """
    unit = codes / codes.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    cosine = unit @ unit.transpose(1, 2)
    n = codes.shape[1]
    off_diagonal = ~torch.eye(n, dtype=torch.bool, device=codes.device)
    return (cosine ** 2 * off_diagonal).sum(dim=(1, 2)) / (n * (n - 1))
