# The study under DVC. Once everything is made, each results folder (one per experiment; the evaluator,
# reference rows, summary, grid search, title question and theory), the headline metrics and each data
# folder are added to DVC (a .dvc file beside each: commit them) and pushed to the default remote. A
# folder's files are uploaded only when they change. `make restore` brings a pushed study back (README).


localrules:
    track_study,  # on a cluster too: DVC pushes from the project's own folder, with the submitting user's remote


rule track_study:
    input:
        MNIST_RAW + MNIST_PREPARED if USES_MNIST else [],
        [f for f in data_folders() if f.startswith("data/lsun/")],
        STUDY,
    output:
        tracked_files(),
    params:
        paths=tracked_paths(),
    conda:
        SOFTWARE
    log:
        "logs/share/track_study.log",
    shell:
        "energygan track --in {params.paths} 2>&1 | tee {log}"
