"""From the config's experiment list to runs, batches and shards.

An experiment declares its dataset, fixed `setup` and `run` settings, and a `grid`: every combination
of the grid's values is one run. Grid keys may be Run fields (seed, loss, f, lr, ...) or Setup fields
(n_layer_g, size_d, ...); a key joined with `+` (`loss+f`) is one axis whose values set several fields
together. An optional `sample: {runs, seed, cross}` keeps a seeded, stratified subset of the grid (see
`stratified_sample`); a sampled run has the id, and so the files, it has in the full grid.

Runs that share a Setup form batches of at most `shard_size`, each one batched computation; a shard (one
job) trains one or more batches of the same experiment one after another, at most `shard_size` runs in
all, so that small batches do not each pay for a process of their own.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, fields

import numpy as np

from energygan.data import datasets
from energygan.engine import architectures, losses, nonlinearities
from energygan.engine.spec import Run, Setup
from energygan.registry import label
from energygan.study import paths, runfolder

RUN_FIELDS = {f.name for f in fields(Run)} - {"run_id"}
SETUP_FIELDS = {f.name for f in fields(Setup)}


@dataclass(frozen=True)
class Batch:
    setup: Setup
    runs: tuple


@dataclass(frozen=True)
class Shard:
    experiment: str
    index: int
    batches: tuple

    @property
    def name(self) -> str:
        return f"{self.experiment}_{self.index:04d}"

    @property
    def dataset(self) -> str:
        return self.batches[0].setup.dataset

    @property
    def runs(self) -> list[Run]:
        return [r for b in self.batches for r in b.runs]

    @property
    def run_steps(self) -> int:
        """Run-steps over all its batches, the job's length on a CPU as a number (measured on 2 cores: 8
        one-run batches of 5,000 steps took 5.6 minutes, one 16-run batch of 5,500 steps of nets of about the
        same size 11; counting steps alone ordered them the other way round)."""
        return sum(len(b.runs) * b.setup.steps for b in self.batches)

    def run_dir(self, run: Run) -> str:
        return paths.run_dir(self.experiment, run.run_id)

    @property
    def trained(self) -> str:
        """The training job's record (energygan.study.training_job), written after every run's files: what the jobs that
        read run files ask Snakemake for, beside only the run files that are missing (train.smk's
        through_record)."""
        return paths.shard_record(self.experiment, self.index, "trained")

    @property
    def scored(self) -> str:
        """The scoring job's record (energygan.analysis.evaluation), written after every run's metrics.json."""
        return paths.shard_record(self.experiment, self.index, "scored")

    def run_files(self, *names: str) -> list[str]:
        """These files of each of the shard's runs."""
        return [f"{self.run_dir(r)}/{name}" for r in self.runs for name in names]

    def run_outputs(self) -> list[str]:
        """Every run file the shard's training job writes, snapshots included."""
        return [f"{self.run_dir(r)}/{f}" for b in self.batches for r in b.runs
                for f in runfolder.training_files(b.setup.ema > 0)
                + [s for step in b.setup.snapshot_steps for s in runfolder.snapshot_files(step, b.setup.ema > 0)]]


def run_id(values: dict) -> str:
    """A readable, unique id from the grid values that name a run: loss=hinge_margin10__seed=0."""
    return "__".join(f"{k}={label(v) if isinstance(v, (str, dict)) else v}" for k, v in values.items())


def axis_fields(key: str) -> list[str]:
    return key.split("+")


def stratified_sample(sizes: list[int], points: int, seed: int, max_swaps: int = 100_000) -> list[tuple]:
    """`points` distinct index tuples of the grid with axis sizes `sizes`, each axis balanced: every value
    of an axis appears floor(points / m) or ceil(points / m) times (m values), which values get the extra
    one drawn at random. A Latin-hypercube draw per axis, then random swaps within an axis (which keep the
    balance) until no two points coincide. Sorted in grid order."""
    total = math.prod(sizes)
    if not 1 <= points <= total:
        raise ValueError(f"cannot sample {points} distinct points from a grid of {total}")
    if points == total:
        return list(itertools.product(*map(range, sizes)))
    rng = np.random.default_rng(seed)
    columns = []
    for m in sizes:
        column = np.concatenate([np.repeat(np.arange(m), points // m), rng.choice(m, points % m, replace=False)])
        columns.append(rng.permutation(column))
    table = np.stack(columns, 1)
    for _ in range(max_swaps):
        _, first = np.unique(table, axis=0, return_index=True)
        duplicated = np.setdiff1d(np.arange(points), first)
        if not len(duplicated):
            return sorted(map(tuple, table.tolist()))
        row, other, axis = duplicated[0], rng.integers(points), rng.integers(len(sizes))
        table[[row, other], axis] = table[[other, row], axis]
    raise ValueError(f"no balanced sample of {points} distinct points found in {max_swaps} swaps; "
                     "lower sample.runs or run the full grid")


def grid_points(name: str, experiment: dict) -> list[dict]:
    """The grid's runs as {field: value} dicts, in grid order: all of them, or the declared sample."""
    grid, sample = experiment["grid"], experiment.get("sample")
    axes = {key: [dict(zip(axis_fields(key), v if "+" in key else [v])) for v in values]
            for key, values in grid.items()}
    for key, values in grid.items():
        if "+" in key and any(not isinstance(v, list) or len(v) != len(axis_fields(key)) for v in values):
            raise ValueError(f"experiment {name}: every value of grid axis {key!r} must list "
                             f"{len(axis_fields(key))} values, one per field")
    if sample is None:
        chosen = itertools.product(*(range(len(v)) for v in axes.values()))
    else:
        crossed = sample.get("cross", [])
        if unknown := [k for k in crossed if k not in grid]:
            raise ValueError(f"experiment {name}: sample.cross names {unknown}, which are not grid axes: {list(grid)}")
        per_point = math.prod(len(grid[k]) for k in crossed)
        if sample["runs"] % per_point:
            raise ValueError(f"experiment {name}: sample.runs = {sample['runs']} is not a multiple of {per_point}, "
                             f"the number of combinations of the crossed axes {crossed}")
        sampled = [k for k in grid if k not in crossed]
        points = stratified_sample([len(grid[k]) for k in sampled], sample["runs"] // per_point, sample["seed"])
        keep = {tuple(p) + tuple(c) for p in points for c in itertools.product(*(range(len(grid[k])) for k in crossed))}
        order = sampled + crossed
        chosen = (i for i in itertools.product(*(range(len(v)) for v in axes.values()))
                  if tuple(i[list(grid).index(k)] for k in order) in keep)
    return [{k: v for key, i in zip(axes, index) for k, v in axes[key][i].items()} for index in chosen]


def expand(name: str, experiment: dict, checkpoint_every: int) -> list[tuple[Setup, Run]]:
    setup_base = {**experiment.get("setup", {}), "dataset": experiment["dataset"],
                  "checkpoint_every": checkpoint_every}
    keys = [k for key in experiment["grid"] for k in axis_fields(key)] + list(experiment.get("run", {}))
    for key in keys:
        if key not in RUN_FIELDS | SETUP_FIELDS:
            raise ValueError(f"experiment {name}: unknown setting {key!r}; known: {sorted(RUN_FIELDS | SETUP_FIELDS)}")
    try:
        shape = datasets.get(experiment["dataset"]).shape
    except ValueError as err:
        raise ValueError(f"experiment {name}: {err}") from None
    pairs = []
    for values in grid_points(name, experiment):
        setup = Setup.from_dict({**setup_base, **{k: v for k, v in values.items() if k in SETUP_FIELDS}})
        run = Run(run_id=run_id(values), **{**experiment.get("run", {}),
                                            **{k: v for k, v in values.items() if k in RUN_FIELDS}})
        # what the engine cannot run together is refused here, when the DAG is built, not when a job starts
        found = architectures.problems(setup, shape, run.pt_weight > 0, run.dropout_d) + specs_problems(run)
        if run.entropy_weight < 0 or (run.entropy_weight > 0 and not 1 <= setup.entropy_k < setup.batch_size):
            found.append(f"entropy_weight must be >= 0 and needs batch_size > entropy_k >= 1 (neighbours in the "
                         f"batch), got {run.entropy_weight} with batch_size {setup.batch_size} and entropy_k "
                         f"{setup.entropy_k}")
        if found:
            raise ValueError(f"experiment {name}, run {run.run_id}: " + "; ".join(found))
        pairs.append((setup, run))
    return pairs


def spec_problem(registry, spec) -> str | None:
    """Why a loss or f spec cannot be made (an unknown name, a parameter its class does not take, a value it
    refuses), or None: checked against the registry (`losses`, `nonlinearities`), the plugins' included, without
    torch."""
    try:
        registry.make(spec)
    except (ValueError, TypeError) as err:
        return str(err)
    return None


def specs_problems(run: Run) -> list[str]:
    """Why a run's loss or f cannot be made (spec_problem)."""
    return [found for found in (spec_problem(losses, run.loss), spec_problem(nonlinearities, run.f)) if found]


def shards(config: dict) -> list[Shard]:
    train, size = config["train"], config["train"]["shard_size"]
    result = []
    for name, experiment in config["experiments"].items():
        by_setup: dict = {}
        for setup, run in expand(name, experiment, train["checkpoint_every"]):
            by_setup.setdefault(setup, []).append(run)
        batches = [Batch(setup, tuple(runs[i:i + size])) for setup, runs in by_setup.items()
                   for i in range(0, len(runs), size)]
        packed: list[list[Batch]] = []
        for batch in batches:
            if packed and sum(len(b.runs) for b in packed[-1]) + len(batch.runs) <= size:
                packed[-1].append(batch)
            else:
                packed.append([batch])
        result += [Shard(name, index, tuple(group)) for index, group in enumerate(packed)]
    return result


def job_params(shard: Shard, train: dict) -> dict:
    """The JSON settings of a shard's training job, from the config's `train` section."""
    return {"batches": [{"setup": asdict(b.setup), "runs": [asdict(r) for r in b.runs],
                         "run_dirs": [shard.run_dir(r) for r in b.runs],
                         "checkpoint": paths.checkpoint(shard.experiment, shard.name, i)}
                        for i, b in enumerate(shard.batches)],
            "device": train["device"], "concurrent": train["concurrent_batches"],
            "live": paths.live_view(shard.experiment) if train.get("live_view") else None}


def score_settings(evaluation: dict) -> dict:
    """What a scoring job takes of the config's `evaluation` section (runs' and reference scores alike)."""
    return {k: evaluation[k] for k in ("samples", "seed", "batch_size", "min_share", "fidelity", "quality_floor",
                                       "discriminator")}


def score_params(shard: Shard, evaluation: dict) -> dict:
    """The JSON settings of a shard's scoring job, from the config's `evaluation` section."""
    return {"dataset": shard.dataset, "run_dirs": [shard.run_dir(r) for r in shard.runs],
            "settings": score_settings(evaluation)}


def grid_size(experiment: dict) -> int:
    """Runs in the experiment's full grid (before any sample)."""
    return math.prod(len(values) for values in experiment["grid"].values())
