"""Every file the pipeline reads, made bad in each way a crash, a partial copy or a wrong path can make it:
each is refused with a message that names the file, what is wrong and how to get a good one."""

import errno
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from energygan import __version__, files
from energygan.analysis import evaluation, headline, summary
from energygan.data import datasets, mnist
from energygan.engine import checkpoints, training
from energygan.engine.spec import Run, Setup
from energygan.study import runfolder, training_job

from tests.conftest import score_settings

SETUP = Setup(dataset="ring8", z_dim=2, n_layer_g=2, size_g=4, n_layer_d=2, size_d=4, batch_size=8, steps=3,
              checkpoint_every=10, log_every=1)


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """Good files of every kind, made by the code that makes them in the pipeline."""
    root = tmp_path_factory.mktemp("good")
    run_dir = root / "results/exp/runs/r"
    training_job.train_batch(SETUP, [Run("r", seed=0)], [str(run_dir)], str(root / "ck.pt"), None, "cpu")
    evaluation.evaluate_runs([str(run_dir)], "ring8", score_settings(samples=64, seed=0, batch_size=64), [])
    prepared = root / "data/mnist/prepared"
    images = torch.randint(0, 256, (6, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    for split in mnist.SPLITS:
        files.save_tensors({"images": images, "labels": torch.arange(6) % 10}, prepared / f"{split}.pt")
    evaluator = root / "results/evaluator"
    files.save_tensors(evaluation.Classifier().state_dict(), evaluator / "classifier.pt")
    files.save_tensors({"mean": torch.zeros(3), "cov": torch.eye(3)}, evaluator / "test_stats.pt")
    files.write_json({"test_accuracy": 0.99, "test_inception_score": 9.7}, evaluator / "metrics.json")
    shards = root / "data/lsun/bedroom"
    shards.mkdir(parents=True)
    np.save(shards / "shard-00000.npy", np.zeros((4, 64, 64, 3), np.uint8))
    summary_dir = root / "results/summary"
    files.write_csv(summary.runs_table({"exp": [str(run_dir)]}), summary_dir / "runs.csv")
    trainer = training.Trainer(SETUP, [Run("r", seed=0)], datasets.load("ring8"))
    trainer.save_checkpoint(root / "results/exp/checkpoints/shard_0.pt")
    return root


def shard_loader(path):
    datasets.ShardedImages(path.parent, datasets.get("lsun_bedroom"))


def checkpoint_loader(path):
    training.Trainer(SETUP, [Run("r", seed=0)], datasets.load("ring8")).load_checkpoint(path)


def headline_loader(path):
    headline.write(path, path.with_name("metrics.json"), {}, None)


# (file, how the pipeline reads it); every file is also tried truncated, foreign (a file of the right kind
# that is not this one's) and missing
READERS = {
    "data/mnist/prepared/train.pt": lambda p: mnist.load_prepared(p.parent, "train"),
    "results/exp/runs/r/generator.pt": runfolder.load_generator,
    "results/exp/runs/r/discriminator.pt": runfolder.load_discriminator,
    "results/exp/runs/r/manifest.json": lambda p: runfolder.read_manifest(p.parent),
    "results/exp/runs/r/metrics.json": lambda p: runfolder.read_metrics(p.parent),
    "results/exp/runs/r/curves.csv": lambda p: files.read_csv(p, ("step",), "energygan curves table"),
    "results/evaluator/classifier.pt": lambda p: evaluation.load_evaluator(p.parent),
    "results/evaluator/test_stats.pt": lambda p: evaluation.load_evaluator(p.parent),
    "results/evaluator/metrics.json": lambda p: evaluation.evaluator_metrics(p.parent),
    "results/summary/runs.csv": headline_loader,
    "data/lsun/bedroom/shard-00000.npy": shard_loader,
    "results/exp/checkpoints/shard_0.pt": checkpoint_loader,
}


def foreign(path):
    """A well-formed file of the same kind that is not an energygan file of this kind."""
    if path.suffix == ".pt":
        torch.save({"layers.0.weight": torch.zeros(2, 2)}, path)
    elif path.suffix == ".json":
        path.write_text(json.dumps({"something": "else"}))
    elif path.suffix == ".csv":
        path.write_text("a,b\n1,2\n")
    else:
        np.save(path, np.zeros((4, 32, 32, 3), np.uint8))  # wrong image size


@pytest.mark.parametrize("damage", ["truncated", "foreign", "missing"])
@pytest.mark.parametrize("name", READERS)
def test_a_bad_input_file_is_refused_by_name(good, tmp_path, name, damage):
    root = tmp_path / "study"
    shutil.copytree(good, root)
    path = root / name
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[: max(1, path.stat().st_size // 3)])
    elif damage == "foreign":
        foreign(path)
    else:
        path.unlink()
    with pytest.raises((files.FileError, checkpoints.CheckpointError)) as caught:
        READERS[name](path)
    message = str(caught.value)
    made_by = path.parent if name.startswith("data/lsun") else path  # the shards' Snakemake output is their folder
    assert str(path if (name, damage) != ("data/lsun/bedroom/shard-00000.npy", "missing") else made_by) in message
    if name.endswith("checkpoints/shard_0.pt"):  # resume state, not a result: deleting it restarts the job
        assert "delete it" in message
    else:
        assert f"re-make it: snakemake --cores all --force {made_by}" in message
    assert "Traceback" not in message and "weights_only" not in message


def test_the_refusal_names_dvc_pull_where_dvc_tracks_the_file(tmp_path):
    run_dir = tmp_path / "results/exp/runs/r"
    run_dir.mkdir(parents=True)
    (run_dir / "manifest.json").write_text("{")
    assert "dvc pull" not in str(files.refuse(run_dir / "manifest.json", "x"))
    (tmp_path / "results/exp.dvc").write_text("outs: []\n")
    with pytest.raises(files.FileError, match=re.escape(f"dvc pull {tmp_path / 'results/exp.dvc'}")):
        runfolder.read_manifest(run_dir)


def test_a_run_of_another_version_is_refused_with_both_versions(good, tmp_path):
    run_dir = tmp_path / "r"
    shutil.copytree(good / "results/exp/runs/r", run_dir)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["energygan"] == __version__
    for written_by in ("0.0.9", "9.0.0"):
        (run_dir / "manifest.json").write_text(json.dumps({**manifest, "energygan": written_by}))
        with pytest.raises(files.FileError, match=rf"{run_dir}/manifest.json was written by energygan {written_by}, "
                                                  rf"and this is energygan {__version__}"):
            summary.runs_table({"exp": [str(run_dir)]})


def test_the_command_line_reports_a_bad_file_by_name_without_a_traceback(good, tmp_path):
    shutil.copytree(good, tmp_path / "study")
    run_dir = tmp_path / "study/results/exp/runs/r"
    (run_dir / "generator.pt").write_bytes(b"PK\x03\x04 truncated")
    settings = {"dataset": "ring8", "run_dirs": [str(run_dir)],
                "settings": score_settings(samples=64, seed=0, batch_size=64)}
    done = subprocess.run([sys.executable, "-m", "energygan", "evaluate", "--params", json.dumps(settings)],
                          check=False, capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.startswith(f"energygan evaluate: error: {run_dir / 'generator.pt'} is truncated")
    assert "Traceback" not in done.stderr


KILL_WHILE_WRITING = """
import os, signal, sys
from energygan import files
with files.atomic_path(sys.argv[1]) as part:
    with open(part, "wb") as out:
        out.write(b"half of a file")
        out.flush()
        os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_job_killed_while_writing_leaves_no_file_under_the_output_name(tmp_path):
    target = tmp_path / "generator.pt"
    done = subprocess.run([sys.executable, "-c", KILL_WHILE_WRITING, str(target)], check=False)
    assert done.returncode == -signal.SIGKILL
    assert not target.exists()
    # what it had written lies under a hidden temporary name, which DVC ignores (.dvcignore)
    assert next(tmp_path.iterdir()).name.startswith(".generator.pt.")


def test_every_writer_goes_through_an_atomic_rename():
    """No module but energygan.files writes a file in place (savefig, to_csv, torch.save, write_text,
    np.save), except where the file is not an output itself."""
    from tests.conftest import REPO
    in_place = re.compile(r"\.savefig\(|\.to_csv\(|torch\.save\(|(?<!files)\.write_text\(|\bnp\.save\(")
    found = {(path.name, line.strip()) for path in (REPO / "src/energygan").rglob("*.py") if path.name != "files.py"
             for line in path.read_text().splitlines() if in_place.search(line)}
    assert found == {
        # pip's input, in a temporary folder
        ("mnist.py", 'req.write_text(f"{package}=={version} --hash=sha256:{sha256}\\n")'),
        # a staging folder, moved into place whole
        ("lsun.py", 'np.save(folder / f"shard-{index:05d}.npy", np.stack(images))'),
    }


def test_a_table_that_was_cut_short_is_refused(tmp_path):
    table = tmp_path / "runs.csv"
    pd.DataFrame({"experiment": ["e"], "dataset": ["ring8"], "status": ["ok"]}).to_csv(table, index=False)
    table.write_text("")
    with pytest.raises(files.FileError, match=rf"{table} is truncated or not a CSV table"):
        files.read_csv(table, ("experiment",))


# (writer, what it writes): the public writers every output goes through
WRITERS = {
    "write_json": (files.write_json, {"fid": 1.5}),
    "write_csv": (files.write_csv, pd.DataFrame({"step": [1, 2], "loss": [0.5, 0.25]})),
    "save_tensors": (files.save_tensors, {"weight": torch.arange(64.0)}),
}
REFUSALS = {  # errno: what the message says of it
    errno.ENOSPC: "no space left on device in {folder}; free space there or write elsewhere",
    errno.EACCES: "permission denied in {folder}; check the folder's permissions (ls -ld {folder})",
    errno.EPERM: "operation not permitted in {folder}; check the folder's permissions (ls -ld {folder})",
    errno.EROFS: "read-only file system in {folder}; remount it read-write or write elsewhere",
}


def refused_partway(monkeypatch, code):
    """Make every write of bytes stop with `code` after writing half of them, as a disk that fills up does."""
    write_bytes = pathlib.Path.write_bytes

    def write_half(path, data):
        write_bytes(path, data[: len(data) // 2])
        raise OSError(code, os.strerror(code), str(path))
    monkeypatch.setattr(pathlib.Path, "write_bytes", write_half)


@pytest.mark.parametrize("code", REFUSALS, ids=errno.errorcode.get)
@pytest.mark.parametrize("writer", WRITERS)
def test_a_refused_write_names_the_file_and_its_folder_and_leaves_the_old_file(tmp_path, monkeypatch, writer, code):
    write, content = WRITERS[writer]
    folder = tmp_path / "results/summary"
    new, old = folder / "new.out", folder / "old.out"
    files.write_text("the last good results\n", old)
    refused_partway(monkeypatch, code)
    for target in (new, old):
        with pytest.raises(files.FileError) as caught:
            write(content, target)
        assert str(caught.value) == f"could not write {target}: {REFUSALS[code].format(folder=folder)}"
        assert isinstance(caught.value.__cause__, OSError) and caught.value.__cause__.errno == code
    assert sorted(p.name for p in folder.iterdir()) == ["old.out"]  # no new.out, no .part
    assert old.read_text() == "the last good results\n"


@pytest.mark.parametrize("step", ["tempfile.mkstemp", "os.replace"])
def test_any_refused_step_of_a_write_names_the_file_and_its_folder(tmp_path, monkeypatch, step):
    """Other errors than the three above, and at the steps around the write: creating the temporary file,
    renaming it into place."""
    target = tmp_path / "runs/r/metrics.json"
    target.parent.mkdir(parents=True)

    def fail(*args, **kwargs):
        raise OSError(errno.EIO, os.strerror(errno.EIO))
    monkeypatch.setattr(step, fail)
    with pytest.raises(files.FileError, match=f"^could not write {re.escape(str(target))}: input/output error "
                                              f"in {re.escape(str(target.parent))}$"):
        files.write_json({"fid": 1.5}, target)
    assert list(target.parent.iterdir()) == []


FILL_A_SMALL_DISK = """
import json, sys
from pathlib import Path
from energygan import files
folder = Path(sys.argv[1]) / "results"
files.write_json({"fid": 1.5}, folder / "metrics.json")
try:
    files.write_json({"curve": list(range(100_000))}, folder / "metrics.json")  # 700 kB on a 64 kB disk
except files.FileError as err:
    print(json.dumps({"error": str(err), "errno": err.__cause__.errno,
                      "left": sorted(p.name for p in folder.iterdir()), "old": (folder / "metrics.json").read_text()}))
"""


def test_a_full_disk_is_named_on_a_really_small_filesystem(tmp_path):
    """A 64 kB tmpfs, mounted in a user namespace of its own (no root needed, where the kernel allows them)."""
    mount = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
             'mount -t tmpfs -o size=64k tmpfs "$0" && exec "$@"', str(tmp_path)]
    if shutil.which("unshare") is None or subprocess.run([*mount, "true"], check=False,
                                                           capture_output=True).returncode != 0:
        pytest.skip("no user namespaces to mount a small tmpfs in")
    done = subprocess.run([*mount, sys.executable, "-c", FILL_A_SMALL_DISK, str(tmp_path)],
                          check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "results"
    assert json.loads(done.stdout) == {
        "error": f"could not write {folder / 'metrics.json'}: no space left on device in {folder}; "
                 "free space there or write elsewhere",
        "errno": errno.ENOSPC, "left": ["metrics.json"], "old": json.dumps({"fid": 1.5}, indent=2)}


def test_a_missing_input_read_inside_a_write_keeps_its_own_error(tmp_path):
    """Only the write is the atomic path's to name: an input the block reads and cannot find says which input."""
    from energygan import files
    with pytest.raises(FileNotFoundError) as raised, files.atomic_path(tmp_path / "out.txt"):
        (tmp_path / "missing_input.txt").read_bytes()
    assert raised.value.filename == str(tmp_path / "missing_input.txt") and list(tmp_path.iterdir()) == []
