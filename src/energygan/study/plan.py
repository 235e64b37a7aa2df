"""The cost of a config before any job (`energygan plan`): per experiment, its runs and shards, each
architecture's parameters, FLOPs and memory per run-step, and the estimated time on each device of a
calibration table; and, for the shards trained so far, the hours their jobs recorded beside the plan's.

FLOPs are counted by torch's FlopCounterMode over one training step of one run (the D steps and the G
step, forward and backward), and memory from the tensors that step saves for its backward pass, both at
batch 2 and scaled to the run's batch (linear in the batch for every term but the pull-away term's
b^2 pairs). The calibration table (`benchmarks/bench_engine.py --calibrate`) holds measured run-steps per
second by device, net FLOPs per run-step and runs in flight (K runs per batch, times the batches trained
side by side); a batch's time is its FLOPs at the FLOP rate of the nearest measured point (in log FLOPs
per run-step and log runs in flight). A job holds `train.concurrent_batches` of its batches at once.
Cluster jobs take their runtime and memory from here (job_resources).
"""

from __future__ import annotations

import functools
import math
import sys
from pathlib import Path

import pandas as pd

from energygan import files
from energygan.data import datasets
from energygan.engine.spec import Run, Setup
from energygan.study import experiments

CALIBRATION_COLUMNS = ("device", "device_name", "memory_gb", "arch", "K", "flops_per_run_step", "run_steps_per_s")
CALIBRATION = "benchmarks/calibration.csv"  # what bench_engine.py --calibrate wrote for this repository
COUNT_BATCH = 2  # batch normalization needs two samples
ADAM_BYTES_PER_PARAMETER = 16  # weight, gradient and Adam's two moments, fp32
# An H100 SXM's dense peaks (NVIDIA's data sheet): the FLOPs alone at these rates bound a GPU's time below
PEAK_FLOPS = {"H100 FP32": 67e12, "H100 TF32": 495e12, "H100 BF16": 989e12}
# A cluster job's resources (job_resources): a job is killed at its runtime, so the estimate is doubled
# and given the minutes a job spends before its first step (start-up, data, CUDA graph capture); host
# memory is the process's own beside its nets (torch, the dataset), plus the nets on a CPU
RUNTIME_MARGIN, START_MINUTES, HOST_MB = 2.0, 5, 4000


@functools.cache
def step_cost(setup: Setup) -> dict:
    """One run's parameters, FLOPs per step and bytes held in training, at `setup.batch_size`."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from energygan.engine.training import Trainer
    spec = datasets.get(setup.dataset)
    data = datasets.ImageData(torch.zeros(4, *spec.shape, dtype=torch.uint8), spec) if spec.images \
        else datasets.mixture(setup.dataset)
    counted = Setup.from_dict({**setup.__dict__, "batch_size": COUNT_BATCH, "steps": 10, "log_every": 10})
    trainer = Trainer(counted, [Run("count", seed=0)], data, "cpu")
    # the optimisers' updates are elementwise, which FlopCounterMode does not count: skipped, for speed
    trainer.opt_g.step = trainer.opt_d.step = lambda gradients, active: None
    weights = {p.untyped_storage().data_ptr() for p in [*trainer.G.parameters(), *trainer.D.parameters()]}
    saved = {}

    def pack(tensor):  # activations kept for the backward pass (the weights are counted once, below)
        if (storage := tensor.untyped_storage()).data_ptr() not in weights:
            saved[storage.data_ptr()] = storage.nbytes()
        return tensor
    with FlopCounterMode(display=False) as counter, torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        trainer.advance()
    params = sum(p.numel() for p in [*trainer.G.parameters(), *trainer.D.parameters()])
    scale = setup.batch_size / COUNT_BATCH
    return {"params": params, "flops": counter.get_total_flops() * scale,
            "bytes": params * ADAM_BYTES_PER_PARAMETER + sum(saved.values()) * scale}


def load_config(configfiles: list[str], default: str = "config/config.yaml",
                schema: str = "workflow/schemas/config.schema.yaml") -> dict:
    """The config Snakemake would run: each --configfile merged over the default, then validated, its plugins
    loaded."""
    import yaml
    from snakemake.utils import update_config, validate

    from energygan import plugins
    config = {}
    for path in [default, *configfiles]:
        if not Path(path).is_file():
            raise FileNotFoundError(f"config file {path} not found (run energygan plan in the repository's root)")
        update_config(config, yaml.safe_load(Path(path).read_text()) or {})
    validate(config, schema)
    plugins.load(config.get("plugins", []))
    return config


def shard_rows(shard: experiments.Shard, concurrent: int) -> list[dict]:
    """One row per batch of the shard: runs, runs in flight beside it, steps, its cost per run-step and
    memory, and the shard's memory (its `concurrent` largest batches together)."""
    sizes = [len(b.runs) for b in shard.batches]
    in_flight = sum(sorted(sizes, reverse=True)[:concurrent])
    costs = [step_cost(b.setup) for b in shard.batches]
    memory = [size * cost["bytes"] / 1e9 for size, cost in zip(sizes, costs)]
    shard_memory = sum(sorted(memory, reverse=True)[:concurrent])
    return [{"experiment": shard.experiment, "shard": shard.name, "record": shard.trained, "runs": size,
             "in_flight": in_flight, "steps": batch.setup.steps, "params": cost["params"],
             "flops_per_run_step": cost["flops"], "memory_gb": gb, "shard_memory_gb": shard_memory}
            for batch, size, cost, gb in zip(shard.batches, sizes, costs, memory)]


def shard_table(config: dict) -> pd.DataFrame:
    """shard_rows of every shard of the config."""
    rows = []
    for number, shard in enumerate(experiments.shards(config)):
        if number % 50 == 49:
            print(f"plan: {number + 1} shards counted", file=sys.stderr)
        rows += shard_rows(shard, config["train"]["concurrent_batches"])
    return pd.DataFrame(rows)


def read_calibration(path: str | Path) -> pd.DataFrame:
    table = files.read_csv(path, CALIBRATION_COLUMNS, "energygan calibration table")
    table["concurrent"] = table["concurrent"].fillna(1) if "concurrent" in table else 1  # tables before it: 1
    return table


def seconds(batches: pd.DataFrame, calibration: pd.DataFrame) -> pd.Series:
    """Each batch's time on the calibration's one device: its FLOPs at the rate of the nearest point."""
    rate = calibration["flops_per_run_step"] * calibration["run_steps_per_s"]
    log_f = calibration["flops_per_run_step"].map(math.log)
    log_k = (calibration["K"] * calibration["concurrent"]).map(math.log)

    def nearest_rate(row) -> float:
        distance = (log_f - math.log(row.flops_per_run_step)) ** 2 + (log_k - math.log(row.in_flight)) ** 2
        return float(rate[distance.idxmin()])
    return pd.Series([row.steps * row.runs * row.flops_per_run_step / nearest_rate(row)
                      for row in batches.itertuples()], index=batches.index)


def plan(config: dict, calibration: pd.DataFrame) -> tuple[pd.DataFrame, list[str], pd.DataFrame]:
    """Per experiment (and in total): runs, shards, parameters and GFLOPs per run-step, PFLOPs in all,
    the largest shard's memory, and hours on each calibrated device; the problems found; and the batches'
    rows that the table sums."""
    batches = shard_table(config)
    devices = {name: group for name, group in calibration.groupby("device_name", sort=False)}
    for name, group in devices.items():
        batches[f"hours on {name}"] = seconds(batches, group) / 3600
    batches["pflops"] = batches["steps"] * batches["runs"] * batches["flops_per_run_step"] / 1e15
    table = batches.groupby("experiment", sort=False).agg(
        runs=("runs", "sum"), shards=("shard", "nunique"), params_per_run=("params", "max"),
        gflops_per_run_step=("flops_per_run_step", lambda f: f.max() / 1e9), steps=("steps", "max"),
        pflops=("pflops", "sum"), largest_shard_gb=("shard_memory_gb", "max"),
        **{column: (column, "sum") for column in batches if column.startswith("hours on ")})
    total = table.sum(numeric_only=True).to_frame("total").T
    for column in ("params_per_run", "gflops_per_run_step", "steps", "largest_shard_gb"):
        total[column] = table[column].max()
    problems = []
    for name, group in devices.items():
        memory = float(group["memory_gb"].iloc[0])
        too_big = batches[batches["shard_memory_gb"] > memory].drop_duplicates("shard")
        if memory > 0 and len(too_big):
            problems.append(f"{len(too_big)} shards need more than {name}'s {memory:.0f} GB (largest "
                            f"{too_big['shard_memory_gb'].max():.1f} GB, in {too_big['shard'].iloc[0]}): lower "
                            "train.shard_size or train.concurrent_batches")
    return pd.concat([table, total]), problems, batches


def against_records(batches: pd.DataFrame) -> pd.DataFrame:
    """Per experiment, the shards whose training job has written its record (energygan.study.training_job): their hours
    as recorded beside the plan's hours for the same shards on each calibrated device (`batches`: plan's).
    A job resumed from a checkpoint records only its own part: `resumed` counts those shards."""
    rows = []
    for shard in batches.drop_duplicates("shard").itertuples():
        if Path(shard.record).exists():
            record = files.read_json(shard.record, ("wall_time_s", "batches", "device"), "energygan training record")
            rows.append({"experiment": shard.experiment, "shard": shard.shard, "device": record["device"],
                         "resumed": any(b["resumed_at"] > 0 for b in record["batches"]),
                         "hours_recorded": record["wall_time_s"] / 3600})
    if not rows:
        return pd.DataFrame()
    recorded = pd.DataFrame(rows)
    hours = [column for column in batches if column.startswith("hours on ")]
    planned = batches[batches["shard"].isin(recorded["shard"])].groupby("experiment", sort=False)[hours].sum()
    return recorded.groupby("experiment", sort=False).agg(
        shards=("shard", "count"), resumed=("resumed", "sum"), devices=("device", lambda d: ",".join(sorted(set(d)))),
        hours_recorded=("hours_recorded", "sum")).join(planned)


def job_resources(shard: experiments.Shard, train: dict, calibration_csv: str | Path = CALIBRATION) -> dict:
    """A shard's training job's cluster resources from the plan: `mem_mb`, and `runtime` (minutes) where
    the calibration table measured the job's kind of device (a CPU if train.device is cpu, else a GPU):
    the estimate on its slowest such device, times RUNTIME_MARGIN, plus START_MINUTES. Without such a
    row the profile's default runtime applies."""
    rows = pd.DataFrame(shard_rows(shard, train["concurrent_batches"]))
    on_cpu = train["device"] == "cpu"
    memory_mb = HOST_MB + (1000 * rows["shard_memory_gb"].iloc[0] if on_cpu else 0)
    resources = {"mem_mb": math.ceil(memory_mb)}
    if calibrated(train["device"], calibration_csv):
        kind = _of_kind(read_calibration(calibration_csv), train["device"])
        slowest = max(seconds(rows, group).sum() for _, group in kind.groupby("device_name"))
        resources["runtime"] = math.ceil(RUNTIME_MARGIN * slowest / 60) + START_MINUTES
    return resources


def _of_kind(calibration: pd.DataFrame, device: str) -> pd.DataFrame:
    """The calibration rows of the kind of device a job on `device` (train.device) runs on."""
    return calibration[calibration["device"].str.startswith("cuda") == (device != "cpu")]


def calibrated(device: str, calibration_csv: str | Path = CALIBRATION) -> bool:
    """Whether the table measured the kind of device that a job on `device` (train.device) runs on."""
    return Path(calibration_csv).exists() and len(_of_kind(read_calibration(calibration_csv), device)) > 0


def describe(config: dict, calibration_csv: str | Path) -> str:
    """The plan as `energygan plan` prints it: the table, the FLOPs at the GPU peaks, and what is missing
    or will not fit."""
    calibration = read_calibration(calibration_csv)
    table, problems, batches = plan(config, calibration)
    recorded = against_records(batches)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.3g}".format):
        lines = [table.to_string(), f"(hours: one device, shards one after another; calibration: {calibration_csv})"]
        if len(recorded):
            lines += [("the shards trained so far, as their jobs recorded them (results/<experiment>/shards/<index>/"
                       "trained.json) and as planned:"), recorded.to_string()]
    flops = table.loc["total", "pflops"] * 1e15
    lines.append("the FLOPs alone at a GPU's dense peak (a lower bound on its time): " +
                 ", ".join(f"{name} {peak / 1e12:.0f} TFLOP/s: {flops / peak / 3600:.3g} h"
                           for name, peak in PEAK_FLOPS.items()))
    if not len(_of_kind(calibration, "cuda")):
        lines.append(f"no GPU measured in {calibration_csv}: on one, run python benchmarks/bench_engine.py "
                     f"--device cuda --arch paper --calibrate {calibration_csv} (and --arch default, toy)")
    return "\n".join(lines + [f"will not fit: {problem}" for problem in problems])
