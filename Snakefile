# energygan: are energy-based GANs any more energy-based than normal GANs?
# The experiments, in the order of the blog post and the EBGAN paper; each rule file says what it makes.
from pathlib import Path

from snakemake.utils import min_version, validate

min_version("9.0")

configfile: "config/config.yaml"
validate(config, "workflow/schemas/config.schema.yaml")


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


report: "workflow/report/workflow.rst"


rule all:
    input:
        data_targets(),
        "results/theory/claims.html",
        "results/theory/penalties.png",
        expand("results/theory/{name}.html", name=[Path(t).stem for t in THEORY_TABLES]),
        run_outputs(),
        "results/evaluator/metrics.json",
        "results/summary/runs.csv",
        experiment_outputs(),
        grid_search_outputs(),
        title_question_outputs(),
    default_target: True
