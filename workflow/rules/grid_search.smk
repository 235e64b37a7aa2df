# EBGAN's grid search (paper section 4.1) from the runs table: the paper's claims as verdicts, a table per
# family, Figure 2 (I' per family, all runs and shallower nets), Figure 3 (GAN per optimiser setting),
# Figure 4 (the best samples), the margin sweep and the discriminator x loss ablation.
if GRID_SEARCH:
    rule grid_search:
        input:
            _paths.RUNS_TABLE,
            _paths.reference("mnist"),
        output:
            [report(path, category="0. Claims", subcategory="1. EBGAN grid search", caption="../report/grid_verdicts.rst")
             if path.endswith("verdicts.html") else
             report(path, category="4. EBGAN grid search", caption=f"../report/grid_{Path(path).stem}.rst")
             if path.endswith((".html", ".png")) else path
             for path in grid_search_outputs()],
        params:
            settings=as_json({"spec": GRID_SEARCH, "grid_sizes": {name: _experiments.grid_size(config["experiments"][name])
                                                                  for name in grid_search_experiments()}}),
        conda:
            SOFTWARE
        log:
            "logs/grid_search/grid_search.log",
        shell:
            f"energygan grid-search --in {{input}} --out {_paths.GRID_SEARCH} --params {{params.settings:q}} 2>&1 | tee {{log}}"
