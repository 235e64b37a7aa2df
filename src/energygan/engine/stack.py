"""K runs of one architecture as one stack: each run's seed, loss, f, parametrisation of s, dropout,
pull-away and entropy weights as tensors over the runs, their generators and discriminators built side by side, and
their optimisers. What one run's networks are, alone, is read back from here (generator_state,
discriminator_state).
"""

from __future__ import annotations

import copy

import torch

from energygan import rng
from energygan.data import datasets
from energygan.engine import architectures, losses, models, nonlinearities, parametrisations, saved
from energygan.engine.optimizers import StackedOptimizer
from energygan.engine.spec import Run, Setup
from energygan.registry import label

FIXED_SAMPLES = 64


class RunStack:
    def __init__(self, setup: Setup, runs: list[Run], device: str = "cpu"):
        self.setup, self.runs, self.device = setup, runs, torch.device(device)
        k = len(runs)
        dev = {"device": self.device}
        self.keys = torch.tensor([r.seed for r in runs], dtype=torch.int64, **dev)
        self.loss_fns = [losses.make(r.loss) for r in runs]
        self.f_fns = [nonlinearities.make(r.f) for r in runs]
        self.loss_groups = _groups([label(r.loss) for r in runs], self.loss_fns, self.device)
        self.f_groups = _groups([label(r.f) for r in runs], self.f_fns, self.device)
        # how each run's s is made s >= 0 (hinge) or s > 0 (power f): see models.stacked_discrepancy
        self.parametrisations = models.Parametrisations(
            [parametrisations.parametrisation(loss, f, setup.nonnegative_s, setup.positive_s)
             for loss, f in zip(self.loss_fns, self.f_fns)], self.device)
        self.dropout = torch.tensor([r.dropout_d for r in runs], **dev)
        self.pt_weight = torch.tensor([r.pt_weight for r in runs], **dev)
        self.entropy_weight = torch.tensor([r.entropy_weight for r in runs], **dev)
        self.any_entropy = any(r.entropy_weight for r in runs)
        self.dataset = datasets.get(setup.dataset)
        if found := architectures.problems(setup, self.dataset.shape, any(r.pt_weight > 0 for r in runs),
                                          any(r.dropout_d for r in runs)):
            raise ValueError("; ".join(found))
        self.g_arguments = architectures.build_arguments("generator", setup, self.dataset.shape)
        self.d_arguments = architectures.build_arguments("discriminator", setup, self.dataset.shape)
        self.G = architectures.build("generator", setup.generator, k, self.g_arguments).to(self.device)
        self.D = architectures.build("discriminator", setup.discriminator, k, self.d_arguments).to(self.device)
        self.G.reset([torch.Generator().manual_seed(2 * r.seed) for r in runs])
        self.D.reset([torch.Generator().manual_seed(2 * r.seed + 1) for r in runs])
        self.G_average = copy.deepcopy(self.G).requires_grad_(False) if setup.ema else None
        lr_d, lr_g = (torch.tensor([getattr(r, key) for r in runs], **dev) for key in ("lr", "generator_lr"))
        self.opt_g = StackedOptimizer(self.G.parameters(), lr_g, _is_adam(runs, "optim_g"), setup.adam_betas,
                                      decay=setup.lr_decay)
        self.opt_d = StackedOptimizer(self.D.parameters(), lr_d, _is_adam(runs, "optim_d"), setup.adam_betas,
                                      decay=setup.lr_decay)
        # each run's last discriminator loss, which gates its next updates where `setup.gap_gate` is set
        self.last_d_loss = torch.zeros(k, **dev)
        self.any_dropout = any(r.dropout_d for r in runs)
        # the step at which each run first went non-finite (-1: never), kept on the device so that a
        # step needs no host sync; the host's `progress` catches up at log and checkpoint steps
        self.first_bad = torch.full((k,), -1, dtype=torch.int64, **dev)
        self.step_count = torch.zeros((), dtype=torch.int64, **dev)  # progress.step, on the device

    @property
    def active(self) -> torch.Tensor:
        return self.first_bad < 0

    def gated(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(runs whose D updates, runs whose G updates) at this step: the active runs, each gated by its last
        D loss where `setup.gap_gate` = (low, high) is set (D above low, G below high; between them, both)."""
        if not self.setup.gap_gate:
            return self.active, self.active
        low, high = self.setup.gap_gate
        return self.active & (self.last_d_loss > low), self.active & (self.last_d_loss < high)

    def keep_masks(self, tick: int, pass_id: int, batch: int):
        """Inverted-dropout masks per hidden layer of D; all ones for runs without dropout."""
        if not self.any_dropout:
            return None
        widths = self.D.dropout_widths()
        keep = 1 - self.setup.dropout
        masks = []
        for i, width in enumerate(widths):
            u = rng.uniform(self.keys, rng.DROPOUT + 10 * i + pass_id, tick, (batch, width))
            mask = (u < keep).float() / keep
            masks.append(torch.where(self.dropout[:, None, None], mask, torch.ones_like(mask)))
        return masks

    def discrepancy(self, x, masks):
        """s(x) [K, B] for every run, and the encoder codes (autoencoder) or None; in fp32 whatever the
        step's precision: the losses and the pull-away term are taken in fp32."""
        s, codes = models.stacked_discrepancy(self.D, x, self.parametrisations, masks)
        return s.float(), None if codes is None else codes.float()

    def fake_batch(self, stream, tick, batch):
        """G's samples [K, batch, *shape] from the noise of `stream` at `tick` (G itself, not its average)."""
        z = rng.normal(self.keys, stream, tick, (batch, self.setup.z_dim))
        return self.dataset.activate(self.G(z))

    @torch.no_grad()
    def average_generator(self, active: torch.Tensor) -> None:
        """G_average <- ema G_average + (1 - ema) G for active runs; batch normalization's running statistics
        are G's own (they describe G's current layers, and the average's are close to them)."""
        for average, current in zip(self.G_average.parameters(), self.G.parameters()):
            weight = ((1 - self.setup.ema) * active).to(current.dtype).reshape(-1, *[1] * (current.ndim - 1))
            average.lerp_(current, weight)
        for average, current in zip(self.G_average.buffers(), self.G.buffers()):
            average.copy_(current)

    @property
    def generator(self):
        """The generator that is sampled, scored and saved: the average of G's weights where `ema` is on."""
        return self.G if self.G_average is None else self.G_average

    @torch.no_grad()
    def fixed_samples(self) -> torch.Tensor:
        """Samples from the same fixed noise for every run and step: [K, 64, *shape]; in evaluation mode
        (batch normalization from its running statistics, as every later use of the generator); from the
        average of G's weights where `ema` is on."""
        generator = self.generator.eval()
        try:
            z = rng.normal(self.keys, rng.Z_FIXED, 0, (FIXED_SAMPLES, self.setup.z_dim))
            return self.dataset.activate(generator(z))
        finally:
            generator.train()

    def generator_state(self, k: int, averaged: bool = True) -> dict:
        """Run k's generator alone (parameters and batch normalization's running statistics; the weights'
        average where `ema` is on, unless not `averaged`), with its architecture and build arguments (see
        runfolder.load_generator)."""
        net = self.generator if averaged else self.G
        state = {name: p[k].detach().cpu().clone() for name, p in net.state_dict().items()}
        return saved.record(state, architecture=self.setup.generator, arguments=self.g_arguments,
                            dataset=self.setup.dataset)

    def discriminator_state(self, k: int) -> dict:
        """Run k's discriminator alone, with its architecture, build arguments, how s is made non-negative
        (see models.stacked_discrepancy) and its dropout rate (runfolder.load_discriminator)."""
        state = {name: p[k].detach().cpu().clone() for name, p in self.D.state_dict().items()}
        return saved.record(state, architecture=self.setup.discriminator, arguments=self.d_arguments,
                            dataset=self.setup.dataset, parametrisation=self.parametrisations.names[k],
                            dropout=self.setup.dropout if self.runs[k].dropout_d else 0.0)


def _groups(labels, fns, device):
    """[(function, index tensor)] for each distinct label: runs sharing a loss (or f) are computed together."""
    groups = {}
    for k, name in enumerate(labels):
        groups.setdefault(name, (fns[k], []))[1].append(k)
    return [(fn, torch.tensor(idx, device=device)) for fn, idx in groups.values()]


def _is_adam(runs, key) -> list[bool]:
    kinds = {getattr(r, key) for r in runs}
    if unknown := kinds - {"adam", "sgd"}:
        raise ValueError(f"unknown optimiser {sorted(unknown)}; known: ['adam', 'sgd']")
    return [getattr(r, key) == "adam" for r in runs]
