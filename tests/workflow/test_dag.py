import re

import pytest
import yaml
from snakemake.utils import update_config

from tests.workflow.conftest import snakemake


def job_counts(output):
    """{rule: count} from Snakemake's dry-run 'Job stats' table."""
    table = output.split("Job stats:")[1].split("Reasons:")[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.MULTILINE) if m[1] != "total"}


@pytest.mark.parametrize("configfile", ["config/config.yaml", "config/paper.yaml", "config/paper_slice.yaml",
                                        "config/cpu_study.yaml", "config/speed_settings.yaml",
                                        "config/speed_settings_paper.yaml"])
def test_dry_run_whole_dag(workdir, configfile):
    # the slice is an overlay on the paper config
    configfiles = ["config/paper.yaml", configfile] if configfile.endswith("slice.yaml") else [configfile]
    result = snakemake(workdir, "-n", "--configfile", *configfiles)
    assert result.returncode == 0, result.stderr
    assert "Using workflow specific profile profiles/default" in result.stdout + result.stderr
    counts = job_counts(result.stdout)
    # a --configfile is merged over the default config: its experiments join the default ones
    experiments = {}
    for path in ("config/config.yaml", configfiles[0]):
        update_config(experiments, yaml.safe_load((workdir / path).read_text())["experiments"])
    assert counts["fetch_mnist"] == 1 and counts["prepare_mnist"] == 1
    lsun_jobs = 1 if configfiles[0] == "config/paper.yaml" else 0
    assert counts.get("convert_lsun", 0) == lsun_jobs
    # one job tracks the whole study with DVC once it is made: the data folders and every results folder
    assert counts["track_study"] == 1 and counts["headline_metrics"] == 1
    tracked = set(re.findall(r"\b((?:data|results)/[\w/.]+)\.dvc\b", result.stdout))
    assert tracked == {"data/mnist/raw", "data/mnist/prepared", *(["data/lsun/bedroom"] * lsun_jobs), "results/theory",
                       *(f"results/{name}" for name in experiments), "results/evaluator", "results/reference",
                       "results/summary", "results/grid_search", "results/title_question", "results/metrics.json"}
    assert counts["theory_claims"] == 1 and counts["theory_inner_loop"] == 2
    # evaluation and summary: one evaluation job per training shard, tables and figures per experiment
    train_jobs = sum(n for rule, n in counts.items() if rule.startswith("train_"))
    assert sum(n for rule, n in counts.items() if rule.startswith("evaluate_")) == train_jobs
    assert counts["build_evaluator"] == 1 and counts["summarize_runs"] == 1
    # reference rows: one job per dataset that an experiment trains on
    datasets = {e["dataset"] for e in experiments.values()}
    assert counts["reference_scores"] == len(datasets)
    grid = {"gan_grid", "ebgan_grid", "margin_sweep", "ablation"}  # drawn by the grid-search rule instead
    assert {r for r in counts if r.startswith("tables_")} == {f"tables_{name}" for name in experiments}
    assert {r for r in counts if r.startswith("figures_")} == {f"figures_{name}" for name in set(experiments) - grid}
    assert counts["grid_search"] == 1
    # the title question: one probe job per probed experiment, then one job for claims, tables and figures
    probed = (yaml.safe_load((workdir / configfiles[0]).read_text()).get("title_question")
              or yaml.safe_load((workdir / "config/config.yaml").read_text())["title_question"])["experiments"]
    assert {r for r in counts if r.startswith("probe_")} == {f"probe_{name}" for name in probed}
    assert counts["title_question"] == 1
    # every sampled run of the grid search is made once (the dry run lists each run's files)
    default = 4 + 4  # GAN: 4 sampled architectures; EBGAN: 2 x PT (no sweep, no ablation)
    grid_runs = {"config/config.yaml": default, "config/paper.yaml": 6144 + 1024 + 8 + 256,
                 "config/paper_slice.yaml": 192 + 32 + 8 + 16, "config/cpu_study.yaml": 16 + 32 + 8 + 8,
                 "config/speed_settings.yaml": default, "config/speed_settings_paper.yaml": default}[configfile]
    made = set(re.findall(r"results/(gan_grid|ebgan_grid|margin_sweep|ablation)/runs/([^/\s,]+)/manifest\.json",
                          result.stdout))
    assert len(made) == grid_runs
