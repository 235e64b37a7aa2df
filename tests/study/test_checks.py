import copy

import pytest
import yaml

from energygan.study import checks

from tests.conftest import REPO

DEFAULT = yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def changed(edit) -> dict:
    config = copy.deepcopy(DEFAULT)
    edit(config)
    return config


def test_the_default_and_its_experiment_lists_pass():
    checks.check(DEFAULT)
    assert checks.grid_search_experiments(DEFAULT) == ["gan_grid", "ebgan_grid", "ebgan_grid"]
    assert checks.probed_experiments(DEFAULT) == DEFAULT["title_question"]["experiments"]


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["lsun"].update(categories=["bedrooms"]), r"lsun.categories: unknown category \['bedrooms'\]"),
    (lambda c: c["grid_search"]["families"]["GAN"].update(experiment="gan_grd"),
     r"grid_search names experiments \['gan_grd'\] that `experiments` does not declare"),
    (lambda c: c["grid_search"]["families"]["EBGAN"].update(where={"margin": 10}),
     r"grid_search.families.EBGAN.where selects runs by \['margin'\], which are not run or setup settings"),
    (lambda c: c["title_question"].update(experiments=["ring8_loss_f", "ring9"]),
     r"title_question.experiments names \['ring9'\]"),
    (lambda c: c["title_question"]["groups"]["calibrated EBGAN"].update(entropy=0.1),
     r"title_question.groups.calibrated EBGAN selects runs by \['entropy'\]"),
    (lambda c: c["title_question"]["fixed_q"]["experiments"].update(grid25_loss_f="end"),
     r"title_question.fixed_q.experiments names \['grid25_loss_f'\], which title_question.experiments does not probe"),
])
def test_a_name_nothing_declares_is_refused_by_its_key(edit, message):
    with pytest.raises(ValueError, match=message):
        checks.check(changed(edit))
