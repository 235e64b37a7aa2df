"""A run's folder, `results/<experiment>/runs/<run id>/`: which files it has, how they are written (each
renamed into place whole) and how they are read back, with an error that names the file, what is wrong
and how to re-make it. Training, evaluation and the summary all go through here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from energygan import __version__, files
from energygan.engine import saved

if TYPE_CHECKING:
    import torch

GENERATOR, DISCRIMINATOR = "generator.pt", "discriminator.pt"
# where a run keeps an average of G's weights (setup.ema), generator.pt holds the average (what is sampled and
# scored) and generator_raw.pt G itself: what D was trained against, whose samples D's probes are read on
RAW_GENERATOR = "generator_raw.pt"
SAMPLES, CURVES, MANIFEST, METRICS = "samples.png", "curves.csv", "manifest.json", "metrics.json"
TRAINING_FILES = [GENERATOR, DISCRIMINATOR, SAMPLES, CURVES, MANIFEST]  # what a training job writes (and RAW_GENERATOR)
DROPOUT_MASKS = 16  # a dropout-trained D is read as its mean over masks (load_discriminator)
SNAPSHOTS = "snapshots"  # snapshots/step_000150/{generator,discriminator}.pt: a run part-way through training


def training_files(averaged: bool) -> list[str]:
    """The files a training job writes into a run's folder; `averaged`: the run keeps an average of G."""
    return TRAINING_FILES + ([RAW_GENERATOR] if averaged else [])


def write_training_outputs(run_dir: str | Path, generators: dict, discriminator: dict, samples: torch.Tensor,
                           means: torch.Tensor | None, curves, manifest: dict) -> None:
    """Everything a training job leaves in a run's folder; `generators`: file name -> saved generator
    (GENERATOR, and RAW_GENERATOR where G's weights are averaged); `means`: the modes a 2D run's samples are
    drawn over (None for images)."""
    from energygan.report import plots
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    for name, generator in generators.items():
        files.save_tensors(generator, run_dir / name)
    files.save_tensors(discriminator, run_dir / DISCRIMINATOR)
    files.write_csv(curves, run_dir / CURVES)
    plots.samples(samples, run_dir / SAMPLES, means)
    files.write_json(manifest, run_dir / MANIFEST)


def snapshot_dir(run_dir: str | Path, step: int) -> Path:
    return Path(run_dir) / SNAPSHOTS / f"step_{step:06d}"


def snapshot_files(step: int, averaged: bool) -> list[str]:
    """A snapshot's files, relative to the run folder."""
    names = [GENERATOR, DISCRIMINATOR] + ([RAW_GENERATOR] if averaged else [])
    return [f"{SNAPSHOTS}/step_{step:06d}/{name}" for name in names]


def write_snapshot(run_dir: str | Path, step: int, generators: dict, discriminator: dict) -> None:
    """A run part-way through training: `generators` as write_training_outputs takes them, and D."""
    folder = snapshot_dir(run_dir, step)
    folder.mkdir(parents=True, exist_ok=True)
    for name, generator in generators.items():
        files.save_tensors(generator, folder / name)
    files.save_tensors(discriminator, folder / DISCRIMINATOR)


def adversary(folder: str | Path) -> Path:
    """The generator a run's (or snapshot's) discriminator was trained against: G itself where its weights
    were averaged (measured: EBGAN's autoencoders gave the average's smoother digits a lower energy than
    test digits, and G's own a higher one), else the one generator."""
    raw = Path(folder) / RAW_GENERATOR
    return raw if raw.exists() else Path(folder) / GENERATOR


def read_manifest(run_dir: str | Path) -> dict:
    """A run's manifest, refused unless this version of the package wrote it: runs of two versions are
    never mixed into one summary."""
    path = Path(run_dir) / MANIFEST
    manifest = files.read_json(path, ("run", "setup", "status", "diverged_step", "steps_done"), "energygan manifest")
    if (written_by := manifest.get("energygan", "unknown (before 0.1.0)")) != __version__:
        raise files.FileError(f"{path} was written by energygan {written_by}, and this is energygan {__version__}; "
                              f"re-train the run with this version (snakemake --cores all --force {path}), or read it "
                              f"with the version that wrote it (pip install energygan=={written_by})")
    return manifest


def read_metrics(run_dir: str | Path) -> dict:
    return files.read_json(Path(run_dir) / METRICS, ("status", "samples", "eval_seed"), "energygan metrics")


def _saved(path: str | Path, role: str) -> dict:
    """A saved network's record (energygan.engine.saved), refused by name when it is not one."""
    return files.load_tensors(path, saved.REQUIRED, f"energygan {role}")


def _rebuild(path: str | Path, role: str):
    """A saved network of one run, rebuilt through the architecture registry, in evaluation mode (batch
    normalization from its running statistics, no dropout); and its record's entries."""
    try:
        net, meta = saved.rebuild(_saved(path, role), role)
    except RuntimeError as err:
        raise files.refuse(path, f"does not fit its own architecture record ({err})") from err
    return net.eval(), meta


def load_generator(path: str | Path):
    """A callable z [N, z_dim] -> samples [N, *shape] after the dataset's output activation."""
    import torch

    from energygan.data import datasets
    net, meta = _rebuild(path, "generator")
    dataset = datasets.get(meta["dataset"])

    @torch.no_grad()
    def generate(z):
        return dataset.activate(net(z[None])[0])
    return generate


def discriminator_record(path: str | Path) -> dict:
    """What a saved discriminator was built from: its `architecture`, `arguments` and `parametrisation`."""
    return saved.split(_saved(path, "discriminator"))[1]


def load_discriminator(path: str | Path, dropout_masks: int = DROPOUT_MASKS):
    """A callable x [N, *shape] (or flattened) -> s(x) [N]; differentiable in x where x requires grad (its
    weights are frozen). A discriminator trained with dropout gives the mean of s over `dropout_masks`
    fixed masks: the function its loss trains (E_P l1(s) is linear in s for the hinge), which the
    weight-scaled net of evaluation mode is not (measured: EBGAN autoencoders trained with dropout gave
    real digits a higher energy than their own fakes in evaluation mode, and a lower one over masks)."""
    import torch

    from energygan import rng
    from energygan.engine import models
    net, meta = _rebuild(path, "discriminator")
    net.requires_grad_(False)
    how, shape = models.Parametrisations([meta["parametrisation"]]), meta["arguments"]["shape"]
    rate = meta.get("dropout", 0.0)

    def s(x, masks=None):
        return models.stacked_discrepancy(net, x, how, masks)[0][0]

    def discrepancy(x):
        x = x.reshape(1, len(x), *shape)
        if not rate:
            return s(x)
        keep, total = 1 - rate, 0
        for draw in range(dropout_masks):
            masks = [(rng.uniform(torch.tensor([draw]), rng.DROPOUT_READ + i, 0, (x.shape[1], width)) < keep)
                     .float() / keep for i, width in enumerate(net.dropout_widths())]  # [1, N, width]: one run's masks
            total = total + s(x, masks)
        return total / dropout_masks
    return discrepancy
