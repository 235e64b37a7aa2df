import pytest
import torch

from energygan.data import datasets
from energygan.engine import architectures, precision
from energygan.engine.spec import Run, Setup
from energygan.engine.training import Trainer

SETUP = Setup(dataset="mnist32", generator="dcgan", discriminator="dcgan", z_dim=8, n_layer_g=4, size_g=4, n_layer_d=4,
              size_d=4, batch_size=4, batch_norm="both")
RUNS = [Run("a", seed=0, loss="logistic", f="softplus", lr=0.01, optim_d="sgd", optim_g="sgd"),
        Run("b", seed=1, loss="lsif", f="identity", lr=0.01, optim_d="sgd", optim_g="sgd")]


def images():
    spec = datasets.get("mnist32")
    return datasets.ImageData(torch.randint(0, 256, (64, *spec.shape), dtype=torch.uint8,
                                            generator=torch.Generator().manual_seed(0)), spec)


def weights(trainer):
    return {f"{net}.{k}": v.clone() for net in ("G", "D") for k, v in getattr(trainer, net).state_dict().items()}


AUTOENCODER = {"discriminator": "conv_autoencoder", "n_layer_d": 3}
EBGAN_PT = [Run("pt", seed=2, loss={"name": "hinge", "margin": 1.0}, f="identity", lr=0.01, optim_d="sgd",
                optim_g="sgd", pt_weight=0.1)]


@pytest.mark.parametrize("nets, runs", [({}, RUNS), (AUTOENCODER, RUNS + EBGAN_PT)])
def test_bf16_is_the_fp32_step_under_bfloat16_autocast(nets, runs):
    data, setup = images(), Setup(**{**SETUP.__dict__, **nets})
    bf16 = Trainer(Setup(**{**setup.__dict__, "precision": "bf16"}), runs, data)
    bf16.step()
    by_hand = Trainer(setup, runs, data)
    with torch.autocast("cpu", torch.bfloat16, cache_enabled=False):
        by_hand.advance()
    fp32 = Trainer(setup, runs, data)
    fp32.step()
    a, b, c = weights(bf16), weights(by_hand), weights(fp32)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a)  # bfloat16 did round something
    assert all(v.dtype == c[k].dtype for k, v in a.items())  # the weights stay fp32


def test_the_tf32_switches_are_set_inside_and_put_back_after():
    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    for name, inside in (("tf32", (True, True)), ("fp32", (False, False)), ("bf16", (False, False))):
        with precision.matmul_precision(name, "cpu"):
            assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == inside
        assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == before


def test_an_unknown_precision_is_refused_when_the_dag_is_built():
    found = architectures.problems(Setup(**{**SETUP.__dict__, "precision": "fp8"}), (1, 32, 32), False, False)
    assert found == ["unknown precision 'fp8'; known: ['fp32', 'tf32', 'bf16']"]
    with pytest.raises(ValueError, match="unknown precision 'fp8'"), precision.matmul_precision("fp8", "cpu"):
        pass
