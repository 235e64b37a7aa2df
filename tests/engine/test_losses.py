import math

import numpy as np
import pytest
import torch
import yaml

from energygan.engine import losses, nonlinearities

from tests.conftest import REPO

LOSSES = ["logistic", "lsif", {"name": "hinge", "margin": 10.0}, "least_squares",
          {"name": "linear", "margin": 2.0, "real_penalty": 0.05}, {"name": "linear", "real_penalty": 0.5}]
LOG2 = math.log(2)


@pytest.mark.parametrize("name, s, real, fake", [
    ("logistic", 0.0, LOG2, LOG2),
    ("logistic", 1.0, math.log(1 + math.e), math.log(1 + 1 / math.e)),
    ("lsif", 3.0, 9.0, -6.0),
    ("lsif", -0.5, 0.25, 1.0),
    ("hinge", 3.0, 3.0, 7.0),
    ("hinge", 12.0, 12.0, 0.0),
    ("least_squares", 0.5, 0.25, 0.25),
    ("least_squares", 3.0, 9.0, 4.0),
    ("linear", 3.0, 3.0, -3.0),
    ("linear", -2.5, -2.5, 2.5),
    ({"name": "linear", "margin": 2.0, "real_penalty": 0.1}, 3.0, 3.9, -2.0),
    ({"name": "linear", "margin": 2.0, "real_penalty": 0.1}, -1.0, -0.9, 1.0),
])
def test_penalties_hand_values(name, s, real, fake):
    loss = losses.make(name)
    assert loss.real(torch.tensor(s, dtype=torch.float64)).item() == pytest.approx(real, abs=1e-12)
    assert loss.fake(torch.tensor(s, dtype=torch.float64)).item() == pytest.approx(fake, abs=1e-12)


@pytest.mark.parametrize("spec", LOSSES, ids=str)
def test_optimum_is_the_dense_search_minimiser(spec):
    loss = losses.make(spec)
    rng = np.random.default_rng(0)
    p = torch.tensor(rng.uniform(0.05, 3, 60))
    q = torch.tensor(rng.uniform(0.05, 3, 60))
    keep = (p - q).abs() > 1e-3
    p, q = p[keep], q[keep]
    lo, hi = (0.0, 20.0) if spec == LOSSES[2] else (-80.0, 80.0)  # the linear loss's s* reaches -10 and 29
    s = torch.linspace(lo, hi, 1_600_001, dtype=torch.float64)
    step = (hi - lo) / 1_600_000
    for pi, qi in zip(p, q):
        searched = s[(pi * loss.real(s) + qi * loss.fake(s)).argmin()]
        assert abs(searched - loss.optimum(pi, qi)) <= step


@pytest.mark.parametrize("spec", LOSSES, ids=str)
def test_optimum_depends_on_the_density_ratio_only(spec):
    """The probes take s* from p and q scaled by max(p, q) at each point (energygan.analysis.probes.targets)."""
    loss = losses.make(spec)
    p = torch.tensor([0.3, 2.0, 1e-3, 0.5], dtype=torch.float64)
    q = torch.tensor([0.9, 0.1, 4.0, 0.5], dtype=torch.float64)
    for scale in (1e-200, 1e-3, 7.0, 1e150):
        assert torch.allclose(loss.optimum(scale * p, scale * q), loss.optimum(p, q), rtol=1e-12, atol=0)


def test_closed_forms_at_named_points():
    p, q = torch.tensor([1.0, 2.0]), torch.tensor([2.0, 1.0])
    assert losses.make("logistic").optimum(p, q).tolist() == pytest.approx([LOG2, -LOG2])
    assert losses.make("lsif").optimum(p, q).tolist() == pytest.approx([2.0, 0.5])
    assert losses.make("least_squares").optimum(p, q).tolist() == pytest.approx([2 / 3, 1 / 3])
    assert losses.make("hinge", margin=4).optimum(p, q).tolist() == [4.0, 0.0]
    # min(m, (q/p - 1) / (2 lambda)): (2 - 1) / 0.2 = 5 clipped at 3; (0.5 - 1) / 0.2 = -2.5
    assert losses.make("linear", margin=3, real_penalty=0.1).optimum(p, q).tolist() == pytest.approx([3.0, -2.5])
    # without the penalty the linear terms push s to the margin where q > p and without bound where q < p
    assert losses.make("linear", margin=3).optimum(p, q).tolist() == [3.0, -math.inf]


def test_documented_rules_where_the_minimiser_is_not_unique():
    equal = torch.tensor([0.7])
    assert losses.make("hinge").optimum(equal, equal).item() == 0.0  # any of [0, m]; rule: 0
    assert losses.make("logistic").optimum(equal, equal).item() == 0.0
    assert losses.make("linear", margin=5).optimum(equal, equal).item() == 5.0  # any s <= m; rule: m
    zero = torch.tensor([0.0])
    for spec in LOSSES:
        assert math.isnan(losses.make(spec).optimum(zero, zero).item())
    assert losses.make("logistic").optimum(zero, torch.tensor([1.0])).item() == math.inf


@pytest.mark.parametrize("name, s, value", [
    ("identity", 1.7, 1.7),
    ("softplus", 0.0, LOG2),
    ("softplus", 2.0, math.log(1 + math.exp(2))),
    ("softminus", 0.0, -LOG2),
    ("softminus", 2.0, math.log(1 / (1 + math.exp(-2)))),
    ({"name": "power", "alpha": 3}, 2.0, 4.0),
    ({"name": "power", "alpha": 1.5}, 4.0, 2.0),
])
def test_nonlinearities_hand_values(name, s, value):
    f = nonlinearities.make(name)
    assert f(torch.tensor(s, dtype=torch.float64)).item() == pytest.approx(value, abs=1e-12)


def test_unknown_names_list_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown loss 'wgan'; known loss names: \['hinge', 'least_squares', "
                                         r"'linear', 'logistic', 'lsif'\]"):
        losses.make("wgan")
    with pytest.raises(ValueError, match=r"unknown nonlinearity 'tanh'; known nonlinearity names: \['identity', "
                                         r"'power', 'softminus', 'softplus'\]"):
        nonlinearities.make("tanh")


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match=r"loss 'hinge' takes parameters \['margin'\], not \['alpha'\]"):
        losses.make({"name": "hinge", "alpha": 2})
    with pytest.raises(ValueError, match="alpha must be > 1"):
        nonlinearities.make("power", alpha=0.5)
    with pytest.raises(ValueError, match="linear: margin must be > 0 and real_penalty >= 0"):
        losses.make("linear", real_penalty=-0.1)


def test_names_are_listed_in_the_registries_only_and_checked_against_them():
    """The schema takes any name (a plugin's too); the config's check refuses an unknown one by the registry."""
    from energygan.study import checks
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    assert "enum" not in str(schema["$defs"]["loss"]) and "enum" not in str(schema["$defs"]["nonlinearity"])
    with pytest.raises(ValueError, match=r"config: theory.losses: unknown loss 'wgan'; known loss names: \['hinge'"):
        checks.check_specs("theory.losses", ["logistic", "wgan"], losses)
    with pytest.raises(ValueError, match=r"config: theory.losses: hinge: margin must be > 0, got -1"):
        checks.check_specs("theory.losses", [{"name": "hinge", "margin": -1}], losses)


def test_hinge_is_per_sample_not_on_the_batch_mean():
    """A known defect of public EBGAN code: max(0, m - mean(s)) instead of mean(max(0, m - s))."""
    s_fake = torch.tensor([0.5, 3.0])
    per_sample = losses.make("hinge", margin=2.0).fake(s_fake).mean().item()
    assert per_sample == pytest.approx((1.5 + 0.0) / 2)
    assert per_sample != pytest.approx(max(0.0, 2.0 - 1.75))  # the batch-mean version gives 0.25
