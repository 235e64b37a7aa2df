"""Convolutional networks for K independent runs as one computation: DCGAN's generator and discriminator,
and EBGAN's convolutional autoencoder discriminator.

K runs' convolutions are one grouped convolution: run k's images sit in channels [k C, (k + 1) C) of a
[B, K C, H, W] tensor, and group k of the weight sees only those. Batch normalization of that tensor
normalises each channel over (B, H, W), that is each run with its own statistics. Every parameter and
buffer has the run as its leading dimension, so that run k's network is `tensor[k]` of each.

Choices (the paper's appendix is not available offline; each is what is commonly reported of DCGAN and
EBGAN's 64x64 models): 4x4 kernels; stride 2 and padding 1 to halve or double; weights from N(0, 0.02),
biases 0, batch normalization's scale 1 and shift 0; LeakyReLU(0.2) in discriminators and encoders, ReLU
in generators and decoders; no batch normalization on a discriminator's input layer, a generator's output
layer or a decoder's output layer.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from energygan.engine import models, parametrisations

INIT_STD = 0.02


def grouped(x: torch.Tensor) -> torch.Tensor:
    """[K, B, C, H, W] -> [B, K C, H, W], channels last (oneDNN's convolutions are 12-20% faster so on 1 CPU core)."""
    k, b = x.shape[:2]
    return x.transpose(0, 1).reshape(b, k * x.shape[2], *x.shape[3:]).contiguous(memory_format=torch.channels_last)


def ungrouped(x: torch.Tensor, runs: int) -> torch.Tensor:
    """[B, K C, H, W] -> [K, B, C, H, W]."""
    return x.reshape(x.shape[0], runs, -1, *x.shape[2:]).transpose(0, 1)


class StackedConv(nn.Module):
    """K independent 4x4 convolutions (or transposed convolutions) as one grouped one."""

    def __init__(self, runs: int, c_in: int, c_out: int, stride: int, padding: int, transposed: bool = False,
                 bias: bool = True):
        super().__init__()
        self.runs, self.stride, self.padding, self.transposed = runs, stride, padding, transposed
        # torch's layouts: conv [out, in / groups, 4, 4], transposed [in, out / groups, 4, 4]
        shape = (runs, c_in, c_out) if transposed else (runs, c_out, c_in)
        self.weight = nn.Parameter(torch.empty(*shape, 4, 4))
        self.bias = nn.Parameter(torch.empty(runs, c_out)) if bias else None

    def reset(self, generators: list[torch.Generator]) -> None:
        with torch.no_grad():
            for k, gen in enumerate(generators):
                self.weight[k].copy_(torch.randn(self.weight.shape[1:], generator=gen) * INIT_STD)
            if self.bias is not None:
                self.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight.reshape(-1, *self.weight.shape[2:])
        bias = None if self.bias is None else self.bias.reshape(-1)
        op = F.conv_transpose2d if self.transposed else F.conv2d
        return op(x, weight, bias, self.stride, self.padding, groups=self.runs)


class StackedBatchNorm2d(models.StackedBatchNorm):
    """torch.nn.BatchNorm2d per run on the grouped layout; the parameters, running statistics [K, C] and
    conventions of models.StackedBatchNorm."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # views of the [K, C] buffers: batch_norm's in-place update of the running statistics lands in them
        return F.batch_norm(x, self.running_mean.view(-1), self.running_var.view(-1), self.weight.view(-1),
                            self.bias.view(-1), self.training, self.momentum, self.eps)


class ConvStack(nn.Module):
    """Convolutions of the given channel widths, each followed by batch normalization where `normed[i]`
    and by `activation` but the last; strides and paddings per layer."""

    def __init__(self, runs: int, channels: list[int], strides: list[int], paddings: list[int], activation,
                 normed: list[bool], transposed: bool):
        super().__init__()
        self.layers = nn.ModuleList(StackedConv(runs, a, b, s, p, transposed, bias=not n)
                                    for a, b, s, p, n in zip(channels, channels[1:], strides, paddings, normed))
        self.norms = nn.ModuleDict({str(i): StackedBatchNorm2d(runs, channels[i + 1])
                                    for i, n in enumerate(normed) if n})
        self.activation = activation

    def reset(self, generators) -> None:
        for module in [*self.layers, *self.norms.values()]:
            module.reset(generators)

    def forward(self, x: torch.Tensor, last_activation: bool = False) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if str(i) in self.norms:
                x = self.norms[str(i)](x)
            if i < len(self.layers) - 1 or last_activation:
                x = self.activation(x)
        return x


def leaky_relu(x):
    return F.leaky_relu(x, 0.2)


class DCGANGenerator(nn.Module):
    """z [K, B, z_dim] -> [K, B, C, H, W] before the output activation, H = 4 * 2^(n_layers - 1): a 4x4
    transposed convolution from z to 4x4 maps with size * 2^(n_layers - 2) channels, then n_layers - 1
    that double the side and halve the channels, down to C at the output."""

    def __init__(self, runs: int, z_dim: int, shape: list, n_layers: int, size: int, batch_norm: bool = True):
        super().__init__()
        self.runs = runs
        channels = [z_dim] + [size * 2 ** (n_layers - 2 - i) for i in range(n_layers - 1)] + [shape[0]]
        self.net = ConvStack(runs, channels, [1] + [2] * (n_layers - 1), [0] + [1] * (n_layers - 1), torch.relu,
                             [batch_norm] * (n_layers - 1) + [False], transposed=True)

    def reset(self, generators) -> None:
        self.net.reset(generators)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return ungrouped(self.net(grouped(z[..., None, None])), self.runs)


class DCGANDiscriminator(nn.Module):
    """x [K, B, C, H, W] -> raw output [K, B]: n_layers - 1 strided convolutions that halve the side from
    H to 4 and double the channels from `size`, then a 4x4 convolution to one number."""

    def __init__(self, runs: int, shape: list, n_layers: int, size: int, batch_norm: bool = True):
        super().__init__()
        self.runs = runs
        channels = [shape[0]] + [size * 2 ** i for i in range(n_layers - 1)] + [1]
        self.net = ConvStack(runs, channels, [2] * (n_layers - 1) + [1], [1] * (n_layers - 1) + [0], leaky_relu,
                             [False] + [batch_norm] * (n_layers - 2) + [False], transposed=False)

    def reset(self, generators) -> None:
        self.net.reset(generators)

    def forward(self, x: torch.Tensor, keep_masks=None) -> torch.Tensor:
        return self.net(grouped(x)).reshape(x.shape[1], self.runs).T


class ConvAutoencoder(nn.Module):
    """EBGAN's convolutional autoencoder discriminator: an encoder of n_layers strided convolutions
    (channels size, 2 size, 4 size, ...: (64)4c2s-(128)4c2s-(256)4c2s for size 64, n_layers 3) and a
    decoder of as many transposed ones back to C channels ((128)4c2s-(64)4c2s-(C)4c2s), with no output
    activation. Energy: of the reconstruction error, as `energy` says (parametrisations.ENERGIES); the code (the
    encoder's output, flattened) serves the pull-away term. `offset` as in models.StackedAutoencoder."""

    autoencoder = True

    def __init__(self, runs: int, shape: list, n_layers: int, size: int, batch_norm: bool = True,
                 energy: str = "mean_squared"):
        super().__init__()
        self.runs, self.energy = runs, energy
        widths = [size * 2 ** i for i in range(n_layers)]
        self.encoder = ConvStack(runs, [shape[0]] + widths, [2] * n_layers, [1] * n_layers, leaky_relu,
                                 [False] + [batch_norm] * (n_layers - 1), transposed=False)
        self.decoder = ConvStack(runs, widths[::-1] + [shape[0]], [2] * n_layers, [1] * n_layers, torch.relu,
                                 [batch_norm] * (n_layers - 1) + [False], transposed=True)
        self.offset = nn.Parameter(torch.zeros(runs))

    def reset(self, generators) -> None:
        self.encoder.reset(generators)
        self.decoder.reset(generators)
        with torch.no_grad():
            self.offset.zero_()

    def forward(self, x: torch.Tensor, keep_masks=None):
        """(energy [K, B], code [K, B, 4 size H W / 4^n_layers])."""
        code = self.encoder(grouped(x), last_activation=True)
        error = ungrouped(self.decoder(code), self.runs) - x
        return (parametrisations.reconstruction_energy(error.flatten(2), self.energy),
                ungrouped(code, self.runs).flatten(2))
