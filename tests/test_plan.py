import math

import pandas as pd
import pytest

from energygan import plan
from energygan.training import Setup


def mlp_products(widths):
    """Multiply-adds per sample of an MLP with these layer widths."""
    return sum(a * b for a, b in zip(widths, widths[1:]))


def hand_count(z, g_hidden, n_g, out, d_hidden, n_d, batch):
    """FLOPs (2 per multiply-add) of one engine step of one MLP GAN, written out layer by layer: the D step
    (G forward; D forward, weight and input gradients on real and fake, no input gradient into the data)
    and the G step (G and D forward, D input gradients down to G's output, G weight and input gradients,
    none into the noise; D's weight gradients are not taken)."""
    g, d = [z] + [g_hidden] * (n_g - 1) + [out], [out] + [d_hidden] * (n_d - 1) + [1]
    mg, md = mlp_products(g), mlp_products(d)
    d_step = mg * batch + md * 2 * batch + md * 2 * batch + (md - d[0] * d[1]) * 2 * batch
    g_step = mg * batch + md * batch + md * batch + mg * batch + (mg - g[0] * g[1]) * batch
    return 2 * (d_step + g_step)


@pytest.mark.parametrize("dataset, out, z, g_hidden, n_g, d_hidden, n_d, batch", [
    ("ring8", 2, 2, 4, 2, 4, 2, 8),
    ("mnist", 784, 32, 256, 3, 128, 3, 64),
])
def test_a_step_costs_the_flops_counted_by_hand(dataset, out, z, g_hidden, n_g, d_hidden, n_d, batch):
    setup = Setup(dataset=dataset, z_dim=z, n_layer_g=n_g, size_g=g_hidden, n_layer_d=n_d, size_d=d_hidden,
                  batch_size=batch)
    cost = plan.step_cost(setup)
    assert cost["flops"] == hand_count(z, g_hidden, n_g, out, d_hidden, n_d, batch)
    g, d = [z] + [g_hidden] * (n_g - 1) + [out], [out] + [d_hidden] * (n_d - 1) + [1]
    assert cost["params"] == mlp_products(g) + sum(g[1:]) + mlp_products(d) + sum(d[1:])  # weights and biases
    # the activations kept for backward: above nothing, and below what the step's forward passes make (G
    # once per step with grad, D on real, fake and generated batches; pre- and post-activation, fp32)
    activations = cost["bytes"] - cost["params"] * plan.ADAM_BYTES_PER_PARAMETER
    assert 0 < activations <= 4 * 2 * batch * (2 * sum(g) + 3 * sum(d))
    # reusing the D step's fake batch in the G step saves exactly one generator forward pass
    reused = plan.step_cost(Setup(**{**setup.__dict__, "reuse_fake": True}))
    assert cost["flops"] - reused["flops"] == 2 * mlp_products(g) * batch


def calibration(device_name="gpu", memory_gb=80.0):
    return pd.DataFrame({"device": "cuda", "device_name": device_name, "memory_gb": memory_gb, "arch": ["small", "big"],
                         "K": [8, 32], "flops_per_run_step": [1e6, 1e9], "run_steps_per_s": [1000.0, 100.0]})


def test_a_batch_takes_its_flops_at_the_rate_of_the_nearest_measured_point():
    batches = pd.DataFrame({"runs": [8, 30, 1], "steps": [100, 1000, 10], "flops_per_run_step": [2e6, 1e9, 1e6]})
    # nearest points: small (rate 1e9 FLOP/s), big (1e11), small
    expected = [100 * 8 * 2e6 / 1e9, 1000 * 30 * 1e9 / 1e11, 10 * 1 * 1e6 / 1e9]
    assert plan.seconds(batches, calibration()).tolist() == pytest.approx(expected)


def test_the_plan_sums_experiments_and_says_what_will_not_fit(monkeypatch):
    costs = {2: {"params": 10, "flops": 1e9, "bytes": 3e9}, 4: {"params": 20, "flops": 1e6, "bytes": 1e6}}
    monkeypatch.setattr(plan, "step_cost", lambda setup: costs[setup.z_dim])
    experiment = {"dataset": "ring8", "setup": {"n_layer_g": 2, "size_g": 4, "n_layer_d": 2, "size_d": 4, "steps": 1000},
                  "grid": {"seed": list(range(40))}}
    config = {"train": {"shard_size": 32, "checkpoint_every": 100},
              "experiments": {"big": {**experiment, "setup": {**experiment["setup"], "z_dim": 2}},
                              "small": {**experiment, "setup": {**experiment["setup"], "z_dim": 4}}}}
    table, problems = plan.plan(config, calibration(memory_gb=80.0))
    assert table.loc["big", "runs"] == 40 and table.loc["big", "shards"] == 2
    assert table.loc["total", "runs"] == 80
    assert table.loc["big", "pflops"] == pytest.approx(40 * 1000 * 1e9 / 1e15)
    # big: batches of 32 and 8 runs at 1e9 FLOPs (nearest: "big", 1e11 FLOP/s); small: "small", 1e9 FLOP/s
    hours = (1000 * 40 * 1e9 / 1e11 + 1000 * 40 * 1e6 / 1e9) / 3600
    assert table.loc["total", "hours on gpu"] == pytest.approx(hours)
    assert table.loc["big", "largest_shard_gb"] == pytest.approx(32 * 3.0)
    assert problems == ["1 batches need more than gpu's 80 GB (largest 96.0 GB, in big_0000): lower train.shard_size"]
    assert math.isclose(table.loc["total", "largest_shard_gb"], 96.0)


def test_the_plan_command_prints_every_experiment_of_the_merged_config(tmp_path, monkeypatch, capsys):
    from energygan import cli
    from tests.conftest import REPO
    monkeypatch.chdir(REPO)
    overlay = tmp_path / "steps.yaml"
    overlay.write_text("experiments:\n  ring8_loss_f:\n    setup: {steps: 6000}\n")
    cli.main(["plan", "--configfile", str(overlay)])
    printed = capsys.readouterr().out
    lines = {line.split()[0]: line.split() for line in printed.splitlines() if line.strip()}
    config = plan.load_config([])
    assert set(config["experiments"]) | {"total"} <= set(lines)
    assert lines["ring8_loss_f"][5] == "6000" and lines["grid25_loss_f"][5] == "3000"  # the overlay, merged
    assert "hours on cpu" in printed and "no GPU measured" in printed
