"""The step maths: `d_steps` discriminator steps, then one generator step, for every active run of a stack,
entirely on the device (nothing read back), so that a CUDA graph can capture it; and its replay from a
CUDA graph.
"""

from __future__ import annotations

import torch

from energygan import rng
from energygan.engine import entropy, models

GRAPH_WARMUP = 3  # eager steps before a CUDA graph captures the step


def advance(trainer) -> torch.Tensor:
    """One generator step after `d_steps` discriminator steps, for every active run of the Trainer `trainer` (its
    stack and its data), entirely on the device (nothing read back), so that a CUDA graph can capture it.
    Returns [K, 4]: D loss, G loss, mean s on real and on fake samples."""
    setup, batch, step = trainer.setup, trainer.setup.batch_size, trainer.step_count
    active = trainer.active
    d_moves, g_moves = trainer.gated()
    d_params = list(trainer.D.parameters())
    for d in range(setup.d_steps):
        tick = step * setup.d_steps + d
        x_real = trainer.data.sample(trainer.keys, tick, batch)
        if setup.reuse_fake and d == setup.d_steps - 1:
            x_kept = trainer.fake_batch(rng.Z_D, tick, batch)  # its graph stays for the G step
            x_fake = x_kept.detach()
        else:
            with torch.no_grad():
                x_fake = trainer.fake_batch(rng.Z_D, tick, batch)
        s_real, _ = trainer.discrepancy(x_real, trainer.keep_masks(tick, 0, batch))
        s_fake, _ = trainer.discrepancy(x_fake, trainer.keep_masks(tick, 1, batch))
        d_loss = torch.zeros(len(trainer.runs), device=trainer.device)
        for fn, idx in trainer.loss_groups:
            d_loss[idx] = fn.real(s_real[idx]).mean(1) + fn.fake(s_fake[idx]).mean(1)
        total = torch.where(active, d_loss, torch.zeros_like(d_loss)).sum()
        trainer.opt_d.step(torch.autograd.grad(total, d_params), d_moves)
    x_fake = x_kept if setup.reuse_fake else trainer.fake_batch(rng.Z_G, step, batch)
    s_gen, codes = trainer.discrepancy(x_fake, trainer.keep_masks(step, 2, batch))
    g_loss = torch.zeros(len(trainer.runs), device=trainer.device)
    for fn, idx in trainer.f_groups:
        g_loss[idx] = fn(s_gen[idx]).mean(1)
    if codes is not None:  # EBGAN-PT: the pull-away term, on the generator's loss only
        g_loss = g_loss + trainer.pt_weight * models.pull_away_term(codes)
    if trainer.any_entropy:  # the calibrated EBGAN: the generator also maximises its entropy
        g_loss = g_loss - trainer.entropy_weight * entropy.estimate(x_fake.flatten(2).float(), setup.entropy_estimator,
                                                                    setup.entropy_k)
    total = torch.where(active, g_loss, torch.zeros_like(g_loss)).sum()
    trainer.opt_g.step(torch.autograd.grad(total, list(trainer.G.parameters())), g_moves)
    trainer.last_d_loss.copy_(d_loss.detach())
    if trainer.G_average is not None:
        trainer.average_generator(active)
    step.add_(1)
    bad = ~(torch.isfinite(d_loss) & torch.isfinite(g_loss)) & active
    trainer.first_bad.copy_(torch.where(bad, step, trainer.first_bad))
    return torch.stack([d_loss, g_loss, s_real.mean(1), s_fake.mean(1)], 1).detach()


class GraphedStep:
    """`advance` replayed from a CUDA graph: one launch per step instead of hundreds of small ones.

    The first GRAPH_WARMUP steps run eagerly on a side stream (as torch.cuda.graph asks), then the
    step is captured once; replays reuse the same tensors, so every input is updated in place.
    """

    def __init__(self, trainer):
        self.trainer, self.graph, self.eager_steps, self.graph_stats = trainer, None, 0, None

    def __call__(self) -> torch.Tensor:
        if self.graph is None and self.eager_steps < GRAPH_WARMUP:
            self.eager_steps += 1
            side = torch.cuda.Stream(self.trainer.device)
            side.wait_stream(torch.cuda.current_stream(self.trainer.device))
            with torch.cuda.stream(side):
                stats = advance(self.trainer)
            torch.cuda.current_stream(self.trainer.device).wait_stream(side)
            return stats
        if self.graph is None:
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph):
                self.graph_stats = advance(self.trainer)
        self.graph.replay()
        return self.graph_stats
