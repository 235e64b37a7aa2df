"""LSUN end to end in Snakemake: a tiny LMDB made here is fetched from a loopback server, converted, trained
on (DCGAN against EBGAN-PT, the convolutional nets) and scored with FID and KID through torch-fidelity,
with a small feature extractor registered through torch-fidelity's extension point."""

import io
import json
import math
import os
import sys
import zipfile

import lmdb
import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from tests.analysis.test_fidelity import needs_fidelity
from tests.conftest import REPO
from tests.workflow.conftest import snakemake

IMAGES = 24


def tiny_lsun_zip(folder):
    """An LSUN-style bedroom LMDB of IMAGES random JPEG and WebP pictures of varied sizes, zipped as LSUN ships it."""
    lmdb_dir = folder / "bedroom_train_lmdb"
    env = lmdb.open(str(lmdb_dir), map_size=1 << 26)
    rng = np.random.default_rng(0)
    with env.begin(write=True) as txn:
        for i in range(IMAGES):
            pixels = rng.integers(0, 256, (int(rng.integers(64, 120)), int(rng.integers(64, 120)), 3), dtype=np.uint8)
            buffer = io.BytesIO()
            Image.fromarray(pixels).save(buffer, format="WEBP" if i % 2 else "JPEG", quality=90)
            txn.put(f"{i:040x}".encode(), buffer.getvalue())
    env.close()
    with zipfile.ZipFile(folder / "bedroom_train_lmdb.zip", "w") as archive:
        for f in lmdb_dir.iterdir():
            archive.write(f, f"bedroom_train_lmdb/{f.name}")


@pytest.mark.fidelity
@needs_fidelity
def test_lsun_fetch_convert_train_and_score_in_snakemake(workdir, http_root):
    served, url = http_root
    tiny_lsun_zip(served)
    config = yaml.safe_load((workdir / "config/config.yaml").read_text())
    config.pop("grid_search"), config.pop("title_question")
    config["lsun"].update(enabled=True, url=url + "{category}_train_lmdb.zip", max_images=100, shard_size=10)
    config["evaluation"].update(samples=16, fidelity={"feature_extractor": "energygan-test-pooled",
                                                      "inception_weights": None, "kid_subset_size": 8,
                                                      "real_images": 16, "extensions": ["tests.fidelity_extractor"]})
    config["train"]["checkpoint_every"] = 2
    config["experiments"] = {"lsun_tiny": {
        "dataset": "lsun_bedroom",
        "setup": {"generator": "dcgan", "z_dim": 8, "n_layer_g": 5, "size_g": 2, "size_d": 2, "batch_size": 4,
                  "steps": 3, "log_every": 1, "batch_norm": "both"},
        "run": {"lr": 0.0002},
        "grid": {"discriminator+n_layer_d+loss+f+pt_weight": [["dcgan", 5, "logistic", "softplus", 0.0],
                                                              ["conv_autoencoder", 3, {"name": "hinge", "margin": 1},
                                                               "identity", 0.1]],
                 "seed": [0]}}}
    (workdir / "config/config.yaml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "PYTHONPATH": str(REPO), "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}"}
    targets = ["results/summary/lsun_tiny.html", "results/summary/lsun_tiny_samples.png"]
    result = snakemake(workdir, "--cores", "2", *targets, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads((workdir / "data/lsun/zip/bedroom_train_lmdb.json").read_text())
    assert record["url"] == url + "bedroom_train_lmdb.zip" and len(record["sha256"]) == 64
    shards = sorted((workdir / "data/lsun/bedroom").glob("shard-*.npy"))
    assert [np.load(s).shape for s in shards] == [(10, 64, 64, 3), (10, 64, 64, 3), (4, 64, 64, 3)]
    runs = sorted((workdir / "results/lsun_tiny/runs").iterdir())
    assert len(runs) == 2
    for run in runs:
        metrics = json.loads((run / "metrics.json").read_text())
        assert metrics["status"] == "ok"
        assert all(math.isfinite(metrics[k]) and metrics[k] >= 0 for k in ("fid", "kid_std"))
        assert Image.open(run / "samples.png").mode == "RGB"
    table = pd.read_csv(workdir / "results/summary/lsun_tiny.csv")
    assert table["loss"].iloc[0] == "fresh training images against the scored set"   # the reference row first
    assert sorted(table["discriminator"].dropna()) == ["conv_autoencoder", "dcgan"]
    assert (workdir / targets[1]).stat().st_size > 0
