"""The blog's claim asked exactly: for a fixed generator Q, the discrepancy a loss trains is its closed-form
optimum s*(p, q); is that an energy of the data? At a checkpoint of a run that works, G is frozen and a fresh
discriminator of each kind the config names (`title_question.fixed_q.discriminators`: the logistic GAN's
MLP with its loss, EBGAN's autoencoder with the hinge, ...) is trained on the run's P and its Q alone, no
generator step in between, for a fixed number of steps (its loss over the last tenth against the tenth
before says whether it has stopped falling). Every kind meets the same frozen Q, so the claims compare them
pair by pair on Q. The probes then read each as they read a run's own D (energygan.analysis.probes), with
columns prefixed `fixed_q_<kind>_`. On the 2D mixtures Q is the kernel estimate of G's density that the probes
compare with (G's samples smoothed by the modes' std), so that the s*(p, q) they compute is the optimum of
exactly this D's problem.

Without dropout: s is then one function, the one the loss's optimum describes.
"""

from __future__ import annotations

import math

import torch

from energygan import rng
from energygan.engine import architectures, losses, models, nonlinearities, parametrisations
from energygan.engine.spec import Setup

# a kind's settings besides its loss
ARCHITECTURE_KEYS = ("discriminator", "n_layer_d", "size_d", "energy", "nonnegative_s")


def slug(kind: str) -> str:
    """A kind's name in column names: `logistic GAN` -> `logistic_gan`."""
    return kind.lower().replace(" ", "_").replace("-", "_")


def record(kind: dict, shape) -> dict:
    """What builds a kind's fresh D for samples of `shape` (as a saved discriminator's record: runfolder): its
    architecture (`discriminator`, `n_layer_d`, `size_d`, an autoencoder's `energy`) and how s is made
    non-negative where its loss needs it (`nonnegative_s`, the engine's default u^2)."""
    setup = Setup(**{k: v for k, v in kind.items() if k in ARCHITECTURE_KEYS})
    loss = losses.make(kind["loss"])
    return {"architecture": setup.discriminator,
            "arguments": architectures.build_arguments("discriminator", setup, tuple(shape)),
            "parametrisation": parametrisations.parametrisation(loss, nonlinearities.make("identity"),
                                                                setup.nonnegative_s, setup.positive_s)}


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
    """A fresh D built from a `record` (`record` above, or a saved one's: runfolder.discriminator_record),
    trained on minibatches of the pools p and q ([N, features]) with Adam: (s as a callable on [N, ...], {loss,
    loss_change}): the loss's mean over the last tenth of the steps, and its relative change from the tenth
    before (near 0: converged)."""
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
    return discrepancy, {"loss": last, "loss_change": change}


def prefixed(kind: str, row: dict) -> dict:
    return {f"fixed_q_{slug(kind)}_{key}": value for key, value in row.items()}
