# Data stage: verified MNIST and LSUN, then tracked by DVC (`dvc push` / `dvc pull` restore them).


rule fetch_mnist:
    output:
        MNIST_RAW,
    params:
        sources=config["mnist"]["sources"],
    log:
        "logs/data/fetch_mnist.log",
    shell:
        "energygan fetch-mnist --out data/mnist/raw --sources {params.sources} 2>&1 | tee {log}"


rule prepare_mnist:
    input:
        MNIST_RAW,
    output:
        MNIST_PREPARED,
    log:
        "logs/data/prepare_mnist.log",
    shell:
        "energygan prepare-mnist --raw data/mnist/raw --out data/mnist/prepared 2>&1 | tee {log}"


rule fetch_lsun:
    output:
        "data/lsun/zip/{category}_train_lmdb.zip",
    log:
        "logs/data/fetch_lsun_{category}.log",
    shell:
        "energygan fetch-lsun --category {wildcards.category} --out {output} 2>&1 | tee {log}"


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
        "energygan convert-lsun --source {input} --out {output} --params {params.convert:q} 2>&1 | tee {log}"


# One job at a time touches DVC's cache (it holds a repository lock).
rule dvc_track:
    input:
        lambda w: DVC_INPUTS.get(w.path, f"data/{w.path}"),
    output:
        "data/{path}.dvc",
    wildcard_constraints:
        path=r"mnist/(raw|prepared)|lsun/\w+",
    resources:
        dvc_lock=1,
    log:
        "logs/data/dvc_{path}.log",
    shell:
        "(dvc add --quiet data/{wildcards.path} && dvc push --quiet data/{wildcards.path}.dvc) 2>&1 | tee {log}"
