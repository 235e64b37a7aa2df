# energygan: are energy-based GANs any more energy-based than normal GANs?
# The experiments, in the order of the blog post and the EBGAN paper; each rule file says what it makes.
from pathlib import Path

from snakemake.utils import min_version, validate

from energygan import plugins as _plugins
from energygan.study import checks as _checks
from energygan.study.experiments import shards

min_version("9.0")

configfile: "config/config.yaml"
validate(config, "workflow/schemas/config.schema.yaml")
# a researcher's own losses and nonlinearities, registered before any name is checked; every job loads them too
_plugins.load(config.get("plugins", []))
_plugins.export(config.get("plugins", []))


envvars:
    _plugins.ENV,  # a cluster job loads the plugins too
_checks.check(config)  # names the schema cannot check: losses, experiments, selectors, categories
# every run of every experiment, expanded now: settings that the engine cannot run together (an unknown
# dataset, the pull-away term without an autoencoder, ...) stop the workflow here, before any job
SHARDS = shards(config)


wildcard_constraints:
    category=r"[a-z_]+",


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/theory.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/grid_search.smk"
include: "workflow/rules/title_question.smk"
include: "workflow/rules/summary.smk"
include: "workflow/rules/studies.smk"


report: "workflow/report/workflow.rst"


# Everything a reader of the study needs, folder by folder: tracked by DVC once made (share.smk). The runs
# are asked for by their scoring jobs' records, the last file made for each shard (any run file can be asked
# for by name).
STUDY = [
    "results/theory/claims.html",
    "results/theory/penalties.png",
    *expand("results/theory/{name}.html", name=[Path(t).stem for t in THEORY_TABLES]),
    *scored(),
    *(EVALUATOR if SCORED_BY_CLASSIFIER else []),
    *reference_outputs(),
    _paths.RUNS_TABLE,
    *experiment_outputs(),
    *grid_search_outputs(),
    *title_question_outputs(),
    _paths.METRICS,
    *kept_study_outputs(),
]


include: "workflow/rules/share.smk"


rule all:
    input:
        STUDY,
        tracked_files() if config.get("track_with_dvc", True) else [],
    default_target: True
