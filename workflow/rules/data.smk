# Data stage: verified MNIST and LSUN, then tracked by DVC (`dvc push` / `dvc pull` restore them).


rule fetch_mnist:
    output:
        MNIST_RAW,
    params:
        settings=as_json({"sources": config["mnist"]["sources"]}),
    log:
        "logs/data/fetch_mnist.log",
    shell:
        "energygan fetch-mnist --out data/mnist/raw --params {params.settings:q} 2>&1 | tee {log}"


rule prepare_mnist:
    input:
        MNIST_RAW,
    output:
        MNIST_PREPARED,
    log:
        "logs/data/prepare_mnist.log",
    shell:
        "energygan prepare-mnist --in data/mnist/raw --out data/mnist/prepared 2>&1 | tee {log}"


rule fetch_lsun:
    output:
        "data/lsun/zip/{category}_train_lmdb.zip",
    params:
        settings=lambda w: as_json({"category": w.category, "url": config["lsun"]["url"]}),
    log:
        "logs/data/fetch_lsun_{category}.log",
    shell:
        "energygan fetch-lsun --out {output} --params {params.settings:q} 2>&1 | tee {log}"


rule convert_lsun:
    input:
        "data/lsun/zip/{category}_train_lmdb.zip",
    output:
        directory("data/lsun/{category}"),
    params:
        convert=lambda w: as_json({k: config["lsun"][k] for k in ("max_images", "image_size", "shard_size")}),
    log:
        "logs/data/convert_lsun_{category}.log",
    shell:
        "energygan convert-lsun --in {input} --out {output} --params {params.convert:q} 2>&1 | tee {log}"


# `dvc add` writes data/<path>.dvc (commit it) and `dvc push` copies the data to the DVC remote.
# The .dvc files are committed, so the job's own output is a stamp beside the data (not in git):
# on a fresh clone the stamp is missing and the data are made (or `dvc pull`ed) again.
rule dvc_track:
    input:
        lambda w: DVC_INPUTS.get(w.path, f"data/{w.path}"),
    output:
        touch("data/.dvc-pushed/{path}"),
    wildcard_constraints:
        path=r"mnist/(raw|prepared)|lsun/\w+",
    resources:
        dvc_lock=1,  # one job at a time: DVC holds a repository lock
    log:
        "logs/data/dvc_{path}.log",
    shell:
        "(dvc add --quiet data/{wildcards.path} && dvc push --quiet data/{wildcards.path}.dvc) 2>&1 | tee {log}"
