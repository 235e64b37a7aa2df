"""The inner/outer loop for many runs at once: K runs of one architecture train as one batched
computation (energygan.engine.stack), each with its own seed, loss, f, learning rate, optimisers, dropout
flag, pull-away and entropy weights. Resumable from checkpoints; a run that produces NaN or Inf is marked diverged and
frozen while the others go on.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

from energygan import files
from energygan.engine import checkpoints
from energygan.engine import step as step_maths
from energygan.engine.checkpoints import Progress
from energygan.engine.precision import matmul_precision
from energygan.engine.spec import Run, Setup
from energygan.engine.stack import RunStack


class Trainer(RunStack):
    def __init__(self, setup: Setup, runs: list[Run], data, device: str = "cpu", cuda_graph: bool | None = None):
        """`cuda_graph`: replay each step from a CUDA graph (default: on a CUDA device)."""
        super().__init__(setup, runs, device)
        self.data = data.to(self.device)
        k = len(runs)
        self.progress = Progress(status=["ok"] * k, diverged_step=[-1] * k)
        on_device = self.device.type == "cuda" and not data.host_side  # a draw that reads the disk cannot be graphed
        self.cuda_graph = on_device if cuda_graph is None else cuda_graph
        self._graphed = step_maths.GraphedStep(self) if self.cuda_graph else None

    def advance(self) -> torch.Tensor:
        return step_maths.advance(self)

    def step(self) -> None:
        step = self.progress.step
        with matmul_precision(self.setup.precision, self.device.type):
            stats = self._graphed() if self._graphed else self.advance()
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
        return checkpoints.state_dict(self)

    def save_checkpoint(self, path: str | Path) -> None:
        self.sync_status()
        files.save_tensors(self.state_dict(), path)

    def load_checkpoint(self, path: str | Path) -> None:
        checkpoints.load(self, path)

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
        ticks of several trainers (energygan.study.training_job)."""
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

    def curves(self, k: int):
        import pandas as pd
        rows = torch.stack([c[k] for c in self.progress.curves]).numpy() if self.progress.curves else np.zeros((0, 5))
        table = pd.DataFrame(rows, columns=["step", "d_loss", "g_loss", "s_real", "s_fake"])
        table["step"] = table["step"].astype(int)
        return table
