import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from energygan.study import sharing

from tests.conftest import REPO

DVC = str(Path(sys.executable).with_name("dvc"))


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A git + DVC project with a local default remote, as the repository's own."""
    root, remote = tmp_path / "project", tmp_path / "remote"
    root.mkdir()
    monkeypatch.chdir(root)
    subprocess.run(["git", "init", "-q"], check=True)
    for args in (["init", "-q"], ["config", "core.analytics", "false"], ["remote", "add", "-d", "local", str(remote)]):
        subprocess.run([DVC, *args], check=True)
    Path("results").mkdir()
    shutil.copy(REPO / "results/.gitignore", "results/.gitignore")
    return root, remote


def remote_objects(remote):
    return {p for p in remote.rglob("*") if p.is_file()}


def test_track_adds_and_pushes_folders_keeping_modification_times(project):
    _root, remote = project
    for name, text in (("results/exp_a/runs/r/manifest.json", "{}"), ("results/exp_b/runs/r/manifest.json", "[]"),
                       ("results/metrics.json", '{"x": 1}')):
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        Path(name).write_text(text)
        os.utime(name, ns=(10**18, 10**18))  # an old time that a relink would overwrite
    sharing.track(["results/exp_a", "results/exp_b", "results/metrics.json"])
    assert all(Path(p).stat().st_mtime_ns == 10**18
               for p in ("results/exp_a/runs/r/manifest.json", "results/metrics.json"))
    assert all(Path(f"results/{n}.dvc").is_file() for n in ("exp_a", "exp_b", "metrics.json"))
    # the .dvc files are the only change git sees (no .gitignore written beside the results)
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "results"], check=True,
                            capture_output=True, text=True).stdout.split()
    assert sorted(s for s in status if s != "??") == ["results/.gitignore", "results/exp_a.dvc", "results/exp_b.dvc",
                                                      "results/metrics.json.dvc"]
    # and DVC finds them all, as `dvc pull` on a clone must
    listed = subprocess.run([DVC, "data", "status", "--json", "--granular"], check=True, capture_output=True,
                            text=True).stdout
    assert all(name in listed for name in ("exp_a", "exp_b", "metrics.json"))
    pushed = remote_objects(remote)
    assert len(pushed) == 3 + 2  # one object per file, and the listing of each of the two folders
    # a changed experiment uploads its changed file and its listing, nothing of the other experiment
    Path("results/exp_b/runs/r/manifest.json").write_text('["changed"]')
    sharing.track(["results/exp_a", "results/exp_b", "results/metrics.json"])
    assert len(remote_objects(remote) - pushed) == 2


def test_track_refuses_what_was_not_made(project):
    with pytest.raises(FileNotFoundError, match=r"\['results/nothing'\].*run snakemake --cores all first"):
        sharing.track(["results/nothing"])
