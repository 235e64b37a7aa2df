# Summary: the tidy runs table, then per experiment an aggregated table (reference rows first) and
# figures, each in the report under its dataset's category.

GRID_CATEGORY = "4. EBGAN grid search"


rule summarize_runs:
    input:
        summarized(),
    output:
        report(_paths.RUNS_TABLE, category="5. All runs", caption="../report/runs.rst"),
    params:
        settings=as_json({"run_dirs": {name: [s.run_dir(r) for s in SHARDS if s.experiment == name for r in s.runs]
                                       for name in config["experiments"]}}),
    conda:
        SOFTWARE
    log:
        "logs/summary/summarize_runs.log",
    shell:
        "energygan summarize --out {output} --params {params.settings:q} 2>&1 | tee {log}"


for _name, _experiment in config["experiments"].items():
    _category = GRID_CATEGORY if _name in grid_search_experiments() else _datasets.get(_experiment["dataset"]).category
    _kinds = figure_kinds(_name)

    rule:
        name:
            f"tables_{_name}"
        input:
            _paths.RUNS_TABLE,
            _paths.reference(_experiment["dataset"]),
        output:
            _paths.experiment_table(_name, "csv"),
            report(_paths.experiment_table(_name, "html"), category=_category, subcategory=_name,
                   caption="../report/experiment_table.rst"),
        params:
            settings=as_json({"experiment": _name, "confidence": EVAL["confidence"],
                              "quality_floor": EVAL["quality_floor"]}),
        conda:
            SOFTWARE
        log:
            f"logs/summary/tables_{_name}.log",
        shell:
            "energygan experiment-tables --in {input} --out {output} --params {params.settings:q} 2>&1 | tee {log}"

    if not _kinds:
        continue

    rule:
        name:
            f"figures_{_name}"
        input:
            _paths.RUNS_TABLE,
        output:
            [report(_paths.experiment_figure(_name, kind), category=_category, subcategory=_name,
                    caption=f"../report/figure_{kind}.rst") for kind in _kinds],
        params:
            settings=as_json({"experiment": _name, "kinds": _kinds,
                              "settings": {"seed": EVAL["seed"], "plot_samples": EVAL["plot_samples"]}}),
        conda:
            SOFTWARE
        log:
            f"logs/summary/figures_{_name}.log",
        shell:
            "energygan experiment-figures --in {input} --out {output} --params {params.settings:q} 2>&1 | tee {log}"


# The headline numbers (DVC metrics, declared in dvc.yaml): `dvc metrics show`, `dvc metrics diff <rev>`.
VERDICT_TABLES = {name: f"{folder}/{table}" for name, folder, table, made in
                  (("grid_search", _paths.GRID_SEARCH, "verdicts.csv", grid_search_outputs()),
                   ("title_question", _paths.TITLE_QUESTION, "claims.csv", title_question_outputs()))
                  if made}


rule headline_metrics:
    input:
        runs=_paths.RUNS_TABLE,
        verdicts=VERDICT_TABLES.values(),
        evaluator=EVALUATOR if SCORED_BY_CLASSIFIER else [],
    output:
        _paths.METRICS,
    params:
        settings=as_json({"verdict_tables": VERDICT_TABLES,
                          "evaluator": _paths.EVALUATOR if SCORED_BY_CLASSIFIER else None}),
    conda:
        SOFTWARE
    log:
        "logs/summary/headline_metrics.log",
    shell:
        "energygan headline-metrics --in {input.runs} --out {output} --params {params.settings:q} 2>&1 | tee {log}"
