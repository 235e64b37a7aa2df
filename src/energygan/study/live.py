"""A live view of training in TensorBoard: while a job trains, each of its runs logs its losses and D's mean s on
real and on generated data (every `setup.log_every` steps, as its curves.csv) and its samples (every
`setup.checkpoint_every` steps: the fixed-noise grid of an image dataset, a histogram of 1,000 samples over the
plane of a 2D mixture) to `logs/live/<experiment>/<run id>/`:

    tensorboard --logdir logs/live        # then open http://localhost:6006 while `make run` or a study trains

Switched by `train.live_view`; off, nothing is imported and nothing written. A job resumed from its checkpoint
takes the events after its step out of the log, so that its curves do not double back. The logs are not results:
they stay out of DVC and out of kept studies.

TensorBoard rather than DVCLive: its view refreshes in the browser while jobs write, for every run of every job
at once, with no account, extension or repository step; DVCLive's live plots need VS Code's extension or DVC
Studio (a hosted service), and its `dvc plots` render once per call.
"""

from __future__ import annotations

import torch

from energygan import rng

PLANE_SAMPLES, PLANE_BINS, PLANE_EXTENT = 1000, 96, 3.0  # a 2D run's samples, drawn as a density over [-3, 3]^2
CURVES = ("d_loss", "g_loss", "s_real", "s_fake")        # the columns of a run's curves.csv after the step


class LiveView:
    """One TensorBoard writer per run of a trainer (energygan.engine.training.Trainer), fed after each step."""

    def __init__(self, trainer, root: str, resumed_at: int):
        from torch.utils.tensorboard import SummaryWriter  # only where the view is on
        self.trainer = trainer
        # flushed every 10 s: a viewer sees a step within seconds; purge_step drops a cut-off job's later events
        self.writers = [SummaryWriter(f"{root}/{run.run_id}", flush_secs=10, purge_step=resumed_at or None)
                        for run in trainer.runs]

    def after_step(self) -> None:
        trainer, step = self.trainer, self.trainer.progress.step
        setup = trainer.setup
        curves = trainer.progress.curves
        if curves and int(curves[-1][0, 0]) == step - 1:  # this step was logged: the row curves.csv gets
            for k, writer in enumerate(self.writers):
                for name, value in zip(CURVES, curves[-1][k, 1:].tolist()):
                    writer.add_scalar(f"training/{name}", value, step - 1)
        if step % setup.checkpoint_every == 0 or step == setup.steps:
            for k, image in enumerate(self.samples()):
                self.writers[k].add_image("samples", image, step)

    @torch.no_grad()
    def samples(self) -> torch.Tensor:
        """Each run's samples as an image [K, C, H, W] in [0, 1]."""
        trainer = self.trainer
        dataset = trainer.dataset
        if dataset.images:  # the fixed-noise grid, 8 x 8
            x = dataset.to_unit(trainer.fixed_samples()).clamp(0, 1)
            k, n, c, h, w = x.shape
            side = int(n ** 0.5)
            grid = x[:, :side * side].reshape(k, side, side, c, h, w).permute(0, 3, 1, 4, 2, 5)
            return grid.reshape(k, c, side * h, side * w).cpu()
        generator = trainer.generator.eval()
        try:  # the fixed-noise stream at its step 1 (the sample grid takes step 0)
            noise = rng.normal(trainer.keys, rng.Z_FIXED, 1, (PLANE_SAMPLES, trainer.setup.z_dim))
            x = dataset.activate(generator(noise))
        finally:
            generator.train()
        cells = ((x.float().cpu() + PLANE_EXTENT) / (2 * PLANE_EXTENT) * PLANE_BINS).long()
        inside = ((cells >= 0) & (cells < PLANE_BINS)).all(-1)
        counts = torch.zeros(len(x), PLANE_BINS * PLANE_BINS)
        flat = (PLANE_BINS - 1 - cells[..., 1]) * PLANE_BINS + cells[..., 0]  # y up
        counts.scatter_add_(1, flat.clamp(0, PLANE_BINS * PLANE_BINS - 1), inside.float())
        density = counts / counts.amax(1, keepdim=True).clamp_min(1)
        return density.sqrt().reshape(len(x), 1, PLANE_BINS, PLANE_BINS)  # sqrt: thin bridges between modes show

    def close(self) -> None:
        for writer in self.writers:
            writer.close()
