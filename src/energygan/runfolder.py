"""A run's folder, `results/<experiment>/runs/<run id>/`: which files it has, how they are written (each
renamed into place whole) and how they are read back, with an error that names the file, what is wrong
and how to re-make it. Training, evaluation and the summary all go through here.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from .data.download import atomic_path

# torch is imported where tensors are read or written: the table jobs that only read the JSON files start
# in a second rather than five

GENERATOR, DISCRIMINATOR = "generator.pt", "discriminator.pt"
SAMPLES, CURVES, MANIFEST, METRICS = "samples.png", "curves.csv", "manifest.json", "metrics.json"
TRAINING_FILES = [GENERATOR, DISCRIMINATOR, SAMPLES, CURVES, MANIFEST]  # what a training job writes
SNAPSHOTS = "snapshots"  # snapshots/step_000150/{generator,discriminator}.pt: a run part-way through training
REMAKE = "re-make it: snakemake --cores all --force {path}"


class RunFileError(ValueError):
    pass


def save_tensors(obj, path: str | Path) -> None:
    """torch.save, serialised in memory first and renamed into place: no partial file under `path`."""
    import torch
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    with atomic_path(path) as part:
        part.write_bytes(buffer.getvalue())


def write_json(record: dict, path: str | Path) -> None:
    with atomic_path(path) as part:
        part.write_text(json.dumps(record, indent=2))


def write_training_outputs(run_dir: str | Path, generator: dict, discriminator: dict, samples: torch.Tensor,
                           means: torch.Tensor | None, curves, manifest: dict) -> None:
    """Everything a training job leaves in a run's folder; `means`: the modes a 2D run's samples are drawn
    over (None for images)."""
    from . import plots
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    save_tensors(generator, run_dir / GENERATOR)
    save_tensors(discriminator, run_dir / DISCRIMINATOR)
    with atomic_path(run_dir / CURVES) as part:
        curves.to_csv(part, index=False)
    plots.samples(samples, run_dir / SAMPLES, means)
    write_json(manifest, run_dir / MANIFEST)


def snapshot_dir(run_dir: str | Path, step: int) -> Path:
    return Path(run_dir) / SNAPSHOTS / f"step_{step:06d}"


def snapshot_files(step: int) -> list[str]:
    """A snapshot's files, relative to the run folder."""
    return [f"{SNAPSHOTS}/step_{step:06d}/{name}" for name in (GENERATOR, DISCRIMINATOR)]


def write_snapshot(run_dir: str | Path, step: int, generator: dict, discriminator: dict) -> None:
    folder = snapshot_dir(run_dir, step)
    folder.mkdir(parents=True, exist_ok=True)
    save_tensors(generator, folder / GENERATOR)
    save_tensors(discriminator, folder / DISCRIMINATOR)


def read_json(path: str | Path, required: tuple = ()) -> dict:
    """A manifest or metrics file; refused by name when truncated, not JSON, or missing `required` keys."""
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise RunFileError(f"{path} is missing or not valid JSON ({err}); {REMAKE.format(path=path)}") from err
    if not isinstance(record, dict) or (missing := [k for k in required if k not in record]):
        raise RunFileError(f"{path} is not an energygan {path.stem} file (missing {missing if isinstance(record, dict) else 'an object'}); "
                           f"{REMAKE.format(path=path)}")
    return record


def read_manifest(run_dir: str | Path) -> dict:
    return read_json(Path(run_dir) / MANIFEST, ("run", "setup", "status", "diverged_step", "steps_done"))


def read_metrics(run_dir: str | Path) -> dict:
    return read_json(Path(run_dir) / METRICS, ("status", "samples", "eval_seed"))


def _load_state(path: str | Path, meta: tuple) -> dict:
    import torch
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated zip, not a torch file: torch's own message names no file
        raise RunFileError(f"{path} is missing, truncated or not a torch file ({type(err).__name__}); "
                           f"{REMAKE.format(path=path)}") from err
    if not isinstance(state, dict) or (missing := [k for k in meta if k not in state]):
        lacks = missing if isinstance(state, dict) else list(meta)
        raise RunFileError(f"{path} is not an energygan {path.stem} file (no {lacks}); {REMAKE.format(path=path)}")
    return state


def _rebuild(path: str | Path, role: str):
    """A saved network of one run, rebuilt through the architecture registry, in evaluation mode (batch
    normalization from its running statistics, no dropout); and its `meta.` entries."""
    from . import architectures
    state = _load_state(path, ("meta.architecture", "meta.arguments", "meta.dataset"))
    meta = {key[5:]: state.pop(key) for key in [k for k in state if k.startswith("meta.")]}
    net = architectures.build(role, meta["architecture"], 1, meta["arguments"])
    try:
        net.load_state_dict({name: tensor[None] for name, tensor in state.items()})
    except RuntimeError as err:
        raise RunFileError(f"{path} does not fit its own architecture record ({err}); {REMAKE.format(path=path)}") from err
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
