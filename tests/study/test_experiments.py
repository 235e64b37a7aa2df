import collections
import itertools

import pytest
import yaml

from energygan.study import experiments

from tests.conftest import REPO

GRID = {"n_layer_g": [2, 3, 4, 5], "size_g": [8, 16, 32], "dropout_d": [True, False], "lr": [0.01, 0.001, 0.0001],
        "optim_d": ["adam", "sgd"]}


def experiment(sample=None, grid=GRID):
    return {"dataset": "ring8", "grid": grid, "run": {"seed": 0}, **({"sample": sample} if sample else {})}


def ids(exp):
    return [run.run_id for _, run in experiments.expand("e", exp, 10)]


@pytest.mark.parametrize("points", [1, 5, 7, 24, 95, 144])
def test_stratified_sample_is_balanced_distinct_and_seeded(points):
    sizes = [4, 3, 2, 3, 2]
    sample = experiments.stratified_sample(sizes, points, seed=3)
    assert len(set(sample)) == points == len(sample)
    assert all(0 <= i < m for point in sample for i, m in zip(point, sizes))
    for axis, m in enumerate(sizes):
        counts = collections.Counter(point[axis] for point in sample)
        # every value floor(points / m) or ceil(points / m) times
        assert {counts.get(v, 0) for v in range(m)} <= {points // m, -(-points // m)}
    assert sample == sorted(sample)
    assert experiments.stratified_sample(sizes, points, seed=3) == sample
    if 1 < points < 144:
        assert experiments.stratified_sample(sizes, points, seed=4) != sample


def test_sample_is_a_subset_of_the_full_grid_with_the_same_run_ids():
    full = ids(experiment())
    assert len(full) == 4 * 3 * 2 * 3 * 2
    sampled = ids(experiment({"runs": 20, "seed": 0}))
    assert len(sampled) == 20 and set(sampled) <= set(full)
    assert sampled == [i for i in full if i in set(sampled)]  # grid order kept
    assert ids(experiment({"runs": 144, "seed": 5})) == full   # the whole grid is a sample of itself


def test_crossed_axes_are_run_in_every_combination_for_each_sampled_point():
    pairs = experiments.expand("e", experiment({"runs": 36, "seed": 1, "cross": ["lr", "optim_d"]}), 10)
    assert len(pairs) == 36
    by_point = collections.defaultdict(set)
    for setup, run in pairs:
        point = (setup.n_layer_g, setup.size_g, run.dropout_d)
        by_point[point].add((run.lr, run.optim_d))
    assert len(by_point) == 6
    assert all(combos == set(itertools.product(GRID["lr"], GRID["optim_d"])) for combos in by_point.values())
    # the sampled axes stay balanced over the 6 points: size_g's 3 values twice each
    assert collections.Counter(p[1] for p in by_point) == {8: 2, 16: 2, 32: 2}


def test_sample_errors_name_the_experiment_and_the_fix():
    with pytest.raises(ValueError, match=r"experiment e: sample.runs = 10 is not a multiple of 6"):
        experiments.expand("e", experiment({"runs": 10, "seed": 0, "cross": ["lr", "optim_d"]}), 10)
    with pytest.raises(ValueError, match=r"sample.cross names \['seed'\], which are not grid axes"):
        experiments.expand("e", experiment({"runs": 10, "seed": 0, "cross": ["seed"]}), 10)
    with pytest.raises(ValueError, match="cannot sample 145 distinct points from a grid of 144"):
        experiments.expand("e", experiment({"runs": 145, "seed": 0}), 10)


def test_an_entropy_term_needs_a_non_negative_weight_and_a_batch_with_a_nearest_neighbour():
    base = {"dataset": "ring8", "setup": {"batch_size": 1}, "run": {"seed": 0}, "grid": {"entropy_weight": [0.0, 0.1]}}
    with pytest.raises(ValueError, match=r"run entropy_weight=0.1: entropy_weight must be >= 0 and needs "
                                         r"batch_size > entropy_k >= 1"):
        experiments.expand("e", base, 10)
    with pytest.raises(ValueError, match=r"got -0.1 with batch_size 8"):
        experiments.expand("e", {**base, "setup": {"batch_size": 8}, "grid": {"entropy_weight": [-0.1]}}, 10)
    assert len(experiments.expand("e", {**base, "setup": {"batch_size": 8}}, 10)) == 2
    with pytest.raises(ValueError, match=r"got 0.1 with batch_size 8 and entropy_k 8"):  # 8 neighbours need 9 samples
        experiments.expand("e", {**base, "setup": {"batch_size": 8, "entropy_k": 8}}, 10)


def test_a_joined_axis_sets_several_fields_together():
    grid = {"discriminator": ["mlp", "autoencoder"], "loss+f": [["logistic", "softplus"],
                                                              [{"name": "hinge", "margin": 10}, "identity"]]}
    pairs = experiments.expand("e", experiment(grid=grid), 10)
    assert [(s.discriminator, r.loss, r.f) for s, r in pairs] == [
        ("mlp", "logistic", "softplus"), ("mlp", {"name": "hinge", "margin": 10}, "identity"),
        ("autoencoder", "logistic", "softplus"), ("autoencoder", {"name": "hinge", "margin": 10}, "identity")]
    assert pairs[1][1].run_id == "discriminator=mlp__loss=hinge_margin10__f=identity"
    with pytest.raises(ValueError, match=r"grid axis 'loss\+f' must list 2 values"):
        experiments.expand("e", experiment(grid={"loss+f": [["logistic"]]}), 10)


def test_small_batches_are_packed_into_shards_of_at_most_shard_size_runs():
    grid = {"n_layer_g": [2, 3, 4, 5], "size_g": [8, 16, 32], "lr": [0.01, 0.001, 0.0001]}
    config = {"train": {"shard_size": 7, "checkpoint_every": 10},
              "experiments": {"e": experiment({"runs": 24, "seed": 0, "cross": ["lr"]}, grid),
                              "f": experiment(grid={"seed": list(range(12))})}}
    shards = experiments.shards(config)
    e_shards = [s for s in shards if s.experiment == "e"]
    assert sorted(r.run_id for s in e_shards for r in s.runs) == sorted(ids(config["experiments"]["e"]))
    # 8 architectures, one batch of 3 runs (the 3 lr) each, two batches per shard
    assert [[len(b.runs) for b in s.batches] for s in e_shards] == [[3, 3]] * 4
    assert all({r.lr for r in b.runs} == set(grid["lr"]) for s in e_shards for b in s.batches)
    assert len({(b.setup.n_layer_g, b.setup.size_g) for s in e_shards for b in s.batches}) == 8
    # one setup: cut into batches of at most 7 runs
    assert [[len(b.runs) for b in s.batches] for s in shards if s.experiment == "f"] == [[7], [5]]
    params = experiments.job_params(e_shards[0], {"device": "cpu", "concurrent_batches": 2})
    assert (params["device"], params["concurrent"]) == ("cpu", 2)
    assert [b["checkpoint"] for b in params["batches"]] == ["results/e/checkpoints/e_0000_0.pt",
                                                            "results/e/checkpoints/e_0000_1.pt"]


def test_a_shard_outputs_each_runs_snapshots_at_the_declared_fractions():
    config = {"train": {"shard_size": 4, "checkpoint_every": 10},
              "experiments": {"e": {"dataset": "ring8", "setup": {"steps": 30, "snapshots": [0.25, 0.5, 0.5]},
                                    "grid": {"seed": [0, 1]}}}}
    (shard,) = experiments.shards(config)
    assert shard.batches[0].setup.snapshot_steps == [8, 15]  # round(7.5) = 8, duplicates once
    snapshots = sorted(f for f in shard.run_outputs() if "/snapshots/" in f)
    assert snapshots == sorted(f"results/e/runs/seed={seed}/snapshots/step_{step:06d}/{name}" for seed in (0, 1)
                               for step in (8, 15) for name in ("generator.pt", "discriminator.pt"))
    # the jobs' records, what the jobs after them ask for; each run's files once each
    assert shard.trained == "results/e/shards/0000/trained.json" and shard.scored == "results/e/shards/0000/scored.json"
    assert len(shard.run_outputs()) == len(set(shard.run_outputs())) == 2 * (5 + 4)
    assert shard.run_files("metrics.json") == ["results/e/runs/seed=0/metrics.json",
                                               "results/e/runs/seed=1/metrics.json"]


def test_paper_config_declares_the_full_grid_and_its_slice():
    paper = yaml.safe_load((REPO / "config/paper.yaml").read_text())["experiments"]
    assert experiments.grid_size(paper["gan_grid"]) == 6144 and paper["gan_grid"]["sample"]["runs"] == 6144
    assert experiments.grid_size(paper["ebgan_grid"]) == 1024 and paper["ebgan_grid"]["sample"]["runs"] == 1024
    sliced = yaml.safe_load((REPO / "config/paper_slice.yaml").read_text())["experiments"]
    for name in ("gan_grid", "ebgan_grid"):
        runs = experiments.expand(name, {**paper[name], "sample": sliced[name]["sample"]}, 10)
        assert len(runs) == sliced[name]["sample"]["runs"]
