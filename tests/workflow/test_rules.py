import re

from tests.conftest import REPO


def test_every_rule_that_runs_a_command_keeps_a_log():
    missing = []
    for path in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"\n\s*rule[ :]", path.read_text())[1:]:
            if "shell:" in block and "log:" not in block.split("shell:")[0]:
                missing.append(f"{path.name}: {block.split(chr(10))[0] or block.split(chr(10))[2].strip()}")
    assert not missing, f"rules without a log: {missing}"
