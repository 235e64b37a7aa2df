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
