import yaml

from energygan.study import experiments, paths

from tests.conftest import REPO


def test_the_shards_place_their_files_where_the_results_tree_says():
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    shard = experiments.shards(config)[0]
    run = shard.runs[0]
    assert shard.run_dir(run) == f"results/{shard.experiment}/runs/{run.run_id}"
    assert shard.trained == f"results/{shard.experiment}/shards/0000/trained.json"
    assert shard.scored == f"results/{shard.experiment}/shards/0000/scored.json"
    assert experiments.job_params(shard, config["train"])["batches"][0]["checkpoint"] == \
        f"results/{shard.experiment}/checkpoints/{shard.name}_0.pt"


def test_an_experiment_gets_a_heatmap_only_with_loss_and_f_in_its_grid_and_samples_or_densities_by_dataset():
    assert (paths.figure_kinds({"dataset": "mnist", "grid": {"loss": [], "f": []}})
            == ["points", "curves", "heatmap", "samples"])
    assert paths.figure_kinds({"dataset": "ring8", "grid": {"seed": []}}) == ["points", "curves", "density"]
    assert paths.experiment_figure("e", "curves") == "results/summary/e_curves.png"
