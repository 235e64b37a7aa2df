"""The blog's claim asked exactly: for a fixed generator Q, the discrepancy a loss trains is its closed-form
optimum s*(p, q); is that an energy of the data? At a checkpoint of a run, G is frozen and a fresh
discriminator of the run's own architecture and parametrisation (s >= 0 where the loss needs it) is trained
with the run's loss on the run's P and its Q alone, no generator step in between, for a fixed number of
steps (its loss over the last tenth against the tenth before says whether it has stopped falling). The
probes then read it as they read the run's own D (energygan.analysis.probes), with columns prefixed `fixed_q_`.
On the 2D mixtures Q is the kernel estimate of G's density that the probes compare with (G's samples
smoothed by the modes' std), so that the s*(p, q) they compute is the optimum of exactly this D's problem.

Without dropout, whatever the run used: s is then one function, the one the loss's optimum describes.
"""

from __future__ import annotations

import math

import torch

from energygan import rng
from energygan.engine import architectures, losses, models


def pools(p_sample, generate, z_dim: int, size: int, seed: int, bandwidth: float | None = None,
          centres: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """`size` draws of P (`p_sample(keys, stream, size)` -> [1, size, ...]) and of Q, flattened. Q is the
    frozen G, or, given `centres` (G's samples) and a `bandwidth`, the Gaussian kernel estimate the 2D probes
    take for q: then s*(p, q) over the plane is exactly the optimum of the D trained here."""
    keys = torch.tensor([seed])
    p = p_sample(keys, rng.FIXED_Q, size)[0]
    if centres is None:
        q = generate(rng.normal(keys, rng.FIXED_Q, 1, (size, z_dim))[0])
    else:
        picked = centres[rng.integers(keys, rng.FIXED_Q, 2, (size,), len(centres))[0]]
        q = picked + bandwidth * rng.normal(keys, rng.FIXED_Q, 3, tuple(picked.shape))[0]
    return p.flatten(1).float(), q.flatten(1).float()


def train(record: dict, loss_spec, p: torch.Tensor, q: torch.Tensor, settings: dict, seed: int):
    """A fresh D built from a saved one's `record` (runfolder.discriminator_record), trained on minibatches
    of the pools p and q ([N, features]) with Adam: (s as a callable on [N, ...], {fixed_q_loss,
    fixed_q_loss_change}): the loss's mean over the last tenth of the steps, and its relative change from the
    tenth before (near 0: converged)."""
    generator = torch.Generator().manual_seed(seed)
    net = architectures.build("discriminator", record["architecture"], 1, record["arguments"]).train()
    net.reset([generator])  # the engine's initialisation, from this D's own generator
    how, shape = models.Parametrisations([record["parametrisation"]]), record["arguments"]["shape"]
    loss = losses.make(loss_spec)
    optimiser = torch.optim.Adam(net.parameters(), lr=settings["lr"])
    batch, history = settings["batch_size"], []
    for _ in range(settings["steps"]):
        # real and fake batches apart, as the engine gives them (a batch-normalised D sees each on its own)
        x_p, x_q = (pool[torch.randint(len(pool), (batch,), generator=generator)] for pool in (p, q))
        s_p, s_q = (models.stacked_discrepancy(net, x.reshape(1, batch, *shape), how)[0][0] for x in (x_p, x_q))
        value = loss.real(s_p).mean() + loss.fake(s_q).mean()
        optimiser.zero_grad(set_to_none=True)
        value.backward()
        optimiser.step()
        history.append(value.item())
    net.eval().requires_grad_(False)

    def discrepancy(x: torch.Tensor) -> torch.Tensor:
        return models.stacked_discrepancy(net, x.reshape(1, len(x), *shape), how)[0][0]
    tenth = max(1, len(history) // 10)
    last, before = (sum(part) / len(part) for part in (history[-tenth:], history[-2 * tenth:-tenth] or history))
    change = (last - before) / abs(before) if before else math.nan
    return discrepancy, {"fixed_q_loss": last, "fixed_q_loss_change": change}


def prefixed(row: dict) -> dict:
    return {f"fixed_q_{key}": value for key, value in row.items()}
