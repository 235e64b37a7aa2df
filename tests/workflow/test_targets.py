"""Asking for files by name: a run's file remakes its shard; and the jobs that read run files, which ask
Snakemake for each shard's records (results/<experiment>/shards/<index>/{trained,scored}.json) and only the
run files that are missing, re-run as they would if they asked for every file."""

import os

from tests.workflow.conftest import snakemake, tiny_study
from tests.workflow.test_dag import job_counts

RUN = "results/ring8_small/runs/f=identity__loss=logistic__seed=0"
RUNS = "results/summary/runs.csv"


def planned(workdir, *targets):
    """The rules a dry run would run for `targets`."""
    result = snakemake(workdir, "-n", *targets)
    assert result.returncode == 0, result.stderr[-3000:]
    return [] if "Nothing to be done" in result.stdout + result.stderr else sorted(job_counts(result.stdout))


def test_missing_or_remade_run_files_rerun_the_jobs_that_read_their_shard(workdir):
    tiny_study(workdir)
    train, evaluate = "train_ring8_small_0000", "evaluate_ring8_small_0000"

    assert planned(workdir, f"{RUN}/curves.csv") == [train]  # any run file, by name, makes its shard
    made = snakemake(workdir, "--cores", "2", RUNS)
    assert made.returncode == 0, made.stderr[-3000:]
    assert planned(workdir, RUNS) == []
    for name, remade in (("generator.pt", [evaluate, "summarize_runs", train]),  # scoring reads it
                         ("metrics.json", [evaluate, "summarize_runs"])):        # the runs table reads it
        path = workdir / RUN / name
        content, times = path.read_bytes(), (path.stat().st_atime, path.stat().st_mtime)
        path.unlink()
        assert planned(workdir, RUNS) == remade, name
        path.write_bytes(content)
        os.utime(path, times)
    assert planned(workdir, RUNS) == []
    # re-made by name: the shard's record is made again with it, and what was made from the shard after it
    assert planned(workdir, "--force", f"{RUN}/generator.pt", RUNS) == [evaluate, "summarize_runs", train]
