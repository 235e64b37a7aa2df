import math

import pytest

from energygan.analysis import verdicts as v


@pytest.mark.parametrize("low, high, above, enough, expected", [
    (0.6, 0.9, True, True, v.SUPPORTED), (0.1, 0.4, True, True, v.REFUTED), (0.4, 0.7, True, True, v.NOT_ESTABLISHED),
    (0.6, 0.9, False, True, v.REFUTED), (0.1, 0.4, False, True, v.SUPPORTED),
    (0.6, 0.9, True, False, v.NOT_ESTABLISHED),             # too few units or working runs
    (0.5, 0.9, True, True, v.NOT_ESTABLISHED),              # touching the tolerance is not above it
    (math.nan, math.nan, True, True, v.NOT_ESTABLISHED),
])
def test_decide_needs_the_whole_interval_on_one_side_and_enough_evidence(low, high, above, enough, expected):
    assert v.decide(low, high, 0.5, above, enough) == expected
