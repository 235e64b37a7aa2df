"""A run's folder, `results/<experiment>/runs/<run id>/`: which files it has, how they are written (each
renamed into place whole) and how they are read back, with an error that names the file, what is wrong
and how to re-make it. Training, evaluation and the summary all go through here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__, files

if TYPE_CHECKING:
    import torch

GENERATOR, DISCRIMINATOR = "generator.pt", "discriminator.pt"
SAMPLES, CURVES, MANIFEST, METRICS = "samples.png", "curves.csv", "manifest.json", "metrics.json"
TRAINING_FILES = [GENERATOR, DISCRIMINATOR, SAMPLES, CURVES, MANIFEST]  # what a training job writes
SNAPSHOTS = "snapshots"  # snapshots/step_000150/{generator,discriminator}.pt: a run part-way through training


def write_training_outputs(run_dir: str | Path, generator: dict, discriminator: dict, samples: torch.Tensor,
                           means: torch.Tensor | None, curves, manifest: dict) -> None:
    """Everything a training job leaves in a run's folder; `means`: the modes a 2D run's samples are drawn
    over (None for images)."""
    from . import plots
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    files.save_tensors(generator, run_dir / GENERATOR)
    files.save_tensors(discriminator, run_dir / DISCRIMINATOR)
    files.write_csv(curves, run_dir / CURVES)
    plots.samples(samples, run_dir / SAMPLES, means)
    files.write_json(manifest, run_dir / MANIFEST)


def snapshot_dir(run_dir: str | Path, step: int) -> Path:
    return Path(run_dir) / SNAPSHOTS / f"step_{step:06d}"


def snapshot_files(step: int) -> list[str]:
    """A snapshot's files, relative to the run folder."""
    return [f"{SNAPSHOTS}/step_{step:06d}/{name}" for name in (GENERATOR, DISCRIMINATOR)]


def write_snapshot(run_dir: str | Path, step: int, generator: dict, discriminator: dict) -> None:
    folder = snapshot_dir(run_dir, step)
    folder.mkdir(parents=True, exist_ok=True)
    files.save_tensors(generator, folder / GENERATOR)
    files.save_tensors(discriminator, folder / DISCRIMINATOR)


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


def _rebuild(path: str | Path, role: str):
    """A saved network of one run, rebuilt through the architecture registry, in evaluation mode (batch
    normalization from its running statistics, no dropout); and its `meta.` entries."""
    from . import architectures
    state = files.load_tensors(path, ("meta.architecture", "meta.arguments", "meta.dataset"), f"energygan {role}")
    meta = {key[5:]: state.pop(key) for key in [k for k in state if k.startswith("meta.")]}
    net = architectures.build(role, meta["architecture"], 1, meta["arguments"])
    try:
        net.load_state_dict({name: tensor[None] for name, tensor in state.items()})
    except RuntimeError as err:
        raise files.refuse(path, f"does not fit its own architecture record ({err})") from err
    return net.eval(), meta


def load_generator(path: str | Path):
    """A callable z [N, z_dim] -> samples [N, *shape] after the dataset's output activation."""
    import torch

    from . import datasets
    net, meta = _rebuild(path, "generator")
    dataset = datasets.get(meta["dataset"])

    @torch.no_grad()
    def generate(z):
        return dataset.activate(net(z[None])[0])
    return generate


def load_discriminator(path: str | Path):
    """A callable x [N, *shape] (or flattened) -> s(x) [N]."""
    import torch

    from . import models
    net, meta = _rebuild(path, "discriminator")
    positive, shape = torch.tensor([bool(meta["positive"])]), meta["arguments"]["shape"]

    @torch.no_grad()
    def discrepancy(x):
        return models.stacked_discrepancy(net, x.reshape(1, len(x), *shape), positive)[0][0]
    return discrepancy
