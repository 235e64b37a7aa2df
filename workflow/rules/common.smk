# Helpers shared by the rule files: what the validated config asks for.
import json
import os

from energygan.analysis import scorers as _scorers
from energygan.data import datasets as _datasets
from energygan.study import experiments as _experiments
from energygan.study import paths as _paths
from energygan.study import runfolder as _runfolder
from energygan.data import mnist as _mnist

# What every other job waits for runs first: the data; then the longest training job (a training job's
# priority is its run-steps), which on 2 cores is the study's critical path, and the evaluator beside it
LONGEST = max([s.run_steps for s in SHARDS], default=0)
DATA_FIRST = LONGEST + 1
MNIST_RAW = expand("data/mnist/raw/{name}", name=_mnist.FILES)
MNIST_PREPARED = expand("data/mnist/prepared/{split}.pt", split=_mnist.SPLITS)


def as_json(obj):
    """A config slice as one JSON argument for `energygan <command> --params`."""
    return json.dumps(obj, sort_keys=True)


def dataset_inputs(name):
    """The files a dataset's training (or evaluation) job reads: its prepared folder's, from the registry."""
    prepared = _datasets.get(name).prepared
    if prepared is None:
        return []
    return MNIST_PREPARED if prepared == _datasets.MNIST_PREPARED else [prepared]  # MNIST's folder is files, not a directory()


# Whether MNIST's classifier scores some experiment's samples, and whether the study reads MNIST at all.
SCORED_BY_CLASSIFIER = any(_scorers.of(e["dataset"]).reads_evaluator for e in config["experiments"].values())
USES_MNIST = SCORED_BY_CLASSIFIER or any(dataset_inputs(e["dataset"]) == MNIST_PREPARED for e in config["experiments"].values())


def data_folders():
    """The data the study tracks with DVC, folder by folder: MNIST's raw and prepared files, LSUN's shards."""
    folders = ["data/mnist/raw", "data/mnist/prepared"] if USES_MNIST else []
    if config["lsun"]["enabled"]:
        folders += expand("data/lsun/{category}", category=config["lsun"]["categories"])
    return folders


# --- what the rule files read of each other's outputs ---------------------------------------------------

EVAL = config["evaluation"]
EVALUATOR = expand(f"{_paths.EVALUATOR}/{{name}}", name=["classifier.pt", "test_stats.pt", "metrics.json"])


def through_record(record, run_files):
    """What a job reads of a shard's runs (`run_files`), as its inputs: the record of the job that made
    them, written after them, and those of them that are missing, so that Snakemake re-makes them.
    Snakemake re-makes a missing file only when a job asks for it, but asking for each of the paper
    config's 40,000 run files costs its DAG 20 s of lookups; a new record makes the readers re-run as each
    file would. Where the record is missing its job runs anyway, and makes them all."""
    if not os.path.exists(record):
        return [record]
    return [record] + [f for f in run_files if not os.path.exists(f)]


def trained(experiment):
    """Every file of an experiment's runs, through its shards' records (through_record)."""
    return [f for shard in SHARDS if shard.experiment == experiment for f in through_record(shard.trained, shard.run_outputs())]


def scored():
    """The records of the scoring jobs, the last file made for each shard: asking for them makes every run."""
    return [shard.scored for shard in SHARDS]


def summarized():
    """What the runs table reads of every run, its manifest and its scores, through the shards' records
    (through_record)."""
    return [f for shard in SHARDS for record, name in ((shard.trained, _runfolder.MANIFEST), (shard.scored, _runfolder.METRICS))
            for f in through_record(record, shard.run_files(name))]


GRID_SEARCH = config.get("grid_search")


def grid_search_outputs():
    if not GRID_SEARCH:
        return []
    names = ["verdicts.csv", "verdicts.html", "families.csv", "families.html", "figure2.png", "figure3.png",
             "figure4.png"] + (["margin_sweep.png"] if "margin_sweep" in GRID_SEARCH else []) + \
        (["ablation.csv", "ablation.html"] if "ablation" in GRID_SEARCH else [])
    return expand(f"{_paths.GRID_SEARCH}/{{name}}", name=names)


def grid_search_experiments():
    return _checks.grid_search_experiments(config)


TITLE = config.get("title_question")


def probed_experiments():
    return _checks.probed_experiments(config)


def is_mixture(name):
    return _scorers.of(config["experiments"][name]["dataset"]).known_density


def title_question_outputs():
    if not TITLE:
        return []
    names = ["claims.csv", "claims.html", "front.csv", "front_scale.txt", "energy_2d.csv", "energy_2d.html",
             "auroc_mnist.csv", "auroc_mnist.html", "over_training.png"]
    return expand(f"{_paths.TITLE_QUESTION}/{{name}}", name=names) + \
           [_paths.energy_maps(name) for name in probed_experiments() if is_mixture(name)]
