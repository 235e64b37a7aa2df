"""The example plugin (examples/pearson_chi2) through the whole workflow, as a user runs it from a fresh clone:
its loss's theory rows, runs, probes and report rows, with no file of the package edited."""
import shutil

import pandas as pd
import yaml

from tests.conftest import REPO
from tests.workflow.conftest import snakemake


def test_the_example_plugin_goes_from_theory_to_the_report(tmp_path):
    for item in ("Snakefile", "workflow", "profiles"):
        src = REPO / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / item)
    example = tmp_path / "example"
    shutil.copytree(REPO / "examples" / "pearson_chi2", example,
                    ignore=shutil.ignore_patterns("results", "logs", ".snakemake"))
    # the example's own config, shorter: what is tested is the path, not the numbers
    config = yaml.safe_load((example / "config/config.yaml").read_text())
    config["theory"]["inner_loop"].update(steps=50, sample_sizes=[512])
    config["theory"]["outer_loop"].update(mc_samples=2000)
    config["theory"]["outer_loop"]["learned_hinge"].update(steps=20)
    config["experiments"]["ring8_pearson"]["setup"].update(steps=60, log_every=10)
    config["experiments"]["ring8_pearson"]["grid"]["seed"] = [0]
    config["title_question"].update(plane={"extent": 3.0, "points": 11}, samples=100, kde_samples=100)
    config["title_question"]["fixed_q"].update(steps=20, pool=500)
    (example / "config/config.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path, "--cores", "2", "--snakefile", "Snakefile", "--directory", str(example))
    assert result.returncode == 0, result.stderr[-3000:]
    theory = pd.read_csv(example / "results/theory/claims.csv")
    plugin_rows = theory[theory["source"] == "plugin"]
    assert len(plugin_rows) == 2 and plugin_rows["claim"].str.startswith("pearson_chi2 (plugin ").all()
    assert set(plugin_rows["verdict"]) <= {"supported", "refuted"}
    runs = pd.read_csv(example / "results/summary/runs.csv")
    assert sorted(zip(runs["loss"], runs["f"])) == [("logistic", "softplus"), ("pearson_chi2", "identity"),
                                                   ("pearson_chi2", "pearson_minimax")]
    probes = pd.read_csv(example / "results/ring8_pearson/probes.csv")
    assert set(probes["loss"]) == {"logistic", "pearson_chi2"} and probes["plane_optimum_spearman"].notna().all()
    energy = pd.read_csv(example / "results/title_question/energy_2d.csv")
    assert "pearson_chi2" in set(energy["loss"])
    report = snakemake(tmp_path, "--cores", "1", "--snakefile", "Snakefile", "--directory", str(example),
                       "--report", "results/report.html")
    assert report.returncode == 0, report.stderr[-3000:]
    assert "pearson_chi2" in (example / "results/report.html").read_text(errors="ignore")
