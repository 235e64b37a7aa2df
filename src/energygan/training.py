"""The inner/outer loop for many runs at once: K runs of one architecture train as one batched
computation, each with its own seed, loss, f, learning rate, optimisers, dropout flag and pull-away
weight. Resumable from checkpoints; a run that produces NaN or Inf is marked diverged and frozen
while the others go on.
"""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import __version__, losses, models, nonlinearities, rng, runfolder
from .registry import label

# Random streams (see energygan.rng): one per use, so that no two draws ever share numbers.
Z_D, Z_G, Z_FIXED = 0, 1, 2          # normal streams: noise for D steps, G steps, the sample grid
DATA, DROPOUT = 100, 1000             # uniform streams: data indices; dropout masks (+ layer and pass)
FIXED_SAMPLES = 64
CPU_CHUNK_BYTES = 2 ** 21             # per-tensor slice the CPU optimiser updates at a time
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
    dataset: str = "mnist"              # mnist | ring8 | grid25
    discriminator: str = "mlp"          # mlp | autoencoder
    z_dim: int = 32
    n_layer_g: int = 3
    size_g: int = 256
    n_layer_d: int = 3
    size_d: int = 128
    batch_size: int = 64
    steps: int = 500
    d_steps: int = 1                    # discriminator steps per generator step
    dropout: float = 0.5
    batch_norm: bool = False            # see models.generator: where it goes, and why
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


# --- data ------------------------------------------------------------------------------------

class MNISTData:
    out_dim = 784

    def __init__(self, images: torch.Tensor):
        self.images = images.reshape(len(images), -1).float() / 255.0

    def to(self, device):
        self.images = self.images.to(device)
        return self

    def sample(self, keys, tick, batch):
        return self.images[rng.integers(keys, DATA, tick, (batch,), len(self.images))]

    def output(self, x):
        return torch.sigmoid(x)


class MixtureData:
    """2D Gaussian mixtures with known density: 8 on a ring, or a 5x5 grid."""
    out_dim = 2

    def __init__(self, name: str):
        if name == "ring8":
            angles = torch.arange(8) * (2 * math.pi / 8)
            self.means, self.std = 2.0 * torch.stack([angles.cos(), angles.sin()], 1), 0.05
        elif name == "grid25":
            axis = torch.arange(-2, 3, dtype=torch.float32)
            self.means, self.std = torch.cartesian_prod(axis, axis), 0.05
        else:
            raise ValueError(f"unknown dataset {name!r}; known: ['grid25', 'mnist', 'ring8']")

    def to(self, device):
        self.means = self.means.to(device)
        return self

    def sample(self, keys, tick, batch):
        component = rng.integers(keys, DATA, tick, (batch,), len(self.means))
        return self.means[component] + self.std * rng.normal(keys, DATA + 1, tick, (batch, 2))

    def output(self, x):
        return x

    def log_density(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) of the mixture at points x [N, 2], in float64."""
        return log_gaussian_mixture(x, self.means, self.std)


def log_gaussian_mixture(points: torch.Tensor, centres: torch.Tensor, std: float, leave_one_out: bool = False,
                         chunk: int = 1024) -> torch.Tensor:
    """log of the equal-weight mixture of 2D Gaussians N(centre, std^2 I) at `points` [N, 2], in float64
    (a mixture's density, or a Gaussian kernel density estimate). With `leave_one_out`, points are the
    centres and each leaves itself out. Chunked over points to bound memory."""
    n = len(centres) - leave_one_out
    out = []
    for lo in range(0, len(points), chunk):  # in place: this is the 2D probes' and scores' main cost
        log_k = torch.cdist(points[lo:lo + chunk].double(), centres.double()).square_().mul_(-0.5 / std ** 2)
        if leave_one_out:
            rows = torch.arange(len(log_k))
            log_k[rows, rows + lo] = -math.inf
        top = log_k.amax(1, keepdim=True)
        out.append(log_k.sub_(top).exp_().sum(1).log_().add_(top[:, 0]))
    return torch.cat(out) - math.log(2 * math.pi * std ** 2) - math.log(n)


def load_data(setup: Setup, prepared_dir: str | Path | None):
    if setup.dataset == "mnist":
        from .data import mnist
        return MNISTData(mnist.load_prepared(prepared_dir, "train")["images"])
    return MixtureData(setup.dataset)


# --- optimiser -------------------------------------------------------------------------------

class StackedOptimizer:
    """Adam or SGD per run on stacked parameters [K, ...], with a per-run learning rate.

    The Adam update is torch.optim.Adam's (bias-corrected moments, eps outside the square root).
    Only runs in `active` move. The step count lives on the device and no step reads a value back
    to the host, so that a CUDA graph can capture it.
    """

    def __init__(self, params, lr: torch.Tensor, adam: torch.Tensor, betas, eps: float = 1e-8):
        self.params, self.lr, self.adam, self.betas, self.eps = list(params), lr, adam, betas, eps
        self.any_adam, self.all_adam = bool(adam.any()), bool(adam.all())
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = torch.zeros((), dtype=torch.float64, device=lr.device)

    @torch.no_grad()
    def step(self, grads, active: torch.Tensor) -> None:
        """One update; runs outside `active` keep their parameters (a diverged run's are its own)."""
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1 - b1 ** self.t, (1 - b2 ** self.t).sqrt()
        scale = self.lr * active  # per run: lr, or 0 for a frozen run
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            # On the CPU the update is memory-bound: a few runs at a time stay in cache (2x faster at K=32).
            runs = len(p) if p.device.type != "cpu" else max(1, CPU_CHUNK_BYTES // (p[0].numel() * p.element_size()))
            for lo in range(0, len(p), runs):
                part = slice(lo, lo + runs)
                self._update(p[part], g[part], m[part], v[part], scale[part], self.adam[part], c1, c2)

    def _update(self, p, g, m, v, scale, adam, c1, c2) -> None:
        shape = (-1,) + (1,) * (p.ndim - 1)
        if not self.any_adam:
            p.sub_(g * scale.view(shape))
            return
        m.lerp_(g, 1 - self.betas[0])
        v.mul_(self.betas[1]).addcmul_(g, g, value=1 - self.betas[1])
        update = m / v.sqrt().div_(c2).add_(self.eps)
        if not self.all_adam:
            update = torch.where(adam.view(shape), update.div_(c1), g)
            p.sub_(update.mul_(scale.view(shape)))
        else:
            p.sub_(update.mul_((scale / c1).view(shape)))

    def state_dict(self):
        return {"m": self.m, "v": self.v, "t": self.t}

    def load_state_dict(self, state):
        for mine, saved in zip(self.m + self.v, state["m"] + state["v"]):
            mine.copy_(saved)
        self.t.copy_(state["t"])


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
        # which runs need s >= 0 (hinge) or s > 0 (power f): see models.stacked_discrepancy
        self.positive = torch.tensor([models.needs_positive(l, f) for l, f in zip(self.loss_fns, self.f_fns)], **dev)
        self.dropout = torch.tensor([r.dropout_d for r in runs], **dev)
        self.pt_weight = torch.tensor([r.pt_weight for r in runs], **dev)
        if self.pt_weight.any() and setup.discriminator != "autoencoder":
            raise ValueError("the pull-away term needs encoder codes: set discriminator: autoencoder")
        self.G = models.generator(k, setup.z_dim, setup.n_layer_g, setup.size_g, data.out_dim,
                                  setup.batch_norm).to(self.device)
        if setup.discriminator == "mlp":
            self.D = models.mlp_discriminator(k, data.out_dim, setup.n_layer_d, setup.size_d,
                                              setup.batch_norm).to(self.device)
        elif setup.discriminator == "autoencoder":
            self.D = models.StackedAutoencoder(k, data.out_dim, setup.n_layer_d, setup.size_d,
                                               setup.batch_norm).to(self.device)
        else:
            raise ValueError(f"unknown discriminator {setup.discriminator!r}; known: ['autoencoder', 'mlp']")
        self.G.reset([torch.Generator().manual_seed(2 * r.seed) for r in runs])
        self.D.reset([torch.Generator().manual_seed(2 * r.seed + 1) for r in runs])
        lr = torch.tensor([r.lr for r in runs], **dev)
        self.opt_g = StackedOptimizer(self.G.parameters(), lr, _is_adam(runs, "optim_g", self.device), setup.adam_betas)
        self.opt_d = StackedOptimizer(self.D.parameters(), lr, _is_adam(runs, "optim_d", self.device), setup.adam_betas)
        self.any_dropout = any(r.dropout_d for r in runs)
        self.progress = Progress(status=["ok"] * k, diverged_step=[-1] * k)
        # the step at which each run first went non-finite (-1: never), kept on the device so that a
        # step needs no host sync; the host's `progress` catches up at log and checkpoint steps
        self.first_bad = torch.full((k,), -1, dtype=torch.int64, **dev)
        self.step_count = torch.zeros((), dtype=torch.int64, **dev)  # progress.step, on the device
        self.cuda_graph = self.device.type == "cuda" if cuda_graph is None else cuda_graph
        self._graph, self._eager_steps = None, 0

    @property
    def active(self) -> torch.Tensor:
        return self.first_bad < 0

    # -- one step --

    def _keep_masks(self, tick: int, pass_id: int, batch: int):
        """Inverted-dropout masks per hidden layer of D; all ones for runs without dropout."""
        if not self.any_dropout:
            return None
        widths = [layer.weight.shape[2] for layer in _hidden_layers(self.D)]
        keep = 1 - self.setup.dropout
        masks = []
        for i, width in enumerate(widths):
            u = rng.uniform(self.keys, DROPOUT + 10 * i + pass_id, tick, (batch, width))
            mask = (u < keep).float() / keep
            masks.append(torch.where(self.dropout[:, None, None], mask, torch.ones_like(mask)))
        return masks

    def _discrepancy(self, x, masks):
        """s(x) [K, B] for every run, and the encoder codes (autoencoder) or None."""
        return models.stacked_discrepancy(self.D, x, self.positive, masks)

    def _generate(self, stream, tick, batch):
        z = rng.normal(self.keys, stream, tick, (batch, self.setup.z_dim))
        return self.data.output(self.G(z))

    def _advance(self) -> torch.Tensor:
        """One generator step after `d_steps` discriminator steps, for every active run, entirely on the
        device (nothing read back), so that a CUDA graph can capture it. Returns [K, 4]: D loss, G loss,
        mean s on real and on fake samples."""
        setup, batch, step = self.setup, self.setup.batch_size, self.step_count
        active = self.active
        d_params = list(self.D.parameters())
        for d in range(setup.d_steps):
            tick = step * setup.d_steps + d
            x_real = self.data.sample(self.keys, tick, batch)
            with torch.no_grad():
                x_fake = self._generate(Z_D, tick, batch)
            s_real, _ = self._discrepancy(x_real, self._keep_masks(tick, 0, batch))
            s_fake, _ = self._discrepancy(x_fake, self._keep_masks(tick, 1, batch))
            d_loss = torch.zeros(len(self.runs), device=self.device)
            for fn, idx in self.loss_groups:
                d_loss[idx] = fn.real(s_real[idx]).mean(1) + fn.fake(s_fake[idx]).mean(1)
            total = torch.where(active, d_loss, torch.zeros_like(d_loss)).sum()
            self.opt_d.step(torch.autograd.grad(total, d_params), active)
        x_fake = self._generate(Z_G, step, batch)
        s_gen, codes = self._discrepancy(x_fake, self._keep_masks(step, 2, batch))
        g_loss = torch.zeros(len(self.runs), device=self.device)
        for fn, idx in self.f_groups:
            g_loss[idx] = fn(s_gen[idx]).mean(1)
        if codes is not None:  # EBGAN-PT: the pull-away term, on the generator's loss only
            g_loss = g_loss + self.pt_weight * models.pull_away_term(codes)
        total = torch.where(active, g_loss, torch.zeros_like(g_loss)).sum()
        self.opt_g.step(torch.autograd.grad(total, list(self.G.parameters())), active)
        step.add_(1)
        bad = ~(torch.isfinite(d_loss) & torch.isfinite(g_loss)) & active
        self.first_bad.copy_(torch.where(bad, step, self.first_bad))
        return torch.stack([d_loss, g_loss, s_real.mean(1), s_fake.mean(1)], 1).detach()

    def _graphed_advance(self) -> torch.Tensor:
        """`_advance` replayed from a CUDA graph: one launch per step instead of hundreds of small ones.

        The first GRAPH_WARMUP steps run eagerly on a side stream (as torch.cuda.graph asks), then the
        step is captured once; replays reuse the same tensors, so every input is updated in place.
        """
        if self._graph is None and self._eager_steps < GRAPH_WARMUP:
            self._eager_steps += 1
            side = torch.cuda.Stream(self.device)
            side.wait_stream(torch.cuda.current_stream(self.device))
            with torch.cuda.stream(side):
                stats = self._advance()
            torch.cuda.current_stream(self.device).wait_stream(side)
            return stats
        if self._graph is None:
            self._graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self._graph):
                self._graph_stats = self._advance()
        self._graph.replay()
        return self._graph_stats

    def step(self) -> None:
        step = self.progress.step
        stats = self._graphed_advance() if self.cuda_graph else self._advance()
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
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                "progress": asdict(self.progress)}

    def save_checkpoint(self, path: str | Path) -> None:
        self.sync_status()
        runfolder.save_tensors(self.state_dict(), path)

    def load_checkpoint(self, path: str | Path) -> None:
        path = Path(path)
        try:
            state = torch.load(path, map_location=self.device, weights_only=True)
            if state["runs"] != [asdict(r) for r in self.runs] or state["setup"] != asdict(self.setup):
                raise CheckpointError(f"checkpoint {path} was made for other runs or settings; delete it to start over")
            self.G.load_state_dict(state["G"])
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
        if checkpoint is not None and Path(checkpoint).exists():
            self.load_checkpoint(checkpoint)
            print(f"resumed from {checkpoint} at step {self.progress.step}", file=sys.stderr)
        start, t0 = self.progress.step, time.time()
        while self.progress.step < self.setup.steps and "ok" in self.progress.status:
            self.step()
            step = self.progress.step
            if on_step is not None:  # before the checkpoint: a resumed job never skips what it does
                on_step(self)
            if checkpoint is not None and step % self.setup.checkpoint_every == 0:
                self.save_checkpoint(checkpoint)
            if step % max(1, self.setup.steps // 10) == 0 or step == self.setup.steps:
                rate = (step - start) / max(time.time() - t0, 1e-9)
                print(f"step {step}/{self.setup.steps} ({step / self.setup.steps:.0%}), {rate:.1f} steps/s, "
                      f"{self.progress.status.count('ok')}/{len(self.runs)} runs active", file=sys.stderr)
        self.sync_status()

    # -- results --

    @torch.no_grad()
    def fixed_samples(self) -> torch.Tensor:
        """Samples from the same fixed noise for every run and step: [K, 64, out_dim]; in evaluation mode
        (batch normalization from its running statistics, as every later use of the generator)."""
        self.G.eval()
        try:
            return self._generate(Z_FIXED, 0, FIXED_SAMPLES)
        finally:
            self.G.train()

    def generator_state(self, k: int) -> dict:
        """Run k's generator alone: its parameters (weight [in, out], bias) and batch normalization's running
        statistics, plus its shape."""
        state = {f"{name}": p[k].detach().cpu().clone() for name, p in self.G.state_dict().items()}
        state["meta.widths"] = torch.tensor([l.weight.shape[1] for l in self.G.layers] + [self.data.out_dim])
        state["meta.batch_norm"] = torch.tensor(self.setup.batch_norm)
        return state

    def discriminator_state(self, k: int) -> dict:
        """Run k's discriminator alone (parameters and running statistics), plus what rebuilds it and forms
        s from its output: architecture, input size, depth, width, batch normalization, `positive`."""
        state = {name: p[k].detach().cpu().clone() for name, p in self.D.state_dict().items()}
        setup = self.setup
        state["meta.shape"] = torch.tensor([self.data.out_dim, setup.n_layer_d, setup.size_d])
        state["meta.autoencoder"] = torch.tensor(setup.discriminator == "autoencoder")
        state["meta.batch_norm"] = torch.tensor(setup.batch_norm)
        state["meta.positive"] = self.positive[k].cpu()
        return state

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


def _is_adam(runs, key, device):
    kinds = {getattr(r, key) for r in runs}
    if unknown := kinds - {"adam", "sgd"}:
        raise ValueError(f"unknown optimiser {sorted(unknown)}; known: ['adam', 'sgd']")
    return torch.tensor([getattr(r, key) == "adam" for r in runs], device=device)


def _hidden_layers(D):
    return list(D.encoder.layers) if isinstance(D, models.StackedAutoencoder) else list(D.layers)[:-1]


# --- the job: a shard of runs, with every per-run output ---------------------------------------

def environment(device: str) -> dict:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).parent).stdout.strip() or "unknown"
    except OSError:
        commit = "unknown"
    return {"git_commit": commit, "energygan": __version__, "torch": torch.__version__, "numpy": np.__version__,
            "python": platform.python_version(), "device": device,
            "device_name": torch.cuda.get_device_name() if device.startswith("cuda") else platform.processor()}


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device: cuda was asked for, but no CUDA device is visible; use device: auto or cpu")
    return device


def train_shard(batches: list[dict], prepared_dir: str | None, device: str = "auto") -> None:
    """One job: its batches one after another, each {setup, runs, run_dirs, checkpoint} as JSON."""
    for i, batch in enumerate(batches):
        setup = Setup.from_dict(batch["setup"])
        print(f"batch {i + 1}/{len(batches)}: {len(batch['runs'])} runs", file=sys.stderr)
        train_batch(setup, [Run(**r) for r in batch["runs"]], batch["run_dirs"], batch["checkpoint"], prepared_dir,
                    device)


def train_batch(setup: Setup, runs: list[Run], run_dirs: list[str], checkpoint: str, prepared_dir: str | None,
                device: str = "auto") -> None:
    """Train `runs` together and write each run's folder (see energygan.runfolder)."""
    device = resolve_device(device)
    t0 = time.time()
    trainer = Trainer(setup, runs, load_data(setup, prepared_dir), device)

    snapshot_steps = set(setup.snapshot_steps)

    def keep_snapshot(trainer):
        if trainer.progress.step in snapshot_steps:
            for k, run_dir in enumerate(run_dirs):
                runfolder.write_snapshot(run_dir, trainer.progress.step, trainer.generator_state(k),
                                         trainer.discriminator_state(k))
    trainer.fit(checkpoint, on_step=keep_snapshot)
    samples = trainer.fixed_samples().cpu()
    means = trainer.data.means.cpu() if isinstance(trainer.data, MixtureData) else None
    env = environment(device)
    for k, (run, run_dir) in enumerate(zip(runs, run_dirs)):
        manifest = {"run": asdict(run), "setup": asdict(setup), "status": trainer.progress.status[k],
                    "diverged_step": trainer.progress.diverged_step[k], "steps_done": trainer.progress.step,
                    "batch_runs": len(runs), "wall_time_s": round(time.time() - t0, 2), **env}
        runfolder.write_training_outputs(run_dir, trainer.generator_state(k), trainer.discriminator_state(k),
                                         samples[k], means, trainer.curves(k), manifest)
    if Path(checkpoint).exists():
        os.remove(checkpoint)
