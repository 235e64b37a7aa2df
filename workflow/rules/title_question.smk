# The blog's title question asked of trained discriminators: every run of each probed experiment is probed
# at its snapshots and at the end (is s an energy? on 2D mixtures against -log p, s* and log q/p; on MNIST,
# is s lower on test digits than off the data?), then the claims are decided and the tables and figures made.

TITLE_CATEGORY = "6. Title question: is the discriminator an energy?"


if TITLE:
    for _name in probed_experiments():
        _mnist = not is_mixture(_name)
        _dataset = config["experiments"][_name]["dataset"]

        rule:
            name:
                f"probe_{_name}"
            input:
                trained(_name),
                [s.scored for s in SHARDS if s.experiment == _name],  # each run's metrics: works, d_dead
                data=dataset_inputs(_dataset),
            output:
                _paths.probes(_name),
                [] if _mnist else report(_paths.energy_maps(_name), category=TITLE_CATEGORY,
                                         subcategory="2D mixtures", caption="../report/title_energy_maps.rst"),
            params:
                settings=as_json({"experiment": _name, "settings": probe_settings(_name), "eval_seed": EVAL["seed"],
                                  "run_dirs": [s.run_dir(r) for s in SHARDS if s.experiment == _name for r in s.runs]}),
                prepared=prepared_folder,
            conda:
                SOFTWARE
            log:
                f"logs/title_question/probe_{_name}.log",
            shell:
                "energygan probe --in {params.prepared} --out {output} --params {params.settings:q} 2>&1 | tee {log}"

    rule title_question:
        input:
            [_paths.probes(name) for name in probed_experiments()],
        output:
            [report(path, category="0. Claims", subcategory="0. Title question (trained runs)",
                    caption="../report/title_claims.rst")
             if path.endswith("claims.html") else
             report(path, category=TITLE_CATEGORY, subcategory="Tables and probes over training",
                    caption=f"../report/title_{Path(path).stem}.rst")
             if path.endswith((".html", ".png")) else path
             for path in title_question_outputs() if path.startswith(f"{_paths.TITLE_QUESTION}/")],
        params:
            settings=as_json({"spec": TITLE}),
        conda:
            SOFTWARE
        log:
            "logs/title_question/title_question.log",
        shell:
            f"energygan title-question --in {{input}} --out {_paths.TITLE_QUESTION} --params {{params.settings:q}} 2>&1 | tee {{log}}"
