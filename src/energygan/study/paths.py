"""The results tree in one place: where each job's outputs live. The rules, the shards and the study
code all ask here; a run folder's own files are named in energygan.study.runfolder.
"""

from __future__ import annotations

from energygan.data import datasets

RESULTS = "results"
EVALUATOR = f"{RESULTS}/evaluator"          # MNIST's classifier (energygan.analysis.evaluation)
RUNS_TABLE = f"{RESULTS}/summary/runs.csv"  # one row per run of every experiment
METRICS = f"{RESULTS}/metrics.json"         # the headline numbers (DVC metrics)
GRID_SEARCH = f"{RESULTS}/grid_search"
TITLE_QUESTION = f"{RESULTS}/title_question"


LIVE = "logs/live"  # the live view's TensorBoard logs (energygan.study.live): not results, never tracked or kept


def live_view(experiment: str) -> str:
    return f"{LIVE}/{experiment}"


def run_dir(experiment: str, run_id: str) -> str:
    return f"{RESULTS}/{experiment}/runs/{run_id}"


def shard_record(experiment: str, index: int, job: str) -> str:
    """The record a shard's `job` (trained | scored) writes after every run's files."""
    return f"{RESULTS}/{experiment}/shards/{index:04d}/{job}.json"


def checkpoint(experiment: str, shard: str, batch: int) -> str:
    return f"{RESULTS}/{experiment}/checkpoints/{shard}_{batch}.pt"


def reference(dataset: str) -> str:
    """Real data scored as the dataset's runs are: the reference rows of its tables."""
    return f"{RESULTS}/reference/{dataset}.csv"


def experiment_table(experiment: str, suffix: str) -> str:
    return f"{RESULTS}/summary/{experiment}.{suffix}"


def experiment_figure(experiment: str, kind: str) -> str:
    return f"{RESULTS}/summary/{experiment}_{kind}.png"


def figure_kinds(experiment: dict) -> list[str]:
    """Which figures an experiment gets: a heatmap needs both loss and f in its grid; 2D runs are
    shown over the true density, MNIST runs as sample grids."""
    kinds = ["points", "curves"]
    if {"loss", "f"} <= set(experiment["grid"]):
        kinds.append("heatmap")
    kinds.append("samples" if datasets.get(experiment["dataset"]).images else "density")
    return kinds


def probes(experiment: str) -> str:
    return f"{RESULTS}/{experiment}/probes.csv"


def energy_maps(experiment: str) -> str:
    return f"{RESULTS}/{experiment}/energy_maps.png"
