"""profiles/slurm through the real SLURM executor plugin, against stand-ins for SLURM's commands
(tests/workflow/slurm_stub.py) that run each job here and answer as SLURM would: a shard's training and
scoring go to the GPU partition with a GPU as one submission, its runtime and memory from the plan, every
other job to the CPU partition, and the outputs appear."""

import json
import math
import os
import shlex
import sys
from pathlib import Path

import pandas as pd

from energygan.engine.spec import Setup
from energygan.study import plan

from tests.workflow.conftest import TINY_SETUP, snakemake, tiny_study

STUB = Path(__file__).with_name("slurm_stub.py")
COMMANDS = ["sbatch", "srun", "sacct", "squeue", "scancel", "sinfo", "scontrol", "sacctmgr", "sshare"]


def stub_commands(folder):
    folder.mkdir()
    for name in COMMANDS:
        (folder / name).write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} {shlex.quote(str(STUB))} {name} "
                                   '"$@"\n')
        (folder / name).chmod(0o755)


def test_the_slurm_profile_sends_training_to_a_gpu_and_the_rest_to_cpus(workdir, tmp_path):
    config = tiny_study(workdir)
    # a GPU measured at 0.01 run-steps/s for these nets: the shard's 2 runs x 5 steps take 1000 s
    setup = Setup(dataset="ring8", **TINY_SETUP, checkpoint_every=config["train"]["checkpoint_every"])
    flops = plan.step_cost(setup)["flops"]
    (workdir / "benchmarks").mkdir()
    measured = pd.DataFrame([{"device": "cuda", "device_name": "slow gpu", "memory_gb": 80.0, "arch": "toy", "K": 2,
                              "concurrent": 1, "flops_per_run_step": flops, "run_steps_per_s": 0.01}])
    measured.to_csv(workdir / plan.CALIBRATION, index=False)
    train_minutes = math.ceil(2 * 1000 / 60) + 5  # doubled, plus the start-up allowance
    stub_commands(tmp_path / "bin")
    (tmp_path / "state").mkdir()
    env = {**os.environ, "STUB_SLURM_STATE": str(tmp_path / "state"),
           "PATH": f"{tmp_path / 'bin'}:{os.path.dirname(sys.executable)}:{os.environ['PATH']}"}
    runs = ["f=identity__loss=logistic__seed=0", "f=identity__loss=lsif__seed=0"]
    targets = [f"results/ring8_small/runs/{run}/metrics.json" for run in runs] + ["results/reference/ring8.csv"]
    result = snakemake(workdir, *targets, "--profile", "profiles/slurm", "--slurm-init-seconds-before-status-checks",
                       "1", "--default-resources", "slurm_account=test_account", "runtime=10", "mem_mb=1000", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert all((workdir / target).is_file() for target in targets)
    calls = [json.loads(line)["args"] for line in (tmp_path / "state/calls.jsonl").read_text().splitlines()]
    submitted = {args[args.index("--comment") + 1]: args for args in calls}  # the plugin names each job's rule there
    # a shard is trained and scored in one submission (group shard_<name>), its runtime the two jobs' sum
    shard = "rule_shard_ring8_small_0000_evaluate_ring8_small_0000_train_ring8_small_0000"
    assert sorted(submitted) == ["rule_reference_scores_wildcards_ring8", shard]
    for comment, args in submitted.items():
        options = " ".join(args)
        on_gpu = comment == shard
        assert ("-p gpu" in options) == on_gpu and ("-p cpu" in options) != on_gpu, options
        assert ("--gpus=1" in options) == on_gpu, options
        # the group's runtime: training's from the plan plus scoring's default; its memory: the larger
        assert f"-t {train_minutes + 10 if on_gpu else 10}" in options, options
        assert f"--mem {4000 if on_gpu else 1000}" in options and "-A test_account" in options, options
