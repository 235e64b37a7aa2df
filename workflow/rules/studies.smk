# Kept studies: a finished study's small outputs and provenance under version control in studies/<name>/
# (`energygan keep-study`: a paper-length study made on a GPU or a cluster), shown in the report beside
# this run's, each labelled with its device, date, commit and scale.
KEPT_STUDIES = sorted(p.parent.name for p in Path("studies").glob(f"*/{_kept.PROVENANCE}"))


for _study in KEPT_STUDIES:

    rule:
        name:
            f"render_study_{_study}"
        input:
            provenance=f"studies/{_study}/{_kept.PROVENANCE}",
            kept=study_files(_study),
        output:
            [report(path, category="7. Kept studies", subcategory=_kept.label(Path("studies", _study)),
                    caption="../report/kept_study.rst") for path in study_views(_study)],
        params:
            folder=lambda wildcards, input: Path(input.provenance).parent,
            out=lambda wildcards, output: Path(output[0]).parent,
        conda:
            SOFTWARE
        log:
            f"logs/studies/{_study}.log",
        shell:
            "energygan render-study --in {params.folder} --out {params.out} 2>&1 | tee {log}"
