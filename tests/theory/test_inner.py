
import torch

from energygan.theory import inner

from tests.theory.conftest import LOSSES


def test_inner_loop_logistic_learns_log_ratio():
    pair = {"p": {"weights": [1.0], "means": [0.0], "scales": [1.0]},
            "q": {"weights": [1.0], "means": [0.5], "scales": [1.0]}}
    result = inner.inner_loop(pair, ["logistic"], [4096], hidden=16, depth=1, steps=300, lr=0.02,
                               weight_decay=0.0, seed=0)
    x = result.grid[:, 0]
    torch.testing.assert_close(result.optimum["logistic"], 0.5 * x - 0.125)  # log q/p for these Gaussians
    assert result.table.relative_error.item() < 0.2


def test_optimum_check_errors_are_within_the_grid_step():
    table = inner.optimum_check(LOSSES, points=120_001)
    assert (table.max_abs_error <= table.grid_step).all()
