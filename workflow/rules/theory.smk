# Theory: what each (loss, f) pair optimises, with P and Q known in closed form (blog + framework.md).

THEORY = config["theory"]
THEORY_TABLES = expand("results/theory/{name}.csv",
                       name=["optimum_check", "inner_loop_1d", "inner_loop_2d", "outer_loop", "renyi_bias",
                             "formula_checks"])


rule theory_penalties:
    output:
        report("results/theory/penalties.png", category="1. Theory", subcategory="Losses",
               caption="../report/penalties.rst"),
    params:
        settings=as_json({"losses": THEORY["losses"]}),
    conda:
        SOFTWARE
    log:
        "logs/theory/theory_penalties.log",
    shell:
        "energygan theory-penalties --out {output} --params {params.settings:q} 2>&1 | tee {log}"


rule theory_optimum_check:
    output:
        "results/theory/optimum_check.csv",
    params:
        settings=as_json({"losses": THEORY["losses"]}),
    conda:
        SOFTWARE
    log:
        "logs/theory/theory_optimum_check.log",
    shell:
        "energygan theory-optimum --out {output} --params {params.settings:q} 2>&1 | tee {log}"


rule theory_inner_loop:
    output:
        "results/theory/inner_loop_{dim}.csv",
        report("results/theory/inner_loop_{dim}.png", category="1. Theory", subcategory="Inner loop",
               caption="../report/inner_loop.rst"),
    wildcard_constraints:
        dim="1d|2d",
    params:
        settings=lambda w: as_json({"pair": THEORY["mixtures"][w.dim], "losses": THEORY["losses"],
                                    **THEORY["inner_loop"]}),
    conda:
        SOFTWARE
    log:
        "logs/theory/inner_loop_{dim}.log",
    shell:
        "energygan theory-inner --out {output} --params {params.settings:q} 2>&1 | tee {log}"


rule theory_outer_loop:
    output:
        "results/theory/outer_loop.csv",
        report("results/theory/hinge_learned.png", category="1. Theory", subcategory="Outer loop",
               caption="../report/hinge_learned.rst"),
    params:
        settings=as_json({**THEORY["gaussians"], "losses": THEORY["losses"],
                          "nonlinearities": THEORY["nonlinearities"], "mc_samples": THEORY["outer_loop"]["mc_samples"],
                          "seed": THEORY["outer_loop"]["seed"],
                          "learned_hinge": {**THEORY["outer_loop"]["learned_hinge"], "margin": hinge_margin()}}),
    conda:
        SOFTWARE
    log:
        "logs/theory/theory_outer_loop.log",
    shell:
        "energygan theory-outer --out {output} --params {params.settings:q} 2>&1 | tee {log}"


rule theory_renyi_bias:
    output:
        "results/theory/renyi_bias.csv",
    params:
        settings=as_json({**THEORY["gaussians"], **THEORY["renyi_bias"]}),
    conda:
        SOFTWARE
    log:
        "logs/theory/theory_renyi_bias.log",
    shell:
        "energygan theory-renyi-bias --out {output} --params {params.settings:q} 2>&1 | tee {log}"


rule theory_formula_checks:
    output:
        "results/theory/formula_checks.csv",
    params:
        settings=as_json({**THEORY["gaussians"], **THEORY["formula_checks"], "margin": hinge_margin()}),
    conda:
        SOFTWARE
    log:
        "logs/theory/theory_formula_checks.log",
    shell:
        "energygan theory-formulas --out {output} --params {params.settings:q} 2>&1 | tee {log}"


rule theory_claims:
    input:
        THEORY_TABLES,
    output:
        "results/theory/claims.csv",
        report("results/theory/claims.html", category="0. Claims", subcategory="2. Blog and framework (theory)",
               caption="../report/claims.rst"),
    params:
        settings=as_json({"tolerances": THEORY["tolerances"]}),
    conda:
        SOFTWARE
    log:
        "logs/theory/theory_claims.log",
    shell:
        "energygan theory-claims --in {input} --out {output} --params {params.settings:q} 2>&1 | tee {log}"


rule theory_tables_html:
    input:
        "results/theory/{name}.csv",
    output:
        report("results/theory/{name}.html", category="1. Theory", subcategory="Tables",
               caption="../report/theory_table.rst", labels={"table": "{name}"}),
    wildcard_constraints:
        name="optimum_check|inner_loop_1d|inner_loop_2d|outer_loop|renyi_bias|formula_checks",
    conda:
        SOFTWARE
    log:
        "logs/theory/theory_tables_html_{name}.log",
    shell:
        "energygan render-table --in {input} --out {output} 2>&1 | tee {log}"
