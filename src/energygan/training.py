"""The inner/outer loop for many runs at once: K runs of one architecture train as one batched
computation, each with its own seed, loss, f, learning rate, optimisers, dropout flag and pull-away
weight. Resumable from checkpoints; a run that produces NaN or Inf is marked diverged and frozen
while the others go on.
"""

from __future__ import annotations

import copy
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import architectures, datasets, files, losses, models, nonlinearities, rng
from .optimizers import StackedOptimizer
from .precision import matmul_precision
from .registry import label

# Random streams (see energygan.rng): one per use, so that no two draws ever share numbers; the data
# use datasets.DATA_STREAM (100, 101).
Z_D, Z_G, Z_FIXED = 0, 1, 2          # normal streams: noise for D steps, G steps, the sample grid
DROPOUT = 1000                        # uniform streams: dropout masks (+ layer and pass)
FIXED_SAMPLES = 64
GRAPH_WARMUP = 3                      # eager steps before a CUDA graph captures the step


@dataclass(frozen=True)
class Run:
    """What may differ between runs that train together."""
    run_id: str
    seed: int
    loss: str | dict = "logistic"
    f: str | dict = "softplus"
    lr: float = 2e-4
    optim_d: str = "adam"
    optim_g: str = "adam"
    dropout_d: bool = False
    pt_weight: float = 0.0


@dataclass(frozen=True)
class Setup:
    """What runs that train together share: data, architecture (EBGAN Table 1 names), schedule."""
    dataset: str = "mnist"              # a name in energygan.datasets
    discriminator: str = "mlp"          # a name in energygan.architectures.DISCRIMINATORS
    generator: str = "mlp"              # a name in energygan.architectures.GENERATORS
    z_dim: int = 32
    n_layer_g: int = 3
    size_g: int = 256
    n_layer_d: int = 3
    size_d: int = 128
    batch_size: int = 64
    steps: int = 500
    d_steps: int = 1                    # discriminator steps per generator step
    dropout: float = 0.5
    batch_norm: str = "none"            # none | generator | both: which nets (architectures.NORMALISED, and why)
    nonnegative_s: str = "square"       # how an MLP's output becomes s >= 0 where the loss needs it: models.NONNEGATIVE
    positive_s: str = "softplus"        # ... and s > 0 where only f needs it (the power f)
    # decay of an exponential moving average of G's weights (0: off); the fixed samples, the saved
    # generators (scored and probed) and the snapshots are the average's, D trains against G itself
    ema: float = 0.0
    energy: str = "mean_squared"        # an autoencoder's energy of its reconstruction error: models.ENERGIES
    # the G step goes on from the last D step's fake batch (one generator forward fewer a step, as most
    # public GAN loops do), so both steps see the same noise: off, the paper's separate draws
    reuse_fake: bool = False
    precision: str = "fp32"             # fp32 | tf32 | bf16: energygan.precision
    adam_betas: tuple = (0.5, 0.999)
    checkpoint_every: int = 100
    log_every: int = 10
    snapshots: tuple = ()               # fractions of `steps` at which each run's G and D are kept as well

    @classmethod
    def from_dict(cls, settings: dict) -> "Setup":
        """From JSON (a job's settings, a manifest), where tuples come back as lists."""
        return cls(**{**settings, "adam_betas": tuple(settings.get("adam_betas", cls.adam_betas)),
                      "snapshots": tuple(settings.get("snapshots", ()))})

    @property
    def snapshot_steps(self) -> list[int]:
        return sorted({round(fraction * self.steps) for fraction in self.snapshots} - {0, self.steps})


class CheckpointError(RuntimeError):
    pass


# --- the batched trainer -----------------------------------------------------------------------

@dataclass
class Progress:
    step: int = 0
    status: list = field(default_factory=list)         # "ok" | "diverged" per run
    diverged_step: list = field(default_factory=list)  # step at which a run diverged, else -1
    curves: list = field(default_factory=list)         # [K, 5] tensors: step, d_loss, g_loss, s_real, s_fake


class Trainer:
    def __init__(self, setup: Setup, runs: list[Run], data, device: str = "cpu", cuda_graph: bool | None = None):
        """`cuda_graph`: replay each step from a CUDA graph (default: on a CUDA device)."""
        self.setup, self.runs, self.device = setup, runs, torch.device(device)
        self.data = data.to(self.device)
        k = len(runs)
        dev = {"device": self.device}
        self.keys = torch.tensor([r.seed for r in runs], dtype=torch.int64, **dev)
        self.loss_fns = [losses.make(r.loss) for r in runs]
        self.f_fns = [nonlinearities.make(r.f) for r in runs]
        self.loss_groups = _groups([label(r.loss) for r in runs], self.loss_fns, self.device)
        self.f_groups = _groups([label(r.f) for r in runs], self.f_fns, self.device)
        # how each run's s is made s >= 0 (hinge) or s > 0 (power f): see models.stacked_discrepancy
        self.parametrisations = models.Parametrisations(
            [models.parametrisation(l, f, setup.nonnegative_s, setup.positive_s) for l, f in zip(self.loss_fns, self.f_fns)],
            self.device)
        self.dropout = torch.tensor([r.dropout_d for r in runs], **dev)
        self.pt_weight = torch.tensor([r.pt_weight for r in runs], **dev)
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
        lr = torch.tensor([r.lr for r in runs], **dev)
        self.opt_g = StackedOptimizer(self.G.parameters(), lr, _is_adam(runs, "optim_g"), setup.adam_betas)
        self.opt_d = StackedOptimizer(self.D.parameters(), lr, _is_adam(runs, "optim_d"), setup.adam_betas)
        self.any_dropout = any(r.dropout_d for r in runs)
        self.progress = Progress(status=["ok"] * k, diverged_step=[-1] * k)
        # the step at which each run first went non-finite (-1: never), kept on the device so that a
        # step needs no host sync; the host's `progress` catches up at log and checkpoint steps
        self.first_bad = torch.full((k,), -1, dtype=torch.int64, **dev)
        self.step_count = torch.zeros((), dtype=torch.int64, **dev)  # progress.step, on the device
        on_device = self.device.type == "cuda" and not data.host_side  # a draw that reads the disk cannot be graphed
        self.cuda_graph = on_device if cuda_graph is None else cuda_graph
        self._graph, self._eager_steps = None, 0

    @property
    def active(self) -> torch.Tensor:
        return self.first_bad < 0

    # -- one step --

    def _keep_masks(self, tick: int, pass_id: int, batch: int):
        """Inverted-dropout masks per hidden layer of D; all ones for runs without dropout."""
        if not self.any_dropout:
            return None
        widths = self.D.dropout_widths()
        keep = 1 - self.setup.dropout
        masks = []
        for i, width in enumerate(widths):
            u = rng.uniform(self.keys, DROPOUT + 10 * i + pass_id, tick, (batch, width))
            mask = (u < keep).float() / keep
            masks.append(torch.where(self.dropout[:, None, None], mask, torch.ones_like(mask)))
        return masks

    def _discrepancy(self, x, masks):
        """s(x) [K, B] for every run, and the encoder codes (autoencoder) or None; in fp32 whatever the
        step's precision: the losses and the pull-away term are taken in fp32."""
        s, codes = models.stacked_discrepancy(self.D, x, self.parametrisations, masks)
        return s.float(), None if codes is None else codes.float()

    def _generate(self, stream, tick, batch):
        z = rng.normal(self.keys, stream, tick, (batch, self.setup.z_dim))
        return self.dataset.activate(self.G(z))

    def advance(self) -> torch.Tensor:
        """One generator step after `d_steps` discriminator steps, for every active run, entirely on the
        device (nothing read back), so that a CUDA graph can capture it. Returns [K, 4]: D loss, G loss,
        mean s on real and on fake samples."""
        setup, batch, step = self.setup, self.setup.batch_size, self.step_count
        active = self.active
        d_params = list(self.D.parameters())
        for d in range(setup.d_steps):
            tick = step * setup.d_steps + d
            x_real = self.data.sample(self.keys, tick, batch)
            if setup.reuse_fake and d == setup.d_steps - 1:
                x_kept = self._generate(Z_D, tick, batch)  # its graph stays for the G step
                x_fake = x_kept.detach()
            else:
                with torch.no_grad():
                    x_fake = self._generate(Z_D, tick, batch)
            s_real, _ = self._discrepancy(x_real, self._keep_masks(tick, 0, batch))
            s_fake, _ = self._discrepancy(x_fake, self._keep_masks(tick, 1, batch))
            d_loss = torch.zeros(len(self.runs), device=self.device)
            for fn, idx in self.loss_groups:
                d_loss[idx] = fn.real(s_real[idx]).mean(1) + fn.fake(s_fake[idx]).mean(1)
            total = torch.where(active, d_loss, torch.zeros_like(d_loss)).sum()
            self.opt_d.step(torch.autograd.grad(total, d_params), active)
        x_fake = x_kept if setup.reuse_fake else self._generate(Z_G, step, batch)
        s_gen, codes = self._discrepancy(x_fake, self._keep_masks(step, 2, batch))
        g_loss = torch.zeros(len(self.runs), device=self.device)
        for fn, idx in self.f_groups:
            g_loss[idx] = fn(s_gen[idx]).mean(1)
        if codes is not None:  # EBGAN-PT: the pull-away term, on the generator's loss only
            g_loss = g_loss + self.pt_weight * models.pull_away_term(codes)
        total = torch.where(active, g_loss, torch.zeros_like(g_loss)).sum()
        self.opt_g.step(torch.autograd.grad(total, list(self.G.parameters())), active)
        if self.G_average is not None:
            self._average_generator(active)
        step.add_(1)
        bad = ~(torch.isfinite(d_loss) & torch.isfinite(g_loss)) & active
        self.first_bad.copy_(torch.where(bad, step, self.first_bad))
        return torch.stack([d_loss, g_loss, s_real.mean(1), s_fake.mean(1)], 1).detach()

    @torch.no_grad()
    def _average_generator(self, active: torch.Tensor) -> None:
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

    def _graphed_advance(self) -> torch.Tensor:
        """`advance` replayed from a CUDA graph: one launch per step instead of hundreds of small ones.

        The first GRAPH_WARMUP steps run eagerly on a side stream (as torch.cuda.graph asks), then the
        step is captured once; replays reuse the same tensors, so every input is updated in place.
        """
        if self._graph is None and self._eager_steps < GRAPH_WARMUP:
            self._eager_steps += 1
            side = torch.cuda.Stream(self.device)
            side.wait_stream(torch.cuda.current_stream(self.device))
            with torch.cuda.stream(side):
                stats = self.advance()
            torch.cuda.current_stream(self.device).wait_stream(side)
            return stats
        if self._graph is None:
            self._graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self._graph):
                self._graph_stats = self.advance()
        self._graph.replay()
        return self._graph_stats

    def step(self) -> None:
        step = self.progress.step
        with matmul_precision(self.setup.precision, self.device.type):
            stats = self._graphed_advance() if self.cuda_graph else self.advance()
        self.progress.step += 1
        if step % self.setup.log_every == 0 or self.progress.step == self.setup.steps:
            self.sync_status()
            self.progress.curves.append(torch.cat([torch.full_like(stats[:, :1], step), stats], 1).cpu())

    def sync_status(self) -> None:
        """Bring the host's per-run status up to date (one device sync); weights are checked here too."""
        finite = torch.ones_like(self.active)
        for p in [*self.G.parameters(), *self.D.parameters()]:
            finite &= torch.isfinite(p.detach()).reshape(len(p), -1).all(1)
        self.first_bad.copy_(torch.where(~finite & self.active, self.progress.step, self.first_bad))
        for k, bad_step in enumerate(self.first_bad.tolist()):
            if bad_step >= 0 and self.progress.status[k] == "ok":
                self.progress.status[k], self.progress.diverged_step[k] = "diverged", bad_step

    # -- checkpoints --

    def state_dict(self) -> dict:
        return {"runs": [asdict(r) for r in self.runs], "setup": asdict(self.setup),
                "G": self.G.state_dict(), "D": self.D.state_dict(),
                **({"G_average": self.G_average.state_dict()} if self.G_average is not None else {}),
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                "progress": asdict(self.progress)}

    def save_checkpoint(self, path: str | Path) -> None:
        self.sync_status()
        files.save_tensors(self.state_dict(), path)

    def load_checkpoint(self, path: str | Path) -> None:
        path = Path(path)
        try:
            state = torch.load(path, map_location=self.device, weights_only=True)
            if state["runs"] != [asdict(r) for r in self.runs] or state["setup"] != asdict(self.setup):
                raise CheckpointError(f"checkpoint {path} was made for other runs or settings; delete it to start over")
            self.G.load_state_dict(state["G"])
            if self.G_average is not None:
                self.G_average.load_state_dict(state["G_average"])
            self.D.load_state_dict(state["D"])
            self.opt_g.load_state_dict(state["opt_g"])
            self.opt_d.load_state_dict(state["opt_d"])
            self.progress = Progress(**state["progress"])
            # in place: a captured CUDA graph keeps reading these tensors
            self.first_bad.copy_(torch.tensor(self.progress.diverged_step))
            self.step_count.fill_(self.progress.step)
        except CheckpointError:
            raise
        except Exception as err:  # truncated zip, missing keys, wrong shapes: all the same to the user
            # torch's own message for a bad file suggests weights_only=False: not advice to pass on
            raise CheckpointError(f"checkpoint {path} is corrupt or unreadable ({type(err).__name__}); "
                                  "delete it to restart this job from step 0") from err

    # -- the loop --

    def fit(self, checkpoint: str | Path | None = None, on_step=None) -> None:
        """Train to `setup.steps`, resuming from `checkpoint` if it exists and saving it periodically."""
        self.resume(checkpoint)
        while not self.done:
            self.tick(checkpoint, on_step)
        self.sync_status()

    def resume(self, checkpoint: str | Path | None) -> None:
        """Load `checkpoint` where it exists; the start of the progress lines' rate."""
        if checkpoint is not None and Path(checkpoint).exists():
            self.load_checkpoint(checkpoint)
            print(f"resumed from {checkpoint} at step {self.progress.step}", file=sys.stderr)
        self._start, self._t0 = self.progress.step, time.time()

    @property
    def done(self) -> bool:
        return self.progress.step >= self.setup.steps or "ok" not in self.progress.status

    def tick(self, checkpoint: str | Path | None = None, on_step=None, label: str = "") -> None:
        """One step of `fit`, with its callback, checkpoint and progress line: a job may interleave the
        ticks of several trainers (energygan.jobs)."""
        self.step()
        step = self.progress.step
        if on_step is not None:  # before the checkpoint: a resumed job never skips what it does
            on_step(self)
        if checkpoint is not None and step % self.setup.checkpoint_every == 0:
            self.save_checkpoint(checkpoint)
        if step % max(1, self.setup.steps // 10) == 0 or step == self.setup.steps:
            rate = (step - self._start) / max(time.time() - self._t0, 1e-9)
            print(f"{label}step {step}/{self.setup.steps} ({step / self.setup.steps:.0%}), {rate:.1f} steps/s, "
                  f"{self.progress.status.count('ok')}/{len(self.runs)} runs active", file=sys.stderr)

    # -- results --

    @torch.no_grad()
    def fixed_samples(self) -> torch.Tensor:
        """Samples from the same fixed noise for every run and step: [K, 64, *shape]; in evaluation mode
        (batch normalization from its running statistics, as every later use of the generator); from the
        average of G's weights where `ema` is on."""
        generator = self.generator.eval()
        try:
            z = rng.normal(self.keys, Z_FIXED, 0, (FIXED_SAMPLES, self.setup.z_dim))
            return self.dataset.activate(generator(z))
        finally:
            generator.train()

    def generator_state(self, k: int, averaged: bool = True) -> dict:
        """Run k's generator alone (parameters and batch normalization's running statistics; the weights'
        average where `ema` is on, unless not `averaged`), with its architecture and build arguments (see
        runfolder.load_generator)."""
        net = self.generator if averaged else self.G
        state = {name: p[k].detach().cpu().clone() for name, p in net.state_dict().items()}
        return {**state, "meta.architecture": self.setup.generator, "meta.arguments": self.g_arguments,
                "meta.dataset": self.setup.dataset}

    def discriminator_state(self, k: int) -> dict:
        """Run k's discriminator alone, with its architecture, build arguments, how s is made non-negative
        (see models.stacked_discrepancy) and its dropout rate (runfolder.load_discriminator)."""
        state = {name: p[k].detach().cpu().clone() for name, p in self.D.state_dict().items()}
        return {**state, "meta.architecture": self.setup.discriminator, "meta.arguments": self.d_arguments,
                "meta.dataset": self.setup.dataset, "meta.parametrisation": self.parametrisations.names[k],
                "meta.dropout": self.setup.dropout if self.runs[k].dropout_d else 0.0}

    def curves(self, k: int):
        import pandas as pd
        rows = torch.stack([c[k] for c in self.progress.curves]).numpy() if self.progress.curves else np.zeros((0, 5))
        table = pd.DataFrame(rows, columns=["step", "d_loss", "g_loss", "s_real", "s_fake"])
        table["step"] = table["step"].astype(int)
        return table


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
