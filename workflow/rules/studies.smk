# Kept studies: a finished study's small outputs and provenance under version control in studies/<name>/
# (`energygan keep-study`: a paper-length study made on a GPU or a cluster), shown in the report beside
# this run's, each labelled with its device, date, commit and scale.
from energygan.study import kept as _kept

KEPT_STUDIES = sorted(p.parent.name for p in Path("studies").glob(f"*/{_kept.PROVENANCE}"))


def study_files(name):
    return sorted(str(p) for p in Path("studies", name).rglob("*") if p.is_file())


def study_views(name):
    """What the report shows of kept study `name` (energygan.study.kept.views)."""
    return [f"results/studies/{name}/{view}" for view in _kept.views(Path("studies", name)).values()]


def kept_study_outputs():
    return [path for name in KEPT_STUDIES for path in study_views(name)]


for _study in KEPT_STUDIES:

    rule:
        name:
            f"render_study_{_study}"
        input:
            study_files(_study),
        output:
            [report(path, category="7. Kept studies", subcategory=_kept.label(Path("studies", _study)),
                    caption="../report/kept_study.rst") for path in study_views(_study)],
        params:
            folder=f"studies/{_study}",
            out=f"results/studies/{_study}",
        log:
            f"logs/studies/{_study}.log",
        shell:
            "energygan render-study --in {params.folder} --out {params.out} 2>&1 | tee {log}"
