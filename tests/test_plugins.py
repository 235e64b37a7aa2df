"""Plugins: a researcher's own loss or f, loaded from a module or a file, judged by the theory as the built-in ones
are; and each way a plugin is refused, by name, with the fix."""
import math
import sys
import textwrap

import pandas as pd
import pytest

from energygan import plugins
from energygan.engine import losses, nonlinearities
from energygan.registry import RegistryError
from energygan.theory import claims, inner, outer

from tests.conftest import REPO

EXAMPLE = REPO / "examples" / "pearson_chi2"
LOSS = '''
from dataclasses import dataclass
from energygan.engine import losses


@losses.REGISTRY.register("{name}")
@dataclass(frozen=True)
class Plugin:
    domain = "real"

    def real(self, s):
        return s

    def fake(self, s):
        return s * s / 4 - s
{optimum}'''
RIGHT = '''
    def optimum(self, p, q):
        import torch
        p, q = torch.as_tensor(p, dtype=torch.float64), torch.as_tensor(q, dtype=torch.float64)
        return 2 * (1 - p / q)
'''


@pytest.fixture(autouse=True)
def registries(monkeypatch):
    """Each test registers into copies of the registries, and its plugin modules are forgotten after it: the
    built-in ones stay as they are for the others."""
    for registry in (losses.REGISTRY, nonlinearities.REGISTRY):
        monkeypatch.setattr(registry, "_factories", dict(registry._factories))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.startswith("energygan_plugin_"):
            del sys.modules[name]


def plugin(tmp_path, name="mine", optimum=RIGHT, file="mine.py"):
    path = tmp_path / file
    path.write_text(textwrap.dedent(LOSS.format(name=name, optimum=optimum)))
    return str(path)


def test_a_plugin_file_registers_its_loss_by_name_for_every_use(tmp_path):
    plugins.load([plugin(tmp_path)])
    loss = losses.make("mine")
    assert losses.REGISTRY.built_in("mine") is False and losses.REGISTRY.built_in("hinge")
    assert loss.optimum(1.0, 4.0).item() == pytest.approx(1.5)  # 2 (1 - 1/4)
    plugins.load([plugin(tmp_path)])  # loaded twice (the config and the environment): registered once
    assert losses.names().count("mine") == 1


def test_the_example_plugin_registers_a_loss_and_an_f_that_the_engine_trains_with():
    plugins.load([str(EXAMPLE / "pearson_chi2.py")])
    assert {"pearson_chi2"} <= set(losses.names()) and {"pearson_minimax"} <= set(nonlinearities.names())
    import torch
    s = torch.tensor([-1.0, 0.5, 2.0], dtype=torch.float64)
    loss, f = losses.make("pearson_chi2"), nonlinearities.make("pearson_minimax")
    torch.testing.assert_close(loss.fake(s), s * s / 4 - s)
    torch.testing.assert_close(f(s), -loss.fake(s))  # the f-GAN's minimax generator
    # s* = 2 (1 - p/q) minimises p s + q (s^2 / 4 - s): checked against a dense search by the theory (below)
    assert loss.optimum(torch.tensor([0.2]), torch.tensor([0.8])).item() == pytest.approx(1.5)


def test_a_plugin_that_does_not_import_is_refused_with_the_fix(tmp_path):
    with pytest.raises(ValueError, match=r"plugin 'no_such_plugin_module' does not import \(ModuleNotFoundError: "
                                         r".*\); put its module on the Python path or install it"):
        plugins.load(["no_such_plugin_module"])
    broken = tmp_path / "broken.py"
    broken.write_text("import torch\nraise RuntimeError('a bug in the plugin')\n")
    with pytest.raises(ValueError, match=r"broken.py' does not import \(RuntimeError: a bug in the plugin\)"):
        plugins.load([str(broken)])
    with pytest.raises(ValueError, match=r"missing.py' does not import \(FileNotFoundError"):
        plugins.load([str(tmp_path / "missing.py")])


def test_a_loss_without_an_optimum_is_refused_naming_the_module(tmp_path):
    with pytest.raises(RegistryError, match=r"energygan_plugin_no_optimum registers loss 'mine' without \['optimum'\]: "
                                            r"every loss states .* closed-form optimum s\*\(p, q\).*; "
                                            r"add optimum to it"):
        plugins.load([plugin(tmp_path, optimum="", file="no_optimum.py")])


def test_a_name_of_a_built_in_is_refused(tmp_path):
    with pytest.raises(RegistryError, match=r"energygan_plugin_clash registers loss 'hinge', a name that "
                                            r"energygan.engine.losses has registered already: give it another name"):
        plugins.load([plugin(tmp_path, name="hinge", file="clash.py")])


def test_parameters_a_plugins_class_does_not_take_are_refused_naming_the_plugin(tmp_path):
    plugins.load([plugin(tmp_path)])
    with pytest.raises(ValueError, match=r"loss 'mine' \(plugin energygan_plugin_mine\) takes parameters \[\], "
                                         r"not \['margin'\]"):
        losses.make({"name": "mine", "margin": 1})


def theory_claims(specs):
    """The theory tables of plugin losses, and the plugin claims judged from them."""
    p = {"loc": 0.0, "scale": 1.0}
    pair = {"p": {"weights": [0.5, 0.5], "means": [-1.5, 1.5], "scales": [1.0, 1.0]},
            "q": {"weights": [0.3, 0.7], "means": [-1.0, 1.2], "scales": [1.5, 1.5]}}
    learned = {"samples": 256, "hidden": 8, "depth": 1, "steps": 5, "lr": 0.01, "weight_decay": 0.0, "margin": 10.0}
    tables = {"optimum_check": inner.optimum_check(specs),
              "inner_loop_1d": inner.inner_loop(pair, specs, [4096], 64, 2, 600, 0.005, 0.1, 0).table,
              "outer_loop": outer.outer_loop(p, [0.7, 1.3], specs, ["identity"], 2000, 0, learned)[0],
              "renyi_bias": pd.DataFrame({"batch_size": [8], "bias": [0.0], "bias_se": [1.0], "moment_bias": [0.0],
                                          "moment_bias_se": [1.0]}),
              "formula_checks": pd.DataFrame({"check": [], "as_written": [], "as_derived": []})}
    tol = {"optimum_abs": 1e-3, "inner_relative_error": 0.3, "gradient_abs": 1e-4, "value_abs": 1e-3, "mc_z": 4,
           "gradient_cosine": 0.999, "bias_z": 4, "hinge_region_agreement": 0.9, "non_saturating_slope": 0.5}
    evidence = claims.Evidence(tables, tol)
    claims.plugin_claims(evidence)
    return pd.DataFrame(evidence.rows)


def test_a_plugins_right_optimum_is_supported_and_a_wrong_one_refuted_with_its_gap(tmp_path):
    """The claimed s* = 2 (1 - p/q) holds (dense search within the grid step, learned s within 0.3, envelope
    identity exact); the same loss claiming s* = 2 (1 - q/p) is refuted on both, and the table goes on."""
    plugins.load([plugin(tmp_path, name="right", file="right.py"),
                  plugin(tmp_path, name="wrong", file="wrong.py", optimum=RIGHT.replace("p / q", "q / p"))])
    judged = theory_claims(["right", "wrong"])
    right, wrong = (judged[judged["claim"].str.startswith(name)].reset_index() for name in ("right", "wrong"))
    assert right["verdict"].tolist() == ["supported", "supported"]
    assert wrong["verdict"].tolist() == ["refuted", "refuted"]
    # the gap: at p = 0.3, q = 7 (the check's lattice) the claim says 2 (1 - 7/0.3) = -44.7, the optimum 2 (1 - 0.3/7)
    gap = float(wrong.loc[0, "measured"].split("max |s* - argmin| = ")[1].split(" ")[0])
    assert gap == pytest.approx(2 * (7 / 0.3 - 0.3 / 7), rel=1e-3)
    assert "plugin energygan_plugin_wrong" in wrong.loc[0, "claim"] and math.isfinite(gap)
