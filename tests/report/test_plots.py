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


def test_mixture_samples_draw_one_panel_per_loss_and_setting_and_leave_the_others_blank(monkeypatch):
    """The EBGAN variants share (hinge, identity): each has a panel of its own, titled by its setting."""
    import torch

    from energygan.data import datasets
    shown = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: shown.append(fig))
    x = torch.zeros(5, 2)
    samples = {("hinge", "identity, entropy_weight=0.0"): x, ("hinge", "identity, entropy_weight=0.1"): x,
               ("logistic", "softplus, entropy_weight=0.0"): x}
    marks = dict.fromkeys(samples, (" [works]", "tab:green"))
    plots.mixture_samples(samples, marks, datasets.mixture("ring8"), "unused.png", "t")
    axes = shown[0].axes
    assert len(axes) == 6 and sum(ax.axison for ax in axes) == 3  # 2 losses x 3 settings, 3 of them drawn
    assert sorted(ax.get_title() for ax in axes if ax.axison) == [
        "identity, entropy_weight=0.0 [works]", "identity, entropy_weight=0.1 [works]",
        "softplus, entropy_weight=0.0 [works]"]
