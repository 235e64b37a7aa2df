# Helpers shared by the rule files: what the validated config asks for.
import json

from energygan import datasets as _datasets
from energygan import runfolder as _runfolder
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


if _unknown := sorted(set(config["lsun"]["categories"]) - set(_datasets.LSUN_CATEGORIES)):
    raise ValueError(f"config: lsun.categories: unknown category {_unknown}; known: {_datasets.LSUN_CATEGORIES}")


def dataset_inputs(name):
    """The files a dataset's training (or evaluation) job reads: its prepared folder's, from the registry."""
    prepared = _datasets.get(name).prepared
    if prepared is None:
        return []
    return MNIST_PREPARED if prepared == _datasets.MNIST_PREPARED else [prepared]  # MNIST's folder is files, not a directory()


def scored_by_classifier(name):
    return _datasets.get(name).scorer == "classifier"


# Whether MNIST's classifier scores some experiment's samples, and whether the study reads MNIST at all.
SCORED_BY_CLASSIFIER = any(scored_by_classifier(e["dataset"]) for e in config["experiments"].values())
USES_MNIST = SCORED_BY_CLASSIFIER or any(dataset_inputs(e["dataset"]) == MNIST_PREPARED for e in config["experiments"].values())


def data_folders():
    """The data the study tracks with DVC, folder by folder: MNIST's raw and prepared files, LSUN's shards."""
    folders = ["data/mnist/raw", "data/mnist/prepared"] if USES_MNIST else []
    if config["lsun"]["enabled"]:
        folders += expand("data/lsun/{category}", category=config["lsun"]["categories"])
    return folders
