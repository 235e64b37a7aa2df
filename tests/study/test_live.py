"""The live view: TensorBoard event files that show each run's curves and samples while its job still trains."""
from dataclasses import asdict

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from energygan.data import datasets
from energygan.engine.spec import Run, Setup
from energygan.study import training_job

SETUP = Setup(dataset="ring8", z_dim=2, n_layer_g=2, size_g=8, n_layer_d=2, size_d=8, batch_size=16, steps=40,
              log_every=5, checkpoint_every=10)
RUNS = [Run(f"seed={seed}", seed=seed, loss="logistic", f="softplus", lr=1e-3) for seed in (0, 1)]


def events(folder):
    accumulator = EventAccumulator(str(folder), size_guidance={"images": 0, "scalars": 0})
    accumulator.Reload()
    return accumulator


def test_each_run_shows_its_curves_and_samples_while_the_job_trains(tmp_path):
    live = tmp_path / "live"
    job = training_job.BatchJob(SETUP, RUNS, [str(tmp_path / r.run_id) for r in RUNS], str(tmp_path / "ck.pt"),
                                datasets.load("ring8"), "cpu", live=str(live))
    while job.trainer.progress.step < 20:  # half-way: the job is still training
        job.tick()
    for writer in job.live.writers:
        writer.flush()  # what the writer's 10-second flush does while a job runs
    for k, run in enumerate(RUNS):
        seen = events(live / run.run_id)
        d_loss = seen.Scalars("training/d_loss")
        assert [e.step for e in d_loss] == [0, 5, 10, 15]  # the steps curves.csv gets
        # the values the trainer logged at those steps, run by run
        logged = torch.stack([c[k] for c in job.trainer.progress.curves])
        assert [e.value for e in d_loss] == pytest.approx(logged[:, 1].tolist(), rel=1e-6)
        assert [e.value for e in seen.Scalars("training/s_fake")] == pytest.approx(logged[:, 4].tolist(), rel=1e-6)
        images = seen.Images("samples")
        assert [e.step for e in images] == [10, 20] and images[0].width == images[0].height == 96
    while not job.done:
        job.tick()
    job.finish(training_job.environment("cpu"))
    assert [e.step for e in events(live / RUNS[0].run_id).Images("samples")] == [10, 20, 30, 40]


def test_a_2d_samples_image_is_the_density_of_the_samples_over_the_plane():
    from energygan.study.live import PLANE_BINS, LiveView

    class Stub:
        dataset = datasets.get("ring8")
        setup = SETUP
        keys = torch.tensor([0])

        class generator:  # every sample at (1.5, -1.5): one bright cell, right and below the centre
            @staticmethod
            def eval():
                return Stub.generator

            @staticmethod
            def train():
                pass

            def __new__(cls, z):
                return torch.tensor([1.5, -1.5]).expand(1, len(z[0]), 2)
    view = LiveView.__new__(LiveView)
    view.trainer = Stub
    image = view.samples()
    assert image.shape == (1, 1, PLANE_BINS, PLANE_BINS) and image.max() == 1.0
    row, column = divmod(int(image.flatten().argmax()), PLANE_BINS)
    assert column == int((1.5 + 3) / 6 * PLANE_BINS) and row == PLANE_BINS - 1 - int((-1.5 + 3) / 6 * PLANE_BINS)
    assert (image > 0).sum() == 1


def test_off_by_default_in_a_job_without_it(tmp_path):
    batch = {"setup": asdict(SETUP), "runs": [asdict(RUNS[0])], "run_dirs": [str(tmp_path / "r")],
             "checkpoint": str(tmp_path / "ck.pt")}
    training_job.train_shard([batch], None, "cpu")
    assert not (tmp_path / "live").exists() and not any(tmp_path.rglob("events.out.tfevents*"))
