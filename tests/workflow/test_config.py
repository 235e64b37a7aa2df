import pytest
import yaml

from tests.workflow.conftest import snakemake


def write(workdir, text):
    (workdir / "override.yaml").write_text(text)
    return "override.yaml"


@pytest.mark.parametrize("override, expected", [
    ("mnist:\n  sources: [official, kaggle]\n",
     ["'kaggle' is not one of ['official', 'mirror', 'pypi']", "['mnist']['sources'][1]"]),
    ("lsun:\n  max_images: many\n", ["'many' is not of type 'integer'", "['lsun']['max_images']"]),
    ("mnistt:\n  sources: [pypi]\n", ["'mnistt' was unexpected"]),
    ("lsun:\n  categories: [bedrooms]\n", ["'bedrooms' is not one of", "'bedroom'"]),
])
def test_bad_config_stops_before_any_job(workdir, override, expected):
    result = snakemake(workdir, "-n", "--configfile", write(workdir, override))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for text in expected:
        assert text in output
    assert "Job stats" not in output


def test_paper_config_is_complete_on_its_own(workdir):
    default = yaml.safe_load((workdir / "config/config.yaml").read_text())
    paper = yaml.safe_load((workdir / "config/paper.yaml").read_text())
    assert set(paper) == set(default)
