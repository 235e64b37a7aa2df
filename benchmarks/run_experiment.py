"""Train and score one experiment's shards through the rules' own commands (`energygan train`, `energygan
evaluate`, with the parameters that the rules pass), without Snakemake: for a GPU machine whose image has
torch but not Snakemake. The config is merged and validated here, where Snakemake is installed:

    python benchmarks/run_experiment.py jobs --configfile config/speed_settings_paper.yaml \
        --experiment mnist_speed_settings_paper > jobs.json                      # here
    python benchmarks/run_experiment.py run jobs.json                            # there, in the repository root

Then copy back each run's small files (manifest, metrics, curves) and the shard records; the runs table
and the experiment's tables come from them (`energygan summarize`, `energygan experiment-tables`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from energygan import cli
from energygan.analysis import scorers
from energygan.data import datasets
from energygan.study import experiments


def jobs(configfiles: list[str], experiment: str) -> list[dict]:
    """The training and scoring commands of the experiment's shards, as Snakemake would run them."""
    from energygan.study import plan
    config = plan.load_config(configfiles)
    if experiment not in config["experiments"]:
        sys.exit(f"{experiment!r} is not an experiment of {configfiles}; known: {sorted(config['experiments'])}")
    result = []
    for shard in experiments.shards(config):
        if shard.experiment != experiment:
            continue
        spec = datasets.get(shard.dataset)
        if spec.scorer == "fidelity":
            sys.exit(f"{experiment}: scoring {shard.dataset} needs the fidelity extra and its data; use Snakemake")
        result.append({"shard": shard.name,
                       "train": ["train", "--in", spec.prepared or "", "--out", shard.trained,
                                 "--params", json.dumps(experiments.job_params(shard, config["train"]))],
                       "evaluate": ["evaluate", "--in", *scorers.sources(shard.dataset), "--out", shard.scored,
                                    "--params", json.dumps(experiments.score_params(shard, config["evaluation"]))]})
    return result


def run(path: str) -> None:
    for job in json.loads(Path(path).read_text()):
        for step in ("train", "evaluate"):
            t0 = time.perf_counter()
            cli.main([a for a in job[step] if a != ""])
            print(f"{job['shard']}: {step} took {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("jobs", help="print the experiment's jobs as JSON (needs Snakemake, to validate)")
    make.add_argument("--configfile", nargs="+", required=True)
    make.add_argument("--experiment", required=True)
    sub.add_parser("run", help="run the jobs of a JSON file from `jobs`").add_argument("file")
    args = parser.parse_args()
    if args.command == "jobs":
        print(json.dumps(jobs(args.configfile, args.experiment), indent=1))
    else:
        run(args.file)


if __name__ == "__main__":
    main()
