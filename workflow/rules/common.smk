# What the validated config asks for, and every function the files of rules call (Snakemake's linter asks for
# rules and functions in files apart). The software every job runs in: one conda environment, environment.yml's.
import json
import os

from energygan.analysis import scorers as _scorers
from energygan.data import datasets as _datasets
from energygan.study import experiments as _experiments
from energygan.study import paths as _paths
from energygan.study import runfolder as _runfolder
from energygan.data import mnist as _mnist
from energygan.study import kept as _kept
from energygan.study import plan as _plan

SOFTWARE = "../envs/energygan.yaml"  # relative to the files of rules (workflow/rules/)

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


def prepared_folder(wildcards, input):
    """The prepared folder of the dataset a job reads (`input.data`: MNIST's files in it, or LSUN's folder), from
    the files themselves; "" for a mixture drawn from its closed form."""
    return os.path.commonpath(input.data) if input.data else ""


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


# --- what single rules need --------------------------------------------------------------------------

def scoring_inputs(dataset):
    """What scoring a dataset's samples reads: the evaluator and the test digits (classifier), the real
    images (fidelity), nothing (a known density)."""
    scorer = _scorers.of(dataset)
    return EVALUATOR + dataset_inputs(dataset) if scorer.reads_evaluator else dataset_inputs(dataset) if scorer.reads_images else []


def reference_inputs(dataset):
    """Real data scored as the runs are (its prepared folder), and what scores it: `--in` of reference_scores."""
    folders = [_datasets.get(dataset).prepared] if _datasets.get(dataset).prepared else []
    return folders + ([_paths.EVALUATOR] if _scorers.of(dataset).reads_evaluator else [])


def reference_outputs():
    """Real data scored as each experiment's runs are: the reference rows of its tables."""
    return [_paths.reference(dataset) for dataset in sorted({e["dataset"] for e in config["experiments"].values()})]


def figure_kinds(name):
    """An experiment's own figures; the grid search's experiments are drawn by its rule instead."""
    return [] if name in grid_search_experiments() else _paths.figure_kinds(config["experiments"][name])


def experiment_outputs():
    return [_paths.experiment_figure(name, kind) for name in config["experiments"] for kind in figure_kinds(name)] + \
           [_paths.experiment_table(name, "html") for name in config["experiments"]]


def study_files(name):
    return sorted(str(p) for p in Path("studies", name).rglob("*") if p.is_file())


def study_views(name):
    """What the report shows of kept study `name` (energygan.study.kept.views)."""
    return [f"results/studies/{name}/{view}" for view in _kept.views(Path("studies", name)).values()]


def kept_study_outputs():
    return [path for name in KEPT_STUDIES for path in study_views(name)]


def hinge_margin():
    """The margin of the hinge in `theory.losses` (the outer loop's learned hinge uses the same)."""
    return next((s["margin"] for s in THEORY["losses"] if isinstance(s, dict) and s["name"] == "hinge"), 10.0)


def tracked_paths():
    """What DVC tracks: the data folders, then each results folder (or file) that the study makes."""
    results = dict.fromkeys(Path(*Path(p).parts[:2]).as_posix() for p in STUDY if p.startswith("results/"))
    return data_folders() + list(results)


def tracked_files():
    return [f"{path}.dvc" for path in tracked_paths()]


def cluster_resources(shard):
    """On a cluster, a training job's `mem_mb`, and `runtime` where the calibration table measured the
    job's kind of device, from the plan (energygan.study.plan.job_resources), larger at each retry. Worked out
    when a job is submitted: counting a shard's FLOPs takes a tenth of a second per architecture, which a
    local or dry run of the paper config would pay for its 500 architectures."""
    known = {}

    def resource(name):
        def value(wildcards, attempt):
            if workflow.local_exec:  # a local or dry run sets no limits: the host's share, and no runtime
                return _plan.HOST_MB if name == "mem_mb" else None
            if not known:
                known.update(_plan.job_resources(shard, config["train"]))
            return known[name] * attempt

        return value

    return {name: resource(name) for name in ["mem_mb"] + (["runtime"] if RUNTIME_FROM_PLAN else [])}


_PROBE_SETTINGS = {k: v for k, v in TITLE.items() if k in ("plane", "samples", "kde_samples", "seed", "figure_f")} \
    if TITLE else {}


def probe_settings(name):
    """What the probes of experiment `name` read: a fresh D at a fixed Q only where fixed_q lists it."""
    fresh = TITLE.get("fixed_q")
    if not fresh or name not in fresh["experiments"]:
        return _PROBE_SETTINGS
    at = {"every_checkpoint": fresh["experiments"][name] == "every_checkpoint"}
    return {**_PROBE_SETTINGS, "fixed_q": {**{k: v for k, v in fresh.items() if k != "experiments"}, **at}}
