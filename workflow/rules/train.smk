# Training: every run of every experiment in the config, one job per shard: one or more batches of runs
# that share an architecture, each batch one batched computation (SHARDS: expanded in the Snakefile). Ask for
# any run's file to (re)make its shard.
from energygan.study import plan as _plan


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


RUNTIME_FROM_PLAN = _plan.calibrated(config["train"]["device"])  # else the profile's default runtime


for _shard in SHARDS:

    rule:
        name:
            f"train_{_shard.name}"
        input:
            dataset_inputs(_shard.dataset),
        output:
            _shard.outputs(),
        params:
            settings=as_json(_experiments.job_params(_shard, config["train"])),
            prepared=_datasets.get(_shard.dataset).prepared or "",
        resources:
            gpu=0 if config["train"]["device"] == "cpu" else 1,  # auto may use one: never schedule it as a CPU job
            **cluster_resources(_shard),
        priority: _shard.run_steps  # the longest jobs first, so that no long job is left to run alone at the end
        group:
            f"shard_{_shard.name}"  # on a cluster, one submission trains and scores the shard (evaluate.smk)
        log:
            f"logs/train/{_shard.name}.log",
        shell:
            "energygan train --in {params.prepared} --out {output[0]} --params {params.settings:q} 2>&1 | tee {log}"
