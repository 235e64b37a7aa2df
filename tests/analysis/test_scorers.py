import math

import pandas as pd
import pytest

from energygan.analysis import scorers
from energygan.data import datasets

FLOORS = {"classifier": {"min_classes": 10, "min_inception_of_real": 0.5},
          "density": {"min_modes_share": 0.75, "min_high_quality_share": 0.5},
          "fidelity": {"max_fid": 100.0}}


@pytest.mark.parametrize("scorer, scores, reference, expected", [
    # all ten digits and IS 4.9 >= 0.5 x 9.75 = 4.875
    ("classifier", {"classes_covered": 10, "inception_score": 4.9}, {"inception_score": 9.75}, True),
    ("classifier", {"classes_covered": 10, "inception_score": 4.87}, {"inception_score": 9.75}, False),
    ("classifier", {"classes_covered": 9, "inception_score": 9.0}, {"inception_score": 9.75}, False),
    ("classifier", {"classes_covered": math.nan, "inception_score": math.nan}, {"inception_score": 9.75}, False),
    # 6 of 8 modes = 75%, and half the samples near a mode
    ("density", {"modes_covered": 6, "high_quality_share": 0.5}, {"modes": 8}, True),
    ("density", {"modes_covered": 5, "high_quality_share": 0.9}, {"modes": 8}, False),
    ("density", {"modes_covered": 25, "high_quality_share": 0.49}, {"modes": 25}, False),
    ("fidelity", {"fid": 99.0}, {}, True),
    ("fidelity", {"fid": math.nan}, {}, False),
])
def test_a_run_works_when_its_scores_clear_every_part_of_its_floor(scorer, scores, reference, expected):
    assert scorers.get(scorer).works(scores, FLOORS[scorer], reference) is expected


def test_every_dataset_has_a_registered_scorer_and_each_scorer_a_floor_in_words():
    for name in datasets.names():
        assert scorers.of(name).name == datasets.get(name).scorer
    for name, scorer in scorers.REGISTRY.items():
        assert scorer.headline in scorer.scores
        assert scorer.describe(FLOORS[name]).startswith("works: ")
        assert sum([scorer.reads_evaluator, scorer.reads_images, scorer.known_density]) == 1  # one kind of input


def test_a_scoring_job_reads_the_evaluator_the_images_or_nothing():
    assert scorers.sources("mnist") == ["results/evaluator", "data/mnist/prepared"]
    assert scorers.sources("lsun_bedroom") == ["data/lsun/bedroom"]
    assert scorers.sources("ring8") == []
    assert list(scorers.selected(pd.Series(["mnist", "ring8", "mnist32"]), "reads_evaluator")) == [True, False, True]


def test_an_unknown_scorer_is_refused_with_the_known_names():
    with pytest.raises(ValueError, match=r"unknown scorer 'fid'; known: \['classifier', 'density', 'fidelity'\]"):
        scorers.get("fid")
