"""A study kept in the repository (studies/<name>/, tests/data/studies/tiny: the tiny ring8 study with its
theory, kept by `energygan keep-study`) is rendered into the report, labelled with its device and commit."""
import json
import shutil

from tests.conftest import REPO
from tests.workflow.conftest import snakemake, tiny_study


def test_a_kept_study_is_shown_in_the_report(workdir):
    tiny_study(workdir)
    shutil.copytree(REPO / "tests/data/studies/tiny", workdir / "studies/tiny")
    view = "results/studies/tiny/theory__claims.html"
    done = snakemake(workdir, "--cores", "2", view)
    assert done.returncode == 0, done.stderr[-2000:]
    provenance = json.loads((workdir / "studies/tiny/provenance.json").read_text())
    label = f"kept study tiny: {provenance['device']}, {provenance['date'][:10]}, commit {provenance['commit'][:10]}"
    assert label in (workdir / view).read_text()
    done = snakemake(workdir, "--report", "report.html", view)
    assert done.returncode == 0, done.stderr[-2000:]
    page = (workdir / "report.html").read_text()
    assert "7. Kept studies" in page and label in page


def test_the_kept_cpu_study_answers_on_enough_independent_units():
    """studies/cpu_study (issue 31): the grid search on at least 16 architectures per family, and every
    title-question row on at least 8 units per side, each row with its interval."""
    import pandas as pd
    study = REPO / "studies/cpu_study"
    assert json.loads((study / "provenance.json").read_text())["commit"]
    grid = pd.read_csv(study / "grid_search/verdicts.csv")
    widest = grid[grid["claim"].str.contains("all runs")]
    assert len(widest) and (widest[["architectures_A", "architectures_B"]] >= 16).all().all()
    title = pd.read_csv(study / "title_question/claims.csv")
    rows = title[title["claim"].str.contains("2D") | ~title["claim"].str.contains("MNIST")]
    units = rows["runs"].astype(str).str.findall(r"\d+")
    assert len(rows) >= 9 and all(min(int(n) for n in found) >= 8 for found in units)
    assert rows[["ci_low", "ci_high", "half_width"]].notna().all().all()
