# Data stage: verified MNIST and LSUN (tracked by DVC with the results: workflow/rules/share.smk).


rule fetch_mnist:
    output:
        MNIST_RAW,
    params:
        settings=as_json({"sources": config["mnist"]["sources"]}),
    priority: DATA_FIRST
    conda:
        SOFTWARE
    log:
        "logs/data/fetch_mnist.log",
    shell:
        "energygan fetch-mnist --out data/mnist/raw --params {params.settings:q} 2>&1 | tee {log}"


rule prepare_mnist:
    input:
        MNIST_RAW,
    output:
        MNIST_PREPARED,
    priority: DATA_FIRST
    conda:
        SOFTWARE
    log:
        "logs/data/prepare_mnist.log",
    shell:
        "energygan prepare-mnist --in data/mnist/raw --out data/mnist/prepared 2>&1 | tee {log}"


rule fetch_lsun:
    output:
        "data/lsun/zip/{category}_train_lmdb.zip",
    params:
        settings=lambda w: as_json({"category": w.category, "url": config["lsun"]["url"]}),
    priority: DATA_FIRST
    conda:
        SOFTWARE
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
    priority: DATA_FIRST
    conda:
        SOFTWARE
    log:
        "logs/data/convert_lsun_{category}.log",
    shell:
        "energygan convert-lsun --in {input} --out {output} --params {params.convert:q} 2>&1 | tee {log}"
