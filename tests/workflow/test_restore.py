"""A study shared and restored through DVC, end to end: on a git clone of a small study, the README's `make
run` commands make it, track it and push it to a local DVC remote; on a second clone, the `make restore`
commands pull it back, and Snakemake then has nothing left to do and renders the report without a job."""

import json
import os
import re
import shutil
import subprocess
import sys

import yaml

from tests.conftest import REPO
from tests.workflow.conftest import snakemake

PROJECT = ["Snakefile", "workflow", "config", "profiles", "Makefile", "dvc.yaml", ".dvc/config", ".dvc/.gitignore",
           ".dvcignore", ".gitignore", "results/.gitignore"]
GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@example.org"]


def recipe(target):
    """The shell lines of a Makefile target, as `make` would run them (the venv set-up aside)."""
    text = (REPO / "Makefile").read_text()
    body = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", text, re.MULTILINE)[1]
    return [line[1:] for line in body.splitlines()]


def shell(lines, cwd, env):
    for line in lines:
        done = subprocess.run(line, shell=True, cwd=cwd, env=env, check=False, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, (line, done.stdout[-2000:], done.stderr[-3000:])


def small_study(config):
    config.pop("grid_search"), config.pop("title_question")
    theory = config["theory"]
    theory["inner_loop"].update(sample_sizes=[64], steps=20)
    theory["outer_loop"].update(mc_samples=2000)
    theory["outer_loop"]["learned_hinge"].update(samples=64, steps=20)
    theory["renyi_bias"].update(batch_sizes=[8], batches=20)
    config["evaluation"].update(samples=64, plot_samples=64)
    config["experiments"] = {"ring8_small": {
        "dataset": "ring8",
        "setup": {"discriminator": "mlp", "z_dim": 2, "n_layer_g": 2, "size_g": 8, "n_layer_d": 2, "size_d": 8,
                  "batch_size": 16, "steps": 5, "log_every": 1},
        "run": {"lr": 0.001},
        "grid": {"loss": ["logistic", "lsif"], "f": ["identity"], "seed": [0]}}}
    return config


def tracked_files(root):
    """Every file under the folders that the study's .dvc files track."""
    found = {}
    for dvc_file in [*root.glob("results/*.dvc"), *root.glob("data/**/*.dvc")]:
        target = dvc_file.with_suffix("")
        for path in [target] if target.is_file() else sorted(p for p in target.rglob("*") if p.is_file()):
            found[str(path.relative_to(root))] = path.read_bytes()
    return found


def test_a_pushed_study_is_restored_on_a_fresh_clone_without_a_job(tmp_path):
    made, restored, remote = tmp_path / "made", tmp_path / "restored", tmp_path / "remote"
    for item in PROJECT:
        (made / item).parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if (REPO / item).is_dir() else shutil.copy)(REPO / item, made / item)
    config = small_study(yaml.safe_load((made / "config/config.yaml").read_text()))
    (made / "config/config.yaml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}"}
    use_remote = f"dvc remote modify --local local url {remote}"  # .dvc/config.local: not in git
    shell(["git init -q", f"{' '.join(GIT)} add -A", f"{' '.join(GIT)} commit -qm study", use_remote], made, env)

    shell(recipe("run"), made, env)
    dvc_files = sorted(str(p.relative_to(made)) for p in made.glob("results/*.dvc"))
    assert dvc_files == [  # one per results folder; no evaluator: nothing here is scored by the MNIST classifier
        "results/metrics.json.dvc", "results/reference.dvc", "results/report.html.dvc", "results/ring8_small.dvc",
        "results/summary.dvc", "results/theory.dvc"]
    # what `make run` changed in git: only .dvc files, new or modified
    changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=made, check=True,
                             capture_output=True, text=True).stdout.split("\n")
    assert sorted(line[3:] for line in changed if line) == dvc_files
    shell([f"{' '.join(GIT)} add results", f"{' '.join(GIT)} commit -qm results"], made, env)

    shell([f"git clone -q {made} {restored}"], tmp_path, env)
    shell([use_remote], restored, env)
    shell(recipe("restore"), restored, env)
    made_files, restored_files = tracked_files(made), tracked_files(restored)
    made_report, restored_report = (files.pop("results/report.html").decode().split("\n")
                                    for files in (made_files, restored_files))
    assert restored_files == made_files
    # the rebuilt report embeds the same results; only what Snakemake draws from its record of the jobs that
    # ran differs: the job statistics and the rule graph (no job ran here)
    differing = {line.split("=")[0].strip() for line, other in zip(made_report, restored_report) if line != other}
    assert len(made_report) == len(restored_report)
    assert differing <= {"var runtimes_spec", "var timeline_spec", "var rules", "var rulegraph_spec"}
    dry_run = snakemake(restored, "-n", env=env)
    assert dry_run.returncode == 0 and "Nothing to be done" in dry_run.stdout + dry_run.stderr, dry_run.stdout[-3000:]
    # no job ran here: `--touch` leaves at most empty log files, where every job writes its log
    assert all(log.stat().st_size == 0 for log in (restored / "logs").rglob("*.log"))
    assert (restored / "results/report.html").stat().st_size > 0
    metrics = subprocess.run(["dvc", "metrics", "show", "--json"], cwd=restored, env=env, check=True,
                             capture_output=True, text=True)
    shown = json.loads(metrics.stdout)[""]["data"]["results/metrics.json"]["data"]
    assert shown["experiments"]["ring8_small"]["runs"] == 2
