# Evaluation: a classifier trained on MNIST's training split scores every run on MNIST (at any size); the
# 2D runs are scored against their known density (energygan.data.datasets says which dataset gets which).
# Reference rows score real data the same way.
SCORE_SETTINGS = _experiments.score_settings(EVAL)


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


rule build_evaluator:
    input:
        MNIST_PREPARED,
    output:
        EVALUATOR,
    priority: LONGEST - 1  # beside the longest training job, before the others: every MNIST score waits for it
    params:
        settings=as_json(EVAL["classifier"]),
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
            _shard.scores(),
        params:
            settings=as_json(_experiments.score_params(_shard, EVAL)),
            sources=" ".join(_scorers.sources(_shard.dataset)),  # the folders of scoring_inputs
        group:
            f"shard_{_shard.name}"
        log:
            f"logs/evaluate/{_shard.name}.log",
        shell:
            "energygan evaluate --in {params.sources} --out {output[0]} --params {params.settings:q} 2>&1 | tee {log}"
