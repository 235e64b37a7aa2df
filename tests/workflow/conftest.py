import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


@pytest.fixture
def workdir(tmp_path):
    """A clean copy of the workflow (no data, no results), as on a fresh clone."""
    for item in ("Snakefile", "workflow", "config", "profiles"):
        src = REPO / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / item)
    return tmp_path


def snakemake(workdir, *args, env=None):
    return subprocess.run([SNAKEMAKE, *args], cwd=workdir, check=False, capture_output=True, text=True, timeout=300,
                          env=env)


TINY_SETUP = {"discriminator": "mlp", "z_dim": 2, "n_layer_g": 2, "size_g": 8, "n_layer_d": 2, "size_d": 8,
              "batch_size": 16, "steps": 5, "log_every": 1}


def tiny_study(workdir) -> dict:
    """The default config with one experiment, `ring8_small`: two runs of TINY_SETUP in one shard (no
    MNIST, no grid search, no title question), written over the workdir's config/config.yaml."""
    config = yaml.safe_load((workdir / "config/config.yaml").read_text())
    config.pop("grid_search"), config.pop("title_question")
    config["evaluation"].update(samples=64)
    config["experiments"] = {"ring8_small": {"dataset": "ring8", "setup": TINY_SETUP, "run": {"lr": 0.001},
                                             "grid": {"loss": ["logistic", "lsif"], "f": ["identity"], "seed": [0]}}}
    (workdir / "config/config.yaml").write_text(yaml.safe_dump(config))
    return config
