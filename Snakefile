# energygan: are energy-based GANs any more energy-based than normal GANs?
# The experiments, in the order of the blog post and the EBGAN paper; each rule file says what it makes.
from snakemake.utils import min_version, validate

min_version("9.0")

configfile: "config/config.yaml"
validate(config, "workflow/schemas/config.schema.yaml")


wildcard_constraints:
    category=r"[a-z_]+",


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"


rule all:
    input:
        data_targets(),
    default_target: True
