import json
import subprocess

import pandas as pd
import pytest

from energygan import files
from energygan.study import kept


def fake_results(root):
    """A finished study's results folder: a runs table, the title claims and their scale, a probes table, a
    figure and two shards' job records."""
    files.write_csv(pd.DataFrame({"run_id": ["a", "b"], "works": [True, False]}), root / "summary/runs.csv")
    files.write_csv(pd.DataFrame({"claim": ["c"], "verdict": ["supported"], "runs": ["4"]}),
                    root / "title_question/claims.csv")
    files.write_text("Scale: ring8: 2 runs, 5 steps.\n", root / "title_question/front_scale.txt")
    files.write_csv(pd.DataFrame({"run_id": ["a"], "flatness": [0.1]}), root / "ring8/probes.csv")
    files.write_bytes(b"\x89PNG fake", root / "title_question/over_training.png")
    for shard, seconds in (("0000", 12.5), ("0001", 7.5)):
        files.write_json({"wall_time_s": seconds}, root / f"ring8/shards/{shard}/trained.json")
    (root / "ring8/runs/a").mkdir(parents=True)
    files.write_bytes(b"weights", root / "ring8/runs/a/generator.pt")


def test_a_kept_study_holds_its_small_outputs_and_provenance_only(tmp_path):
    fake_results(tmp_path / "results")
    (tmp_path / "config.yaml").write_text("experiments: {}\n")
    record = kept.keep(tmp_path / "results", tmp_path / "studies/s1", [str(tmp_path / "config.yaml")], note="n")
    study = tmp_path / "studies/s1"
    written = sorted(str(p.relative_to(study)) for p in study.rglob("*") if p.is_file())
    assert written == ["probes/ring8.csv", "provenance.json", "summary/runs.csv", "title_question/claims.csv",
                    "title_question/front_scale.txt", "title_question/over_training.png"]  # no run folder, no weights
    assert record["training_wall_time_s"] == {"ring8": 20.0} and record["note"] == "n"
    assert record["configfiles"] == {str(tmp_path / "config.yaml"): "experiments: {}\n"}
    assert json.loads((tmp_path / "studies/s1/provenance.json").read_text())["device"] == record["device"]
    with pytest.raises(ValueError, match="is never overwritten"):
        kept.keep(tmp_path / "results", tmp_path / "studies/s1", [])


def test_a_study_too_large_or_missing_is_refused(tmp_path, monkeypatch):
    fake_results(tmp_path / "results")
    monkeypatch.setattr(kept, "MAX_MB", 1e-6)
    with pytest.raises(ValueError, match="more than the 1e-06 MB"):
        kept.keep(tmp_path / "results", tmp_path / "out", [])
    with pytest.raises(ValueError, match="run the study first"):
        kept.keep(tmp_path / "empty", tmp_path / "out", [])


def test_the_report_view_names_the_studys_device_date_commit_and_scale(tmp_path):
    fake_results(tmp_path / "results")
    kept.keep(tmp_path / "results", tmp_path / "studies/s1", [])
    record = json.loads((tmp_path / "studies/s1/provenance.json").read_text())
    written = kept.render(tmp_path / "studies/s1", tmp_path / "view")
    assert sorted(p.name for p in written) == ["title_question__claims.html", "title_question__over_training.png"]
    page = (tmp_path / "view/title_question__claims.html").read_text()
    assert f"kept study s1: {record['device']}, {record['date'][:10]}" in page
    assert "Scale: ring8: 2 runs, 5 steps." in page and "supported" in page


def test_provenance_counts_changes_to_tracked_files_only(tmp_path, monkeypatch):
    """A study's own outputs (results/*.dvc) are untracked: they are no change to the code that made it."""
    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True,
                       capture_output=True)
    git("init", "-q")
    (tmp_path / "code.py").write_text("x = 1\n")
    git("add", "code.py")
    git("commit", "-q", "-m", "c")
    fake_results(tmp_path / "results")
    (tmp_path / "results/ring8.dvc").write_text("outs: []\n")
    monkeypatch.chdir(tmp_path)
    record = kept.provenance(tmp_path / "results", [], "")
    assert len(record["commit"]) == 40 and record["uncommitted_changes"] is False
    (tmp_path / "code.py").write_text("x = 2\n")
    assert kept.provenance(tmp_path / "results", [], "")["uncommitted_changes"] is True
