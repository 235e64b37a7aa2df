import itertools
import math

import pandas as pd
import pytest

from energygan import files
from energygan.engine.spec import Setup
from energygan.study import experiments, plan


def mlp_products(widths):
    """Multiply-adds per sample of an MLP with these layer widths."""
    return sum(a * b for a, b in itertools.pairwise(widths))


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
                         "K": [8, 32], "concurrent": 1, "flops_per_run_step": [1e6, 1e9],
                         "run_steps_per_s": [1000.0, 100.0]})


def test_a_batch_takes_its_flops_at_the_rate_of_the_nearest_measured_point():
    batches = pd.DataFrame({"runs": [8, 30, 1, 4], "in_flight": [8, 30, 1, 32], "steps": [100, 1000, 10, 50],
                            "flops_per_run_step": [2e6, 1e9, 1e6, 1e6]})
    # a point measured with 8 batches of 4 runs side by side: 32 runs in flight, 4e9 FLOP/s
    table = pd.concat([calibration(), pd.DataFrame({"device": "cuda", "device_name": "gpu", "memory_gb": 80.0,
                                                    "arch": ["side"], "K": [4], "concurrent": [8],
                                                    "flops_per_run_step": [1e6], "run_steps_per_s": [4000.0]})],
                      ignore_index=True)
    # nearest points: small (rate 1e9 FLOP/s), big (1e11), small, side
    expected = [100 * 8 * 2e6 / 1e9, 1000 * 30 * 1e9 / 1e11, 10 * 1 * 1e6 / 1e9, 50 * 4 * 1e6 / 4e9]
    assert plan.seconds(batches, table).tolist() == pytest.approx(expected)


def test_a_calibration_table_from_before_side_by_side_batches_reads_as_one_at_a_time(tmp_path):
    path = tmp_path / "calibration.csv"
    calibration().drop(columns="concurrent").to_csv(path, index=False)
    assert plan.read_calibration(path)["concurrent"].tolist() == [1, 1]


def test_a_shard_holds_its_concurrent_batches_at_once(monkeypatch):
    """Three 2-run batches of 2, 4 and 6 GB in one shard: side by side, the shard holds its largest ones
    together, and each batch's rate is looked up at the runs in flight."""
    monkeypatch.setattr(plan, "step_cost", lambda setup: {"params": 10, "flops": 1e6, "bytes": setup.size_g * 1e9})
    experiment = {"dataset": "ring8", "setup": {"n_layer_g": 2, "n_layer_d": 2, "size_d": 4, "steps": 100},
                  "grid": {"size_g": [1, 2, 3], "seed": [0, 1]}}
    for concurrent, gb, in_flight in [(1, 6, 2), (2, 10, 4), (3, 12, 6), (5, 12, 6)]:
        config = {"train": {"shard_size": 32, "checkpoint_every": 100, "concurrent_batches": concurrent},
                  "experiments": {"e": experiment}}
        batches = plan.shard_table(config)
        assert batches["shard"].nunique() == 1 and batches["runs"].tolist() == [2, 2, 2]
        assert batches["in_flight"].tolist() == [in_flight] * 3
        assert batches["shard_memory_gb"].tolist() == pytest.approx([gb] * 3)


def test_the_plan_sums_experiments_and_says_what_will_not_fit(monkeypatch):
    costs = {2: {"params": 10, "flops": 1e9, "bytes": 3e9}, 4: {"params": 20, "flops": 1e6, "bytes": 1e6}}
    monkeypatch.setattr(plan, "step_cost", lambda setup: costs[setup.z_dim])
    experiment = {"dataset": "ring8",
                  "setup": {"n_layer_g": 2, "size_g": 4, "n_layer_d": 2, "size_d": 4, "steps": 1000},
                  "grid": {"seed": list(range(40))}}
    config = {"train": {"shard_size": 32, "checkpoint_every": 100, "concurrent_batches": 1},
              "experiments": {"big": {**experiment, "setup": {**experiment["setup"], "z_dim": 2}},
                              "small": {**experiment, "setup": {**experiment["setup"], "z_dim": 4}}}}
    table, problems, _ = plan.plan(config, calibration(memory_gb=80.0))
    assert table.loc["big", "runs"] == 40 and table.loc["big", "shards"] == 2
    assert table.loc["total", "runs"] == 80
    assert table.loc["big", "pflops"] == pytest.approx(40 * 1000 * 1e9 / 1e15)
    # big: batches of 32 and 8 runs at 1e9 FLOPs (nearest: "big", 1e11 FLOP/s); small: "small", 1e9 FLOP/s
    hours = (1000 * 40 * 1e9 / 1e11 + 1000 * 40 * 1e6 / 1e9) / 3600
    assert table.loc["total", "hours on gpu"] == pytest.approx(hours)
    assert table.loc["big", "largest_shard_gb"] == pytest.approx(32 * 3.0)
    assert problems == [("1 shards need more than gpu's 80 GB (largest 96.0 GB, in big_0000): lower train.shard_size "
                         "or train.concurrent_batches")]
    assert math.isclose(table.loc["total", "largest_shard_gb"], 96.0)


def test_the_shards_trained_so_far_are_set_against_their_jobs_records(monkeypatch, tmp_path):
    """Only shards with a record count: their recorded hours beside the plan's for those shards alone."""
    monkeypatch.setattr(plan, "step_cost", lambda setup: {"params": 10, "flops": 1e9, "bytes": 1e6})
    monkeypatch.chdir(tmp_path)
    config = {"train": {"shard_size": 32, "checkpoint_every": 100, "concurrent_batches": 1},
              "experiments": {"e": {"dataset": "ring8", "setup": {"n_layer_g": 2, "n_layer_d": 2, "steps": 1000},
                                    "grid": {"seed": list(range(40))}},
                              "untrained": {"dataset": "ring8", "setup": {"steps": 10}, "grid": {"seed": [0]}}}}
    _, _, batches = plan.plan(config, calibration())
    assert plan.against_records(batches).empty
    first, second = (s for s in experiments.shards(config) if s.experiment == "e")
    for shard, wall, resumed_at in ((first, 1800.0, 0), (second, 5400.0, 300)):
        files.write_json({"wall_time_s": wall, "device": "cuda", "batches": [{"resumed_at": resumed_at}]},
                         shard.trained)
    assert not any(path.name == "trained.json" for path in (tmp_path / "results/untrained").rglob("*"))
    table = plan.against_records(batches)
    assert list(table.index) == ["e"] and table.loc["e", "shards"] == 2 and table.loc["e", "resumed"] == 1
    assert table.loc["e", "hours_recorded"] == pytest.approx(2.0) and table.loc["e", "devices"] == "cuda"
    # 32 and 8 runs x 1000 steps x 1e9 FLOPs, at the "big" point's 1e11 FLOP/s
    assert table.loc["e", "hours on gpu"] == pytest.approx(40 * 1000 * 1e9 / 1e11 / 3600)
    (tmp_path / second.trained).unlink()
    assert plan.against_records(batches).loc["e", "hours on gpu"] == pytest.approx(32 * 1000 * 1e9 / 1e11 / 3600)


def test_the_plan_command_prints_every_experiment_of_the_merged_config(tmp_path, monkeypatch, capsys):
    from energygan import cli

    from tests.conftest import REPO
    monkeypatch.chdir(REPO)
    overlay = tmp_path / "steps.yaml"
    overlay.write_text("experiments:\n  ring8_loss_f:\n    setup: {steps: 6000}\n")
    cli.main(["plan", "--configfile", str(overlay)])
    printed = capsys.readouterr().out
    plan_table = printed.split("(hours:")[0]  # after it, the shards a study in this folder has trained, if any
    lines = {line.split()[0]: line.split() for line in plan_table.splitlines() if line.strip()}
    config = plan.load_config([])
    assert set(config["experiments"]) | {"total"} <= set(lines)
    assert lines["ring8_loss_f"][5] == "6000" and lines["gan_grid"][5] == "5000"  # the overlay, merged
    gpus = plan.read_calibration(plan.CALIBRATION).query("device == 'cuda'")["device_name"].unique()
    assert len(gpus) and "hours on cpu" in printed and "no GPU measured" not in printed
    assert all(f"hours on {name}" in printed for name in gpus)
    cpu_only = tmp_path / "cpu_only.csv"
    plan.read_calibration(plan.CALIBRATION).query("device == 'cpu'").to_csv(cpu_only, index=False)
    cli.main(["plan", "--calibration", str(cpu_only)])
    printed = capsys.readouterr().out
    assert "hours on cpu" in printed and "hours on NVIDIA" not in printed and "no GPU measured" in printed


def test_a_jobs_cluster_resources_come_from_the_plan_on_its_kind_of_device(monkeypatch, tmp_path):
    """Runtime: the slowest calibrated device of the job's kind, doubled, plus the start-up minutes; memory:
    the host's share, plus the nets where they train on the CPU; no runtime where that kind is unmeasured."""
    monkeypatch.setattr(plan, "step_cost", lambda setup: {"params": 10, "flops": 1e9, "bytes": 0.5e9})
    experiment = {"dataset": "ring8",
                  "setup": {"n_layer_g": 2, "size_g": 4, "n_layer_d": 2, "size_d": 4, "steps": 3000},
                  "grid": {"seed": list(range(8))}}
    (shard,) = experiments.shards({"train": {"shard_size": 32, "checkpoint_every": 100},
                                        "experiments": {"e": experiment}})
    table = pd.concat([calibration("gpu a"), calibration("gpu b").assign(run_steps_per_s=[500.0, 50.0]),
                       calibration("cpu").assign(device="cpu", memory_gb=0.0, run_steps_per_s=[10.0, 1.0])])
    path = tmp_path / "calibration.csv"
    table.to_csv(path, index=False)
    # 8 runs x 3000 steps x 1e9 FLOPs; nearest point "big" (1e9 FLOPs, K 32): 50 run-steps/s (gpu b), 1 (cpu)
    gpu_seconds, cpu_seconds = 8 * 3000 * 1e9 / (1e9 * 50), 8 * 3000 * 1e9 / (1e9 * 1)
    on_gpu = plan.job_resources(shard, {"device": "auto", "concurrent_batches": 1}, path)
    assert on_gpu == {"mem_mb": plan.HOST_MB, "runtime": math.ceil(2 * gpu_seconds / 60) + plan.START_MINUTES}
    on_cpu = plan.job_resources(shard, {"device": "cpu", "concurrent_batches": 1}, path)
    assert on_cpu == {"mem_mb": plan.HOST_MB + 8 * 500, "runtime": math.ceil(2 * cpu_seconds / 60) + plan.START_MINUTES}
    table[table["device"] == "cpu"].to_csv(path, index=False)
    assert plan.job_resources(shard, {"device": "cuda", "concurrent_batches": 1}, path) == {"mem_mb": plan.HOST_MB}
    assert not plan.calibrated("cuda", path) and plan.calibrated("cpu", path)
