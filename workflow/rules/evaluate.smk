# Evaluation: a classifier trained on MNIST's training split scores every MNIST run; the 2D runs are
# scored against their known density. Reference rows score real data the same way.
EVAL = config["evaluation"]
EVALUATOR = expand("results/evaluator/{name}", name=["classifier.pt", "test_stats.pt", "metrics.json"])
SCORE_SETTINGS = {k: EVAL[k] for k in ("samples", "seed", "batch_size", "min_share")}


rule build_evaluator:
    input:
        MNIST_PREPARED,
    output:
        EVALUATOR,
    priority: max([s.steps for s in SHARDS], default=0) + 1  # before any training job: every MNIST score waits for it
    params:
        settings=as_json(EVAL["classifier"]),
    log:
        "logs/evaluate/build_evaluator.log",
    shell:
        "energygan build-evaluator --in data/mnist/prepared --out results/evaluator --params {params.settings:q} 2>&1 | tee {log}"


rule reference_mnist:
    input:
        MNIST_PREPARED,
        EVALUATOR,
    output:
        "results/reference/mnist.csv",
    params:
        settings=as_json({"dataset": "mnist", "settings": SCORE_SETTINGS}),
    log:
        "logs/evaluate/reference_mnist.log",
    shell:
        "energygan reference-scores --in data/mnist/prepared results/evaluator --out {output} --params {params.settings:q} 2>&1 | tee {log}"


rule reference_mixture:
    output:
        "results/reference/{dataset}.csv",
    wildcard_constraints:
        dataset="ring8|grid25",
    params:
        settings=lambda w: as_json({"dataset": w.dataset, "settings": SCORE_SETTINGS}),
    log:
        "logs/evaluate/reference_{dataset}.log",
    shell:
        "energygan reference-scores --out {output} --params {params.settings:q} 2>&1 | tee {log}"


for _shard in SHARDS:
    _mnist = _shard.dataset == "mnist"

    rule:
        name:
            f"evaluate_{_shard.name}"
        input:
            _shard.outputs(),
            EVALUATOR if _mnist else [],
        output:
            [f"{_shard.run_dir(r)}/metrics.json" for r in _shard.runs],
        params:
            settings=as_json({"dataset": _shard.dataset, "run_dirs": [_shard.run_dir(r) for r in _shard.runs],
                              "settings": SCORE_SETTINGS}),
            evaluator="results/evaluator" if _mnist else "",
        log:
            f"logs/evaluate/{_shard.name}.log",
        shell:
            "energygan evaluate --in {params.evaluator} --params {params.settings:q} 2>&1 | tee {log}"
