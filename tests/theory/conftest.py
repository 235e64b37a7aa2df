import pytest

from energygan.theory import outer as outer_module

P = {"loc": 0.0, "scale": 1.0}
THETA = [0.7, 0.8]
FS = ["identity", "softplus", "softminus", {"name": "power", "alpha": 3}]
LOSSES = ["logistic", "lsif", {"name": "hinge", "margin": 10}, "least_squares"]
HINGE = {"samples": 512, "hidden": 16, "depth": 1, "steps": 200, "lr": 0.02, "weight_decay": 0.0, "margin": 10}


@pytest.fixture(scope="package")
def outer_table():
    """The outer loop's table (indexed by loss, f and s) and its learned hinge s, shared by the theory tests."""
    table, learned = outer_module.outer_loop(P, THETA, LOSSES, FS, 20_000, 0, HINGE)
    return table.set_index(["loss", "f", "s"]), learned
