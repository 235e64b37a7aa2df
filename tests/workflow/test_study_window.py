"""benchmarks/study_window.py: the jobs of a dry run, planned with Snakemake and run without it, stage by
stage; a window cut off keeps what finished and the same plan resumes; the study is kept at the end."""
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.workflow.conftest import tiny_study

WINDOW = str(REPO / "benchmarks/study_window.py")


def window(workdir, *args):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run([sys.executable, WINDOW, *args], cwd=workdir, check=False, capture_output=True, text=True,
                          env=env, timeout=300)


def statuses(out: Path) -> dict:
    return {r["rule"]: r["status"] for r in json.loads((out / "jobs.json").read_text())}


def test_a_window_cut_off_keeps_what_finished_and_the_same_plan_resumes(workdir, tmp_path):
    tiny_study(workdir)
    planned = window(workdir, "plan", "--target", "results/metrics.json")
    assert planned.returncode == 0, planned.stderr[-2000:]
    jobs = json.loads(planned.stdout)["jobs"]
    assert [j["rule"] for j in jobs] == ["train_ring8_small_0000", "evaluate_ring8_small_0000", "summarize_runs",
                                         "headline_metrics"]
    assert all(j["command"].startswith("energygan ") for j in jobs)
    (tmp_path / "window.json").write_text(planned.stdout)
    out = tmp_path / "out"
    # a window whose training stage has no time: nothing trains, nothing after it can run, nothing is kept
    cut = window(workdir, "run", str(tmp_path / "window.json"), "--out", str(out), "--limits", "train=0")
    assert cut.returncode == 0, cut.stderr[-2000:]
    assert statuses(out)["train_ring8_small_0000"] == "out of time"
    assert statuses(out)["summarize_runs"].startswith("failed") and not (out / "study").exists()
    # the next window trains, scores, summarises and keeps the study
    full = window(workdir, "run", str(tmp_path / "window.json"), "--out", str(out))
    assert full.returncode == 0, full.stderr[-2000:]
    assert set(statuses(out).values()) == {"done"} and (workdir / "results/metrics.json").exists()
    provenance = json.loads((out / "study/provenance.json").read_text())
    assert provenance["training_wall_time_s"].keys() == {"ring8_small"} and "train 2 done" in provenance["note"]
    assert "config/config.yaml" in provenance["configfiles"]
    # and a third finds every job's outputs: it keeps them all
    again = window(workdir, "run", str(tmp_path / "window.json"), "--out", str(out))
    assert again.returncode == 0 and set(statuses(out).values()) == {"kept"}


def test_a_job_out_of_time_is_stopped_with_every_process_of_its_pipeline(tmp_path, monkeypatch):
    import importlib.util
    spec = importlib.util.spec_from_file_location("study_window", WINDOW)
    study_window = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(study_window)
    monkeypatch.chdir(tmp_path)
    marker = "sleep 37.25"  # a duration no other process uses
    plan = {"configfiles": [], "jobs": [{"rule": "train_x", "stage": "train", "inputs": [], "outputs": ["made"],
                                         "logs": [], "command": f"{marker} | cat"}]}
    records = study_window.run(plan, tmp_path / "out", {"train": 1.0}, sys.executable)
    assert records == [{"rule": "train_x", "stage": "train", "status": "out of time", "seconds": records[0]["seconds"]}]
    assert records[0]["seconds"] < 15
    left = subprocess.run(["pgrep", "-f", marker], check=False, capture_output=True, text=True)  # 1: none found
    assert left.stdout == ""  # neither `sleep` nor `cat` survives its bash
