
import pytest

from energygan.engine.spec import Run, Setup
from energygan.study import runfolder, training_job

SETUP = Setup(dataset="ring8", z_dim=2, n_layer_g=2, size_g=4, n_layer_d=2, size_d=4, batch_size=8, steps=3,
              checkpoint_every=10, log_every=1)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs") / "r"
    training_job.train_batch(SETUP, [Run("r", seed=0)], [str(folder)], str(folder.parent / "ck.pt"), None, "cpu")
    return folder


def test_a_training_job_leaves_every_file_of_the_layout(run_dir):
    assert sorted(p.name for p in run_dir.iterdir()) == sorted(runfolder.TRAINING_FILES)
    assert runfolder.read_manifest(run_dir)["status"] == "ok"


def test_a_run_with_an_average_of_g_keeps_g_itself_for_its_discriminators_probes(tmp_path):
    """With `ema`, generator.pt holds the average (sampled, scored) and generator_raw.pt G itself, in the
    folder and in each snapshot; adversary() names the one D was trained against."""
    import torch

    from energygan.data import datasets
    from energygan.engine.training import Trainer
    setup = Setup(**{**SETUP.__dict__, "ema": 0.5, "steps": 4, "snapshots": (0.5,)})
    folder = tmp_path / "r"
    training_job.train_batch(setup, [Run("r", seed=0)], [str(folder)], str(tmp_path / "ck.pt"), None, "cpu")
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == sorted(runfolder.training_files(True))
    assert sorted(p.name for p in runfolder.snapshot_dir(folder, 2).iterdir()) == \
        sorted(name.split("/")[-1] for name in runfolder.snapshot_files(2, True))
    trainer = Trainer(setup, [Run("r", seed=0)], datasets.load("ring8"))
    trainer.fit()
    z = torch.randn(5, 2)
    with torch.no_grad():
        raw, average = trainer.G.eval()(z[None])[0], trainer.G_average.eval()(z[None])[0]
    assert not torch.allclose(raw, average)
    torch.testing.assert_close(runfolder.load_generator(folder / runfolder.RAW_GENERATOR)(z), raw)
    torch.testing.assert_close(runfolder.load_generator(folder / runfolder.GENERATOR)(z), average)
    assert runfolder.adversary(folder) == folder / runfolder.RAW_GENERATOR
    assert runfolder.adversary(runfolder.snapshot_dir(folder, 2)).name == runfolder.RAW_GENERATOR
    (folder / runfolder.RAW_GENERATOR).unlink()
    assert runfolder.adversary(folder) == folder / runfolder.GENERATOR  # without an average, the one generator
