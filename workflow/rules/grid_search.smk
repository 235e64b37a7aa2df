# EBGAN's grid search (paper section 4.1) from the runs table: the paper's claims as verdicts, a table per
# family, Figure 2 (I' per family, all runs and shallower nets), Figure 3 (GAN per optimiser setting),
# Figure 4 (the best samples), the margin sweep and the discriminator x loss ablation.
GRID_SEARCH = config.get("grid_search")


def grid_search_outputs():
    if not GRID_SEARCH:
        return []
    names = ["verdicts.csv", "verdicts.html", "families.csv", "families.html", "figure2.png", "figure3.png",
             "figure4.png"] + (["margin_sweep.png"] if "margin_sweep" in GRID_SEARCH else []) + \
        (["ablation.csv", "ablation.html"] if "ablation" in GRID_SEARCH else [])
    return expand("results/grid_search/{name}", name=names)


def grid_search_experiments():
    if not GRID_SEARCH:
        return []
    return [f["experiment"] for f in GRID_SEARCH["families"].values()] + \
           ([GRID_SEARCH["margin_sweep"]] if "margin_sweep" in GRID_SEARCH else []) + \
           ([GRID_SEARCH["ablation"]["experiment"]] if "ablation" in GRID_SEARCH else [])


if GRID_SEARCH:
    if missing := sorted(set(grid_search_experiments()) - set(config["experiments"])):
        raise ValueError(f"config: grid_search names experiments {missing} that `experiments` does not declare; "
                         f"declared: {sorted(config['experiments'])}")
    _selectors = {"grid_search.fair": GRID_SEARCH["fair"],
                  "grid_search.ablation.factors": GRID_SEARCH.get("ablation", {}).get("factors", {}),
                  **{f"grid_search.families.{name}.where": f.get("where", {})
                     for name, f in GRID_SEARCH["families"].items()}}
    for _key, _selector in _selectors.items():
        if unknown := sorted(set(_selector) - _experiments.RUN_FIELDS - _experiments.SETUP_FIELDS):
            raise ValueError(f"config: {_key} selects runs by {unknown}, which are not run or setup settings; "
                             f"known: {sorted(_experiments.RUN_FIELDS | _experiments.SETUP_FIELDS)}")

    rule grid_search:
        input:
            "results/summary/runs.csv",
            "results/reference/mnist.csv",
        output:
            [report(path, category="0. Claims", subcategory="1. EBGAN grid search", caption="../report/grid_verdicts.rst")
             if path.endswith("verdicts.html") else
             report(path, category="4. EBGAN grid search", caption=f"../report/grid_{Path(path).stem}.rst")
             if path.endswith((".html", ".png")) else path
             for path in grid_search_outputs()],
        params:
            settings=as_json({"spec": GRID_SEARCH, "grid_sizes": {name: _experiments.grid_size(config["experiments"][name])
                                                                  for name in grid_search_experiments()}}),
        log:
            "logs/grid_search/grid_search.log",
        shell:
            "energygan grid-search --in {input} --out results/grid_search --params {params.settings:q} 2>&1 | tee {log}"
