import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
    return subprocess.run([SNAKEMAKE, *args], cwd=workdir, capture_output=True, text=True, timeout=300, env=env)
