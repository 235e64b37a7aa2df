import ast

import pytest

from energygan import jobs, runfolder
from energygan.training import Run, Setup
from tests.conftest import REPO

SETUP = Setup(dataset="ring8", z_dim=2, n_layer_g=2, size_g=4, n_layer_d=2, size_d=4, batch_size=8, steps=3,
              checkpoint_every=10, log_every=1)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs") / "r"
    jobs.train_batch(SETUP, [Run("r", seed=0)], [str(folder)], str(folder.parent / "ck.pt"), None, "cpu")
    return folder


def test_a_training_job_leaves_every_file_of_the_layout(run_dir):
    assert sorted(p.name for p in run_dir.iterdir()) == sorted(runfolder.TRAINING_FILES)
    assert runfolder.read_manifest(run_dir)["status"] == "ok"


def test_no_import_loop_between_training_and_plots():
    """plots draws a run's samples for the run folder, which training writes: plots may not import
    training (nor the run folder), not even inside a function."""
    tree = ast.parse((REPO / "src/energygan/plots.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names} | \
               {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not imported & {"training", "runfolder"}
