import json
import re
import shutil
import subprocess
from dataclasses import asdict, replace
from pathlib import Path

import pytest
import torch

from energygan.engine.spec import Run, Setup
from energygan.study import runfolder, training_job

from tests.engine.test_training import MIXED, SMALL


def batch(setup, runs, folder, index):
    return {"setup": asdict(setup), "runs": [asdict(r) for r in runs],
            "run_dirs": [str(folder / r.run_id) for r in runs],
            "checkpoint": str(folder / f"checkpoints/shard_{index}.pt")}


def run_files(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def same_outputs(first, second):
    """Every run file byte for byte, and the manifests but for their wall time."""
    made, other = run_files(first), run_files(second)
    assert sorted(made) == sorted(other) and made
    for name, content in made.items():
        if name.name == runfolder.MANIFEST:
            mine, theirs = json.loads(content), json.loads(other[name])
            assert {k: v for k, v in mine.items() if k != "wall_time_s"} == \
                {k: v for k, v in theirs.items() if k != "wall_time_s"}, name
        else:
            assert content == other[name], name


def test_outputs_and_manifest(tmp_path):
    dirs = [str(tmp_path / r.run_id) for r in MIXED[:2]]
    training_job.train_batch(SMALL, MIXED[:2], dirs, str(tmp_path / "ck.pt"), None, "cpu")
    manifest = json.loads((tmp_path / "a/manifest.json").read_text())
    assert manifest["run"]["seed"] == 1 and manifest["setup"]["steps"] == 30 and manifest["device"] == "cpu"
    assert {"git_commit", "torch", "numpy", "wall_time_s"} <= set(manifest)
    curves = (tmp_path / "a/curves.csv").read_text().splitlines()
    assert curves[0] == "step,d_loss,g_loss,s_real,s_fake" and len(curves) == 1 + 7  # steps 0, 5, ..., 25, 29
    state = torch.load(tmp_path / "a/generator.pt", weights_only=True)
    assert state["layers.0.weight"].shape == (4, 16)
    assert (tmp_path / "a/samples.png").stat().st_size > 0
    assert not (tmp_path / "ck.pt").exists()


def test_batches_side_by_side_leave_the_bytes_of_batches_one_after_another(tmp_path, monkeypatch):
    """Three batches of different nets, lengths and snapshots: trained one after another, or two or three
    at a time (a finished batch's place going to the next), every file is the same; never more than
    `concurrent` trainers are alive."""
    setups = [SMALL, replace(SMALL, size_d=8, n_layer_g=2), replace(SMALL, steps=12, snapshots=(0.5,))]
    groups = [MIXED[:2], MIXED[2:], [Run("e", seed=5), Run("f", seed=6, loss="lsif", f="identity")]]
    alive, most = [], {}

    class Counted(training_job.BatchJob):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            alive.append(self)
            most[concurrent] = max(most.get(concurrent, 0), len(alive))

        def finish(self, env):
            alive.remove(self)
            return super().finish(env)

    monkeypatch.setattr(training_job, "BatchJob", Counted)
    for concurrent in (1, 2, 3):
        folder = tmp_path / f"side_by_side_{concurrent}"
        training_job.train_shard([batch(s, r, folder, i) for i, (s, r) in enumerate(zip(setups, groups))], None, "cpu",
                         concurrent)
        assert not (folder / "checkpoints").exists() or not any((folder / "checkpoints").iterdir())
    assert most == {1: 1, 2: 2, 3: 3} and not alive
    assert (tmp_path / "side_by_side_1/e/snapshots").is_dir()
    same_outputs(tmp_path / "side_by_side_1", tmp_path / "side_by_side_2")
    same_outputs(tmp_path / "side_by_side_1", tmp_path / "side_by_side_3")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_batches_on_their_own_cuda_streams_train_as_one_after_another(tmp_path):
    """On a GPU each batch replays its CUDA graph on a stream of its own: the weights come out as they do
    one batch at a time (to rounding: kernels may be picked otherwise when streams overlap)."""
    setups = [SMALL, replace(SMALL, size_d=8), replace(SMALL, steps=12)]
    groups = [MIXED[:2], MIXED[2:], [Run("e", seed=5)]]
    for concurrent in (1, 3):
        folder = tmp_path / f"cuda_{concurrent}"
        training_job.train_shard([batch(s, r, folder, i) for i, (s, r) in enumerate(zip(setups, groups))], None, "cuda",
                         concurrent)
    for run in [r for g in groups for r in g]:
        for name in (runfolder.GENERATOR, runfolder.DISCRIMINATOR):
            alone, side_by_side = (torch.load(tmp_path / f"cuda_{c}" / run.run_id / name, weights_only=True)
                                   for c in (1, 3))
            for key, value in alone.items():
                if isinstance(value, torch.Tensor):
                    torch.testing.assert_close(side_by_side[key], value, atol=1e-5, rtol=1e-4)


def test_a_training_job_killed_between_checkpoints_resumes_to_the_same_bytes(tmp_path):
    """The drill: `energygan train` (two batches side by side) killed with SIGKILL after a checkpoint and
    before the next, then run again, leaves every run's files byte for byte as an uninterrupted job does
    (manifests aside: wall time)."""
    import signal
    import subprocess
    import sys
    import time
    setup = Setup(dataset="ring8", z_dim=2, n_layer_g=2, size_g=8, n_layer_d=2, size_d=8, batch_size=32,
                  steps=400, checkpoint_every=50, log_every=50, snapshots=(0.5,))
    wider = replace(setup, size_d=12, steps=300)

    def job(folder):
        params = {"batches": [batch(setup, MIXED[:2], folder, 0), batch(wider, MIXED[2:], folder, 1)],
                  "device": "cpu", "concurrent": 2}
        return [sys.executable, "-m", "energygan", "train", "--out", f"{folder}.trained.json",
                "--params", json.dumps(params)]

    subprocess.run(job(tmp_path / "whole"), check=True, capture_output=True)
    killed = subprocess.Popen(job(tmp_path / "killed"), stderr=subprocess.DEVNULL)
    checkpoint = tmp_path / "killed/checkpoints/shard_0.pt"
    while not checkpoint.exists() and killed.poll() is None:
        time.sleep(0.005)
    killed.send_signal(signal.SIGKILL)
    assert killed.wait() == -signal.SIGKILL
    step = torch.load(checkpoint, weights_only=True)["progress"]["step"]
    assert step % 50 == 0 and 0 < step < setup.steps and not (tmp_path / "killed/a/manifest.json").exists()
    other = tmp_path / "killed/checkpoints/shard_1.pt"  # the wider batch may be one checkpoint behind
    other_step = torch.load(other, weights_only=True)["progress"]["step"] if other.exists() else 0
    assert not (tmp_path / "killed.trained.json").exists()  # a job's record is written last
    resumed = subprocess.run(job(tmp_path / "killed"), check=True, capture_output=True, text=True)
    assert f"resumed from {checkpoint} at step {step}" in resumed.stderr
    same_outputs(tmp_path / "whole", tmp_path / "killed")
    assert not any((tmp_path / "killed/checkpoints").iterdir())
    # the records say what each job trained: the killed job's second run took up the steps left
    whole, killed = (json.loads((tmp_path / f"{name}.trained.json").read_text()) for name in ("whole", "killed"))
    assert [(b["resumed_at"], b["steps_trained"], b["runs"]) for b in whole["batches"]] == [(0, 400, 2), (0, 300, 2)]
    assert [(b["resumed_at"], b["steps_trained"]) for b in killed["batches"]] == [(step, 400 - step),
                                                                                 (other_step, 300 - other_step)]
    assert [b["run_dirs"] for b in whole["batches"]] == [[str(tmp_path / "whole" / r.run_id) for r in runs]
                                                         for runs in (MIXED[:2], MIXED[2:])]
    assert whole["concurrent"] == 2 and whole["device"] == "cpu" and "git_commit" in whole
    # the job's rate counts every run-step it trained, over its own wall time
    assert whole["run_steps_per_s"] == pytest.approx((2 * 400 + 2 * 300) / whole["wall_time_s"], rel=0.01, abs=0.1)


FILL_A_SMALL_DISK_WHILE_TRAINING = """
set -u
mount -t tmpfs -o size=64k tmpfs "$0"
energygan train --params "$1"; echo "first: $?"
find "$0" -type f | sort
mount -o remount,size=4m "$0"
energygan train --params "$1"; echo "again: $?"
find "$0" -type f | sort
"""


def test_a_full_disk_during_training_is_named_and_the_job_resumes_once_there_is_space(tmp_path):
    """The runs' folders on a 64 kB tmpfs (a user namespace of its own): the training job stops with the file
    and folder it could not write, leaves no partial file, and, once the disk has room, resumes and finishes."""
    disk = tmp_path / "disk"
    disk.mkdir()
    unshare = ["unshare", "--user", "--map-root-user", "--mount"]
    if shutil.which("unshare") is None or subprocess.run(
            [*unshare, "sh", "-c", 'mount -t tmpfs -o size=64k tmpfs "$0"', str(disk)],
            check=False, capture_output=True).returncode != 0:
        pytest.skip("no user namespaces to mount a small tmpfs in")
    params = {"batches": [batch(SMALL, MIXED[:2], disk / "results", 0)], "device": "cpu"}
    done = subprocess.run([*unshare, "sh", "-c", FILL_A_SMALL_DISK_WHILE_TRAINING, str(disk), json.dumps(params)],
                          check=False, capture_output=True, text=True)
    first, again = done.stdout.split("again: ")
    assert "first: 1" in first and again.startswith("0"), done.stdout + done.stderr
    refused = re.findall(r"energygan train: error: could not write (\S+): no space left on device in (\S+); "
                         r"free space there or write elsewhere", done.stderr)
    assert len(refused) == 1 and refused[0][0].startswith(refused[0][1] + "/"), done.stderr
    assert ".part" not in done.stdout  # no write left half-done on the full disk, nor after
    checkpoint = params["batches"][0]["checkpoint"]
    assert checkpoint in first and f"resumed from {checkpoint}" in done.stderr and checkpoint not in again
    left = again.splitlines()[1:]
    assert sorted(Path(p).name for p in left if "/a/" in p) == ["curves.csv", "discriminator.pt", "generator.pt",
                                                                "manifest.json", "samples.png"]
