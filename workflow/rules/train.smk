# Training: every run of every experiment in the config, one job per shard: one or more batches of runs
# that share an architecture, each batch one batched computation (SHARDS: expanded in the Snakefile). Ask for
# any run's file to (re)make its shard.
from energygan import experiments as _experiments


for _shard in SHARDS:

    rule:
        name:
            f"train_{_shard.name}"
        input:
            dataset_inputs(_shard.dataset),
        output:
            _shard.outputs(),
        params:
            settings=as_json(_experiments.job_params(_shard, config["train"]["device"])),
            prepared=_datasets.get(_shard.dataset).prepared or "",
        resources:
            gpu=0 if config["train"]["device"] == "cpu" else 1,  # auto may use one: never schedule it as a CPU job
        priority: _shard.steps  # the longest jobs first, so that no long job is left to run alone at the end
        group:
            f"shard_{_shard.name}"  # on a cluster, one submission trains and scores the shard (evaluate.smk)
        log:
            f"logs/train/{_shard.name}.log",
        shell:
            "energygan train --in {params.prepared} --params {params.settings:q} 2>&1 | tee {log}"


def run_outputs(experiment=None):
    return [f for shard in SHARDS if experiment in (None, shard.experiment) for f in shard.outputs()]
