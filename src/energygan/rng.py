"""Counter-based random numbers: each value is a hash of (run key, stream, step, position).

A run's noise then depends only on its own seed and the step, never on which other runs share its
batch, on the device, or on where a job was resumed: batched = alone and resumed = uninterrupted
follow by construction. Integer arithmetic stays below 2^63 so it is exact on every device.
"""

from __future__ import annotations

import math

import torch

MASK32 = 0xFFFFFFFF

# The one table of random streams. A value is a hash of (key, stream, step, position), so two uses share numbers
# only when key, stream and step all agree. A use may take a block of streams from its base (one per layer,
# pass or draw); normal(s) draws uniform streams 2s and 2s + 1, so the training noise (Z_*) takes uniform
# streams 0-5. Training draws with the runs' seeds as keys; EVALUATION, PROBES and FIXED_Q with the config's
# evaluation and probe seeds (their uniform streams 3-5 meet the training noise's only where a run's seed is
# one of those seeds).
Z_D, Z_G, Z_FIXED = 0, 1, 2  # normal: the noise of D steps, of G steps, of the fixed sample grid (training)
EVALUATION = 3               # the scoring jobs' noise and draws (analysis.evaluation)
PROBES = 4                   # the probes' own draws (analysis.probes)
FIXED_Q = 5                  # the pools of P and Q a fresh discriminator is trained on (analysis.fixed_q)
DATA = 100                   # 100, 101: the data's indices and a mixture's noise (data.datasets)
DROPOUT = 1000               # + layer and pass: the dropout masks of training
DROPOUT_READ = 2000          # + layer: the masks a dropout-trained D is read through (study.runfolder)


def _hash32(x: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer mixer (xor-shift-multiply, multipliers below 2^31)."""
    x = x & MASK32
    x = x ^ (x >> 16)
    x = (x * 0x7FEB352D) & MASK32
    x = x ^ (x >> 15)
    x = (x * 0x5BD1E995) & MASK32
    return x ^ (x >> 16)


def uniform(keys: torch.Tensor, stream: int, step: int | torch.Tensor, shape: tuple) -> torch.Tensor:
    """Uniform (0, 1) floats of shape (len(keys), *shape); row k depends only on keys[k].

    `step` may be a 0-dim int64 tensor on keys' device, so that a CUDA graph can replay the draw.
    """
    n = math.prod(shape)
    position = torch.arange(n, device=keys.device, dtype=torch.int64)
    h = _hash32(keys.to(torch.int64)[:, None])
    for word in (stream, step & MASK32, step >> 32):
        h = _hash32(h ^ word)
    h = _hash32(h ^ position[None, :])
    return (((h >> 8).to(torch.float32) + 0.5) * 2.0 ** -24).reshape(len(keys), *shape)


def normal(keys: torch.Tensor, stream: int, step: int | torch.Tensor, shape: tuple) -> torch.Tensor:
    """Standard normals by Box-Muller from two uniform streams."""
    u1 = uniform(keys, 2 * stream, step, shape)
    u2 = uniform(keys, 2 * stream + 1, step, shape)
    return torch.sqrt(-2 * torch.log(u1)) * torch.cos(2 * math.pi * u2)


def integers(keys: torch.Tensor, stream: int, step: int | torch.Tensor, shape: tuple, high: int) -> torch.Tensor:
    """Integers in [0, high)."""
    return (uniform(keys, stream, step, shape) * high).long().clamp_(max=high - 1)
