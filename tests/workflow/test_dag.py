import re

import pytest
import yaml

from tests.workflow.conftest import snakemake


def job_counts(output):
    """{rule: count} from Snakemake's dry-run 'Job stats' table."""
    table = output.split("Job stats:")[1].split("Reasons:")[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m[1] != "total"}


@pytest.mark.parametrize("configfile", ["config/config.yaml", "config/paper.yaml"])
def test_dry_run_whole_dag(workdir, configfile):
    result = snakemake(workdir, "-n", "--configfile", configfile)
    assert result.returncode == 0, result.stderr
    assert "Using workflow specific profile profiles/default" in result.stdout + result.stderr
    counts = job_counts(result.stdout)
    assert counts["fetch_mnist"] == 1 and counts["prepare_mnist"] == 1
    lsun_jobs = 1 if configfile.endswith("paper.yaml") else 0
    assert counts.get("convert_lsun", 0) == lsun_jobs
    assert counts["dvc_track"] == 2 + lsun_jobs
    assert counts["theory_claims"] == 1 and counts["theory_inner_loop"] == 2
    # evaluation and summary: one evaluation job per training shard, tables and figures per experiment
    train_jobs = sum(n for rule, n in counts.items() if rule.startswith("train_"))
    assert sum(n for rule, n in counts.items() if rule.startswith("evaluate_")) == train_jobs
    assert counts["build_evaluator"] == 1 and counts["reference_mnist"] == 1 and counts["summarize_runs"] == 1
    # a --configfile is merged over the default config: its experiments join the default ones
    experiments = {**yaml.safe_load((workdir / "config/config.yaml").read_text())["experiments"],
                   **yaml.safe_load((workdir / configfile).read_text())["experiments"]}
    assert {r for r in counts if r.startswith("tables_")} == {f"tables_{name}" for name in experiments}
    assert {r for r in counts if r.startswith("figures_")} == {f"figures_{name}" for name in experiments}
