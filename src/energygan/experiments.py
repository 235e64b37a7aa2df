"""From the config's experiment list to runs and shards.

An experiment declares its dataset, fixed `setup` and `run` settings, and a `grid`: every combination
of the grid's values is one run. Grid keys may be Run fields (seed, loss, f, lr, ...) or Setup fields
(n_layer_g, size_d, ...); runs that share a Setup are cut into shards of at most `shard_size`, and one
shard is one job, one batched computation.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, fields

from .registry import label
from .training import Run, Setup

RUN_FILES = ["generator.pt", "samples.png", "curves.csv", "manifest.json"]
RUN_FIELDS = {f.name for f in fields(Run)} - {"run_id"}
SETUP_FIELDS = {f.name for f in fields(Setup)}


@dataclass(frozen=True)
class Shard:
    experiment: str
    index: int
    setup: Setup
    runs: tuple

    @property
    def name(self) -> str:
        return f"{self.experiment}_{self.index:04d}"

    def run_dir(self, run: Run) -> str:
        return f"results/{self.experiment}/runs/{run.run_id}"

    def outputs(self) -> list[str]:
        return [f"{self.run_dir(r)}/{f}" for r in self.runs for f in RUN_FILES]


def run_id(values: dict) -> str:
    """A readable, unique id from the grid values that name a run: loss=hinge_margin10__seed=0."""
    return "__".join(f"{k}={label(v) if isinstance(v, (str, dict)) else v}" for k, v in values.items())


def expand(name: str, experiment: dict, checkpoint_every: int) -> list[tuple[Setup, Run]]:
    grid = experiment["grid"]
    setup_base = {**experiment.get("setup", {}), "dataset": experiment["dataset"],
                  "checkpoint_every": checkpoint_every}
    for key in [*grid, *experiment.get("run", {})]:
        if key not in RUN_FIELDS | SETUP_FIELDS:
            raise ValueError(f"experiment {name}: unknown setting {key!r}; known: {sorted(RUN_FIELDS | SETUP_FIELDS)}")
    pairs = []
    for combination in itertools.product(*grid.values()):
        values = dict(zip(grid, combination))
        setup = Setup(**{**setup_base, **{k: v for k, v in values.items() if k in SETUP_FIELDS}})
        run = Run(run_id=run_id(values), **{**experiment.get("run", {}),
                                            **{k: v for k, v in values.items() if k in RUN_FIELDS}})
        pairs.append((setup, run))
    return pairs


def shards(config: dict) -> list[Shard]:
    train, size = config["train"], config["train"]["shard_size"]
    result = []
    for name, experiment in config["experiments"].items():
        by_setup: dict = {}
        for setup, run in expand(name, experiment, train["checkpoint_every"]):
            by_setup.setdefault(setup, []).append(run)
        chunks = [(setup, runs[i:i + size]) for setup, runs in by_setup.items() for i in range(0, len(runs), size)]
        result += [Shard(name, index, setup, tuple(runs)) for index, (setup, runs) in enumerate(chunks)]
    return result


def job_params(shard: Shard, device: str) -> dict:
    """The JSON settings of a shard's training job."""
    return {"setup": asdict(shard.setup), "runs": [asdict(r) for r in shard.runs],
            "run_dirs": [shard.run_dir(r) for r in shard.runs],
            "checkpoint": f"results/{shard.experiment}/checkpoints/{shard.name}.pt", "device": device}
