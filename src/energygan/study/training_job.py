"""One training job: a shard's batches (energygan.study.experiments), each a Trainer, and every run's files.

Up to `concurrent` batches train side by side: their trainers take steps in turn, and on a CUDA device
each runs on a stream of its own (replaying its own CUDA graph), so that a shard of small batches, such
as the EBGAN grid's 4-run ones, keeps the GPU busy where one batch at a time would leave it mostly idle.
Every draw comes from each run's own counter-based stream (energygan.rng), so a batch's results do not
depend on what it shares the job with: on a CPU they are the same bit for bit (tests/study/test_training_job.py).
"""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from energygan import __version__, files
from energygan.data import datasets
from energygan.engine.spec import Run, Setup
from energygan.engine.training import Trainer
from energygan.study import runfolder


def environment(device: str) -> dict:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], check=False, capture_output=True, text=True,
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


def timing(run_steps: int, t0: float) -> dict:
    """A record's wall time since `t0` and the run-steps per second over it."""
    wall = time.time() - t0
    return {"wall_time_s": round(wall, 2), "run_steps_per_s": round(run_steps / max(wall, 1e-9), 1)}


def generators(trainer: Trainer, k: int) -> dict:
    """Run k's generators by the file they are saved in: the sampled one, and G itself where its weights are
    averaged (runfolder.RAW_GENERATOR: what D was trained against)."""
    states = {runfolder.GENERATOR: trainer.generator_state(k)}
    if trainer.G_average is not None:
        states[runfolder.RAW_GENERATOR] = trainer.generator_state(k, averaged=False)
    return states


class BatchJob:
    """A batch of runs training in a job: its trainer, resumed from its checkpoint, its snapshots and
    its runs' folders once done."""

    def __init__(self, setup: Setup, runs: list[Run], run_dirs: list[str], checkpoint: str, data, device: str,
                 label: str = "", live: str | None = None):
        """`live`: the folder of the experiment's live view (energygan.study.live), or None where it is off."""
        self.runs, self.run_dirs, self.checkpoint, self.label = runs, run_dirs, checkpoint, label
        self.t0 = time.time()
        self.trainer = Trainer(setup, runs, data, device)
        self.stream = None
        if self.trainer.device.type == "cuda":
            self.stream = torch.cuda.Stream(self.trainer.device)
            self.stream.wait_stream(torch.cuda.current_stream(self.trainer.device))  # the weights, built on it
        self.snapshot_steps = set(setup.snapshot_steps)
        with self._on_stream():
            self.trainer.resume(checkpoint)
        self.resumed_at = self.trainer.progress.step
        self.live = None
        if live is not None:
            from energygan.study.live import LiveView
            self.live = LiveView(self.trainer, live, self.resumed_at)

    def _on_stream(self):
        return torch.cuda.stream(self.stream) if self.stream is not None else contextlib.nullcontext()

    def _after_step(self, trainer: Trainer) -> None:
        """A snapshot where one is due, and the live view's scalars and samples."""
        if self.live is not None:
            self.live.after_step()
        if trainer.progress.step in self.snapshot_steps:
            for k, run_dir in enumerate(self.run_dirs):
                runfolder.write_snapshot(run_dir, trainer.progress.step, generators(trainer, k),
                                         trainer.discriminator_state(k))

    @property
    def done(self) -> bool:
        return self.trainer.done

    def tick(self) -> None:
        with self._on_stream():
            self.trainer.tick(self.checkpoint, self._after_step, self.label)

    def finish(self, env: dict) -> dict:
        """Write every run's folder (see energygan.study.runfolder), then drop the checkpoint; the batch's line
        of the job's record."""
        trainer = self.trainer
        with self._on_stream():
            trainer.sync_status()
            samples = trainer.fixed_samples().cpu()
            if trainer.dataset.images:
                samples = trainer.dataset.to_unit(samples)  # image files hold [0, 1]
            means = trainer.data.means.cpu() if isinstance(trainer.data, datasets.MixtureData) else None
            for k, (run, run_dir) in enumerate(zip(self.runs, self.run_dirs)):
                manifest = {"run": asdict(run), "setup": asdict(trainer.setup), "status": trainer.progress.status[k],
                            "diverged_step": trainer.progress.diverged_step[k], "steps_done": trainer.progress.step,
                            "batch_runs": len(self.runs), "wall_time_s": round(time.time() - self.t0, 2), **env}
                runfolder.write_training_outputs(run_dir, generators(trainer, k), trainer.discriminator_state(k),
                                                 samples[k], means, trainer.curves(k), manifest)
        if Path(self.checkpoint).exists():
            os.remove(self.checkpoint)
        if self.live is not None:
            self.live.close()
        trained = trainer.progress.step - self.resumed_at
        return {"setup": asdict(trainer.setup), "runs": len(self.runs), "resumed_at": self.resumed_at,
                "steps_trained": trained, "diverged": trainer.progress.status.count("diverged"),
                **timing(len(self.runs) * trained, self.t0)}


def train_shard(batches: list[dict], prepared_dir: str | None, device: str = "auto", concurrent: int = 1,
                record: str | None = None, live: str | None = None) -> None:
    """One job: its batches, each {setup, runs, run_dirs, checkpoint} as JSON, up to `concurrent` at a
    time; a finished batch's place goes to the next one. The batches share one copy of their data.
    `record`: where the job's record goes once every run's folder is written: the device, and per batch
    its runs, the steps trained in this job, its wall time and run-steps per second (what the cost plan
    estimates, measured). `live`: the experiment's live-view folder, or None."""
    t0 = time.time()
    device = resolve_device(device)
    env = environment(device)
    data: dict = {}
    lines: list = [None] * len(batches)  # the record's, one per batch
    waiting, running = list(enumerate(batches)), []
    while waiting or running:
        while waiting and len(running) < concurrent:
            i, batch = waiting.pop(0)
            setup = Setup.from_dict(batch["setup"])
            if setup.dataset not in data:
                data[setup.dataset] = datasets.load(setup.dataset, prepared_dir)
            label = f"batch {i + 1}/{len(batches)}: " if len(batches) > 1 else ""
            print(f"{label or 'batch: '}{len(batch['runs'])} runs", file=sys.stderr)
            running.append((i, BatchJob(setup, [Run(**r) for r in batch["runs"]], batch["run_dirs"],
                                        batch["checkpoint"], data[setup.dataset], device, label, live)))
        for i, job in list(running):
            if job.done:
                lines[i] = {**job.finish(env), "run_dirs": batches[i]["run_dirs"]}
                running.remove((i, job))
            else:
                job.tick()
    if record is not None:
        files.write_json({"concurrent": concurrent, **timing(sum(b["runs"] * b["steps_trained"] for b in lines), t0),
                          "batches": lines, **env}, record)


def train_batch(setup: Setup, runs: list[Run], run_dirs: list[str], checkpoint: str, prepared_dir: str | None,
                device: str = "auto") -> None:
    """Train `runs` together and write each run's folder: a job of one batch."""
    train_shard([{"setup": asdict(setup), "runs": [asdict(r) for r in runs], "run_dirs": run_dirs,
                  "checkpoint": checkpoint}], prepared_dir, device)
