# Helpers shared by the rule files: what the validated config asks for.
import json

from energygan import datasets as _datasets
from energygan.data import mnist as _mnist

MNIST_RAW = expand("data/mnist/raw/{name}", name=_mnist.FILES)
MNIST_PREPARED = expand("data/mnist/prepared/{split}.pt", split=_mnist.SPLITS)
# What each DVC-tracked data folder is made of (the rule tracks the folder once all are there).
DVC_INPUTS = {"mnist/raw": MNIST_RAW, "mnist/prepared": MNIST_PREPARED}


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


def data_targets():
    targets = ["data/.dvc-pushed/mnist/raw", "data/.dvc-pushed/mnist/prepared"]
    if config["lsun"]["enabled"]:
        targets += expand("data/.dvc-pushed/lsun/{category}", category=config["lsun"]["categories"])
    return targets
