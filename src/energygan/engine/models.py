"""Networks. `mlp` is the building block; `Discrepancy` maps a network's output into a loss's domain."""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F
from torch import nn

from energygan.engine.parametrisations import nonnegative, reconstruction_energy


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
    """The theory's s(x) = net(x), passed through softplus where the loss or f needs s >= 0 (hinge) or s > 0
    (power): fitted from samples to a fixed Q (energygan.theory.inner), where softplus reaches every optimum."""

    def __init__(self, net: nn.Module, positive: bool):
        super().__init__()
        self.net, self.positive = net, positive

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.net(x).squeeze(-1)
        return F.softplus(s) if self.positive else s


# --- stacked networks: K independent runs of one architecture, one batched computation ---------

class StackedLinear(nn.Module):
    """K independent linear layers: x [K, B, in] -> [K, B, out] with one batched matmul.

    Without `bias` where batch normalization follows: its mean subtraction makes a bias's gradient zero up
    to rounding, and Adam would turn that rounding noise into steps of size lr."""

    def __init__(self, runs: int, fan_in: int, fan_out: int, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(runs, fan_in, fan_out))
        self.bias = nn.Parameter(torch.empty(runs, fan_out)) if bias else None

    def reset(self, generators: list[torch.Generator]) -> None:
        """nn.Linear's default init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), from each run's own generator."""
        bound = self.weight.shape[1] ** -0.5
        with torch.no_grad():
            for k, gen in enumerate(generators):
                self.weight[k].copy_(torch.empty(self.weight.shape[1:]).uniform_(-bound, bound, generator=gen))
                if self.bias is not None:
                    self.bias[k].copy_(torch.empty(self.bias.shape[1:]).uniform_(-bound, bound, generator=gen))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.bias is None:
            return torch.bmm(x, self.weight)
        return torch.baddbmm(self.bias.unsqueeze(1), x, self.weight)


class StackedBatchNorm(nn.Module):
    """Batch normalization of each run on its own: x [K, B, C] is normalised with run k's batch statistics
    (never pooled across the stacked runs) in training mode and with its running statistics in evaluation
    mode. torch.nn.BatchNorm1d's conventions: biased variance to normalise, unbiased variance in the running
    estimate, momentum 0.1, eps 1e-5, affine weight 1 and bias 0 at the start."""

    def __init__(self, runs: int, features: int, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.weight = nn.Parameter(torch.ones(runs, features))
        self.bias = nn.Parameter(torch.zeros(runs, features))
        self.register_buffer("running_mean", torch.zeros(runs, features))
        self.register_buffer("running_var", torch.ones(runs, features))

    def reset(self, generators) -> None:
        with torch.no_grad():
            for tensor, value in ((self.weight, 1), (self.bias, 0), (self.running_mean, 0), (self.running_var, 1)):
                tensor.fill_(value)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            mean = x.mean(1, keepdim=True)
            centred = x - mean
            var = (centred * centred).mean(1, keepdim=True)  # x.var(1) is several times slower on the CPU
            with torch.no_grad():
                n = x.shape[1]
                self.running_mean.lerp_(mean[:, 0], self.momentum)
                self.running_var.lerp_(var[:, 0] * (n / (n - 1)), self.momentum)
        else:
            centred, var = x - self.running_mean[:, None], self.running_var[:, None]
        return centred * torch.rsqrt(var + self.eps) * self.weight[:, None] + self.bias[:, None]


class StackedMLP(nn.Module):
    """Linear layers of the given widths; `activation` between them, dropout after each hidden one.

    `batch_norm[i]`: batch normalization right after linear layer i (before its activation).
    """

    def __init__(self, runs: int, widths: list[int], activation, batch_norm: list[bool] | None = None):
        super().__init__()
        normed = [i for i, on in enumerate(batch_norm or []) if on]
        self.layers = nn.ModuleList(StackedLinear(runs, a, b, bias=i not in normed)
                                    for i, (a, b) in enumerate(itertools.pairwise(widths)))
        self.norms = nn.ModuleDict({str(i): StackedBatchNorm(runs, widths[i + 1]) for i in normed})
        self.activation = activation

    def reset(self, generators) -> None:
        for module in [*self.layers, *self.norms.values()]:
            module.reset(generators)

    def forward(self, x: torch.Tensor, keep_masks: list | None = None) -> torch.Tensor:
        """`keep_masks[i]`, if given, scales hidden layer i (inverted dropout: mask / keep)."""
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if str(i) in self.norms:
                x = self.norms[str(i)](x)
            if i < len(self.layers) - 1:
                x = self.activation(x)
                if keep_masks is not None:
                    x = x * keep_masks[i]
        return x


# Where batch normalization goes in a net that has it (see architectures.NORMALISED for which nets do):
# after every weight layer except the generator's output and the discriminator's input layer (as commonly
# reported for EBGAN's appendix and DCGAN), and never on the discriminator's output s(x).

class MLPGenerator(StackedMLP):
    """EBGAN Table 1's MLP generator: n_layers linear layers, `size` hidden units, ReLU; z [K, B, z_dim] ->
    samples [K, B, *shape] before the output activation."""

    def __init__(self, runs: int, z_dim: int, shape: list, n_layers: int, size: int, batch_norm: bool = False):
        super().__init__(runs, [z_dim] + [size] * (n_layers - 1) + [math.prod(shape)], torch.relu,
                         [batch_norm] * (n_layers - 1) + [False])
        self.shape = tuple(shape)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return super().forward(z).reshape(*z.shape[:2], *self.shape)


class MLPDiscriminator(StackedMLP):
    """EBGAN Table 1's MLP discriminator: n_layers linear layers, LeakyReLU(0.2), one output s(x); inputs
    [K, B, *shape] are flattened."""

    def __init__(self, runs: int, shape: list, n_layers: int, size: int, batch_norm: bool = False):
        super().__init__(runs, [math.prod(shape)] + [size] * (n_layers - 1) + [1], lambda x: F.leaky_relu(x, 0.2),
                         [False] + [batch_norm] * (n_layers - 2) + [False])

    def forward(self, x: torch.Tensor, keep_masks: list | None = None) -> torch.Tensor:
        return super().forward(x.flatten(2), keep_masks)

    def dropout_widths(self) -> list[int]:
        return [layer.weight.shape[2] for layer in self.layers[:-1]]


class StackedAutoencoder(nn.Module):
    """EBGAN's autoencoder discriminator: an encoder of n_layers - 1 layers to a code of `size` units,
    a one-layer decoder. Energy = per-sample mean squared reconstruction error (the paper's ||Dec(Enc(x)) - x||
    with the squared norm averaged over pixels, as in the blog's "mean-squared reconstruction error").

    `offset` (one learned scalar per run, 0 at the start) serves losses that need s of either sign: for
    them s = energy - offset (see stacked_discrepancy); the hinge and the power f use the energy itself."""

    autoencoder = True

    def __init__(self, runs: int, shape: list, n_layers: int, size: int, batch_norm: bool = False,
                 energy: str = "mean_squared"):
        super().__init__()
        in_dim, self.energy = math.prod(shape), energy
        self.encoder = StackedMLP(runs, [in_dim] + [size] * (n_layers - 1), torch.relu,
                                  [False] + [batch_norm] * (n_layers - 2))
        self.decoder = StackedLinear(runs, size, in_dim)
        self.offset = nn.Parameter(torch.zeros(runs))

    def reset(self, generators) -> None:
        self.encoder.reset(generators)
        self.decoder.reset(generators)
        with torch.no_grad():
            self.offset.zero_()

    def dropout_widths(self) -> list[int]:
        return [layer.weight.shape[2] for layer in self.encoder.layers]

    def forward(self, x: torch.Tensor, keep_masks: list | None = None):
        """(energy [K, B], code [K, B, size]) of inputs [K, B, *shape] (flattened)."""
        x = x.flatten(2)
        code = torch.relu(self.encoder(x, keep_masks))
        if keep_masks is not None and len(keep_masks) == len(self.encoder.layers):
            code = code * keep_masks[-1]
        return reconstruction_energy(self.decoder(code) - x, self.energy), code


def pull_away_term(codes: torch.Tensor) -> torch.Tensor:
    """EBGAN's PT per run: mean over pairs i != j of the squared cosine between codes i and j.

    codes [K, N, h] -> [K]. The diagonal is excluded with a mask, not by subtracting N.
    """
    unit = codes / codes.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    cosine = unit @ unit.transpose(1, 2)
    n = codes.shape[1]
    off_diagonal = ~torch.eye(n, dtype=torch.bool, device=codes.device)
    return (cosine ** 2 * off_diagonal).sum(dim=(1, 2)) / (n * (n - 1))


class Parametrisations:
    """Per run of a batch, how s is made non-negative (`parametrisation`'s names, None for none), as the
    masks that stacked_discrepancy selects with (made once: a CUDA graph replays them)."""

    def __init__(self, names: list, device=None):
        self.names = list(names)
        self.positive = torch.tensor([n is not None for n in names], device=device)
        self.masks = {n: torch.tensor([m == n for m in names], device=device) for n in dict.fromkeys(names) if n}


def stacked_discrepancy(D: nn.Module, x: torch.Tensor, how: Parametrisations, keep_masks: list | None = None):
    """s(x) [K, B] of stacked discriminators, and the encoder codes (autoencoder) or None.

    Where run k needs s >= 0 (hinge) or s > 0 (power f), `how.names[k]`: an MLP's output u becomes
    nonnegative(u, how.names[k]) and an autoencoder's energy (non-negative by construction) is used as it
    is; elsewhere s is the MLP's output, or the energy minus the run's learned offset (so that s can take
    either sign)."""
    if getattr(D, "autoencoder", False):
        energy, codes = D(x, keep_masks)
        return torch.where(how.positive[:, None], energy, energy - D.offset[:, None]), codes
    s = raw = D(x, keep_masks).squeeze(-1)
    for name, mask in how.masks.items():
        s = torch.where(mask[:, None], nonnegative(raw, name), s)
    return s, None
