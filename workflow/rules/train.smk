# Training: every run of every experiment in the config, one job per shard: one or more batches of runs
# that share an architecture, each batch one batched computation (SHARDS: expanded in the Snakefile). Ask for
# any run's file to (re)make its shard.
RUNTIME_FROM_PLAN = _plan.calibrated(config["train"]["device"])  # else the profile's default runtime


for _shard in SHARDS:

    rule:
        name:
            f"train_{_shard.name}"
        input:
            data=dataset_inputs(_shard.dataset),
        output:
            # the record first: Snakemake finds a producer by matching a file against a rule's outputs in order,
            # compiling a regex for each it tries, so the file that other jobs read is found at the first try
            record=_shard.trained,
            runs=_shard.run_outputs(),
        params:
            settings=as_json(_experiments.job_params(_shard, config["train"])),
            prepared=prepared_folder,
        resources:
            gpu=0 if config["train"]["device"] == "cpu" else 1,  # auto may use one: never schedule it as a CPU job
            **cluster_resources(_shard),
        priority: _shard.run_steps  # the longest jobs first, so that no long job is left to run alone at the end
        group:
            f"shard_{_shard.name}"  # on a cluster, one submission trains and scores the shard (evaluate.smk)
        conda:
            SOFTWARE
        log:
            f"logs/train/{_shard.name}.log",
        shell:
            "energygan train --in {params.prepared} --out {output.record} --params {params.settings:q} 2>&1 | tee {log}"
