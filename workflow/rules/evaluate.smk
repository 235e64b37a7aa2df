# Evaluation: a classifier trained on MNIST's training split scores every run on MNIST (at any size); the
# 2D runs are scored against their known density (energygan.data.datasets says which dataset gets which).
# Reference rows score real data the same way.
SCORE_SETTINGS = _experiments.score_settings(EVAL)


rule build_evaluator:
    input:
        MNIST_PREPARED,
    output:
        EVALUATOR,
    priority: LONGEST - 1  # beside the longest training job, before the others: every MNIST score waits for it
    params:
        settings=as_json(EVAL["classifier"]),
    conda:
        SOFTWARE
    log:
        "logs/evaluate/build_evaluator.log",
    shell:
        f"energygan build-evaluator --in data/mnist/prepared --out {_paths.EVALUATOR} --params {{params.settings:q}} 2>&1 | tee {{log}}"


rule reference_scores:
    input:
        lambda w: list(dict.fromkeys(dataset_inputs(w.dataset) + scoring_inputs(w.dataset))),
    output:
        _paths.reference("{dataset}"),
    params:
        settings=lambda w: as_json({"dataset": w.dataset, "settings": SCORE_SETTINGS}),
        inputs=lambda w: " ".join(reference_inputs(w.dataset)),
    conda:
        SOFTWARE
    log:
        "logs/evaluate/reference_{dataset}.log",
    shell:
        "energygan reference-scores --in {params.inputs} --out {output} --params {params.settings:q} 2>&1 | tee {log}"


for _shard in SHARDS:

    rule:
        name:
            f"evaluate_{_shard.name}"
        input:
            through_record(_shard.trained, _shard.run_files(_runfolder.MANIFEST, _runfolder.GENERATOR)),
            scoring_inputs(_shard.dataset),
        output:
            record=_shard.scored,  # first, as the training job's record
            metrics=_shard.run_files(_runfolder.METRICS),
        params:
            settings=as_json(_experiments.score_params(_shard, EVAL)),
            sources=" ".join(_scorers.sources(_shard.dataset)),  # the folders of scoring_inputs
        group:
            f"shard_{_shard.name}"
        conda:
            SOFTWARE
        log:
            f"logs/evaluate/{_shard.name}.log",
        shell:
            "energygan evaluate --in {params.sources} --out {output.record} --params {params.settings:q} 2>&1 | tee {log}"
