import numpy as np
import pytest

from energygan.report import plots


def test_histogram_counts_every_run_exactly_once_diverged_in_a_bin_of_its_own():
    edges = np.array([0.0, 1.0, 2.0, 3.0])
    scores = np.array([0.0, 0.5, 1.0, 2.999, 3.0, 7.0, np.nan, np.nan, -1.0, np.nan])
    percent, failed = plots.histogram(scores, edges)
    # bins [0,1): 0, 0.5, and -1 (below the axis, first bin); [1,2): 1.0; [2,3]: 2.999, 3.0, 7.0 (last bin)
    assert percent.tolist() == pytest.approx([30.0, 10.0, 30.0])
    assert failed == pytest.approx(30.0)
    assert percent.sum() + failed == pytest.approx(100.0)
