import re

import yaml

from tests.conftest import REPO


def test_every_rule_that_runs_a_command_keeps_a_log():
    missing = []
    for path in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"\n\s*rule[ :]", path.read_text())[1:]:
            if "shell:" in block and "log:" not in block.split("shell:")[0]:
                missing.append(f"{path.name}: {block.split(chr(10))[0] or block.split(chr(10))[2].strip()}")
    assert not missing, f"rules without a log: {missing}"


def test_every_rule_that_runs_a_command_names_the_one_software_environment():
    missing = []
    for path in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"\n\s*rule[ :]", path.read_text())[1:]:
            if "shell:" in block and not re.search(r"conda:\s+SOFTWARE\s", block.split("shell:")[0]):
                missing.append(f"{path.name}: {block.split(chr(10))[0] or block.split(chr(10))[2].strip()}")
    assert not missing, f"rules without the conda environment: {missing}"


def test_the_rules_environment_is_environment_yml_installed_from_the_repository_root():
    """workflow/envs/energygan.yaml (the rules') and environment.yml (a user's) pin the same software; only the
    path the package is installed from differs, each relative to its own file."""
    rules_env = yaml.safe_load((REPO / "workflow/envs/energygan.yaml").read_text())
    user_env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_rules, pip_user = rules_env["dependencies"].pop()["pip"], user_env["dependencies"].pop()["pip"]
    assert rules_env == user_env
    assert [p for p in pip_rules if not p.startswith("-e ")] == [p for p in pip_user if not p.startswith("-e ")]
    editable = next(p for p in pip_rules if p.startswith("-e "))[3:]
    assert (REPO / "workflow/envs" / editable).resolve() == REPO.resolve()
    assert "-e ." in pip_user
