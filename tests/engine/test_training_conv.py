"""The engine on convolutional runs: one step against torch.nn layers and torch.optim, batched = alone,
resumed = uninterrupted, and saved runs rebuilt from the architecture registry."""

import pytest
import torch
import torch.nn.functional as F

from energygan import files, rng
from energygan.data import datasets
from energygan.engine import models, stack
from energygan.engine.spec import Run, Setup
from energygan.engine.training import Trainer
from energygan.study import runfolder

from tests.engine.test_training import FF, Killed, final_weights, name


def conv_setup(discriminator, **changes):
    return Setup(**{"dataset": "mnist32", "generator": "dcgan", "discriminator": discriminator, "z_dim": 8,
                    "n_layer_g": 4, "size_g": 4, "n_layer_d": 4 if discriminator == "dcgan" else 3, "size_d": 4,
                    "batch_size": 6, "steps": 1, "batch_norm": "both", "checkpoint_every": 5, "log_every": 1,
                    **changes})


def conv_data():
    images = torch.randint(0, 256, (40, 1, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    return datasets.ImageData(images, datasets.get("mnist32"))


# SGD: with Adam, a weight whose gradient is within rounding of 0 steps by +-lr with a sign set by the
# rounding, and grouped and single convolutions round differently (measured: 5e-2 apart after 8 steps at
# lr 5e-3, 2e-7 with SGD); Adam itself is checked against torch.optim above
CONV_RUNS = [Run("a", seed=1, loss="logistic", f="softplus", lr=0.01, optim_d="sgd", optim_g="sgd"),
             Run("b", seed=2, loss={"name": "hinge", "margin": 2.0}, f="identity", lr=0.005, optim_d="sgd",
                 optim_g="sgd", pt_weight=0.1),
             Run("c", seed=3, loss="least_squares", f="softminus", lr=0.008, optim_d="sgd", optim_g="sgd")]


def conv_runs(discriminator):
    """CONV_RUNS, without the pull-away term where D has no code."""
    return [r if discriminator == "conv_autoencoder" else Run(**{**r.__dict__, "pt_weight": 0.0}) for r in CONV_RUNS]


@pytest.mark.parametrize("discriminator", ["dcgan", "conv_autoencoder"])
def test_one_conv_step_matches_torch_layers_and_torch_optim(discriminator):
    """Each run against torch.nn layers holding its weights (see tests.test_convnets.plain), stepped by
    torch.optim, with the engine's data, noise and tanh output."""
    from tests.engine.test_convnets import LEAKY, RELU, plain
    setup = conv_setup(discriminator)
    runs = conv_runs(discriminator)
    data = conv_data()
    trainer = Trainer(setup, runs, data)
    g_ref = [plain(trainer.G.net, k, RELU) for k in range(len(runs))]
    if discriminator == "dcgan":
        d_ref = [plain(trainer.D.net, k, LEAKY) for k in range(len(runs))]
    else:
        d_ref = [(plain(trainer.D.encoder, k, LEAKY, last_activation=True), plain(trainer.D.decoder, k, RELU),
                  torch.nn.Parameter(trainer.D.offset[k].detach().clone())) for k in range(len(runs))]
    trainer.step()
    b = setup.batch_size
    for k, run in enumerate(runs):
        key, positive = torch.tensor([run.seed]), name(run.loss) == "hinge"
        g = g_ref[k]

        def s(x, k=k, positive=positive):
            if discriminator == "dcgan":
                raw = d_ref[k](x).reshape(b)
                return (raw * raw if positive else raw), None  # the hinge's s >= 0: u^2 (nonnegative_s)
            encoder, decoder, offset = d_ref[k]
            code = encoder(x)
            energy = ((decoder(code) - x) ** 2).mean((1, 2, 3))
            return (energy if positive else energy - offset), code.flatten(1)
        d_params = list(d_ref[k].parameters()) if discriminator == "dcgan" else \
            [*d_ref[k][0].parameters(), *d_ref[k][1].parameters(), d_ref[k][2]]
        optimiser = {"adam": lambda p, run=run: torch.optim.Adam(p, run.lr, betas=setup.adam_betas),
                     "sgd": lambda p, run=run: torch.optim.SGD(p, run.lr)}
        opt_d, opt_g = optimiser[run.optim_d](d_params), optimiser[run.optim_g](list(g.parameters()))
        x_real = data.sample(key, 0, b)[0]
        with torch.no_grad():
            x_fake = torch.tanh(g(rng.normal(key, rng.Z_D, 0, (b, 8))[0][..., None, None]))
        margin = 2.0 if positive else None
        l1 = {"logistic": F.softplus, "hinge": lambda v: v, "least_squares": lambda v: v * v}[name(run.loss)]
        l2 = {"logistic": lambda v: F.softplus(-v),
              "hinge": lambda v, margin=margin: torch.clamp(margin - v, min=0) if margin else v,
              "least_squares": lambda v: (v - 1) ** 2}[name(run.loss)]
        d_loss = l1(s(x_real)[0]).mean() + l2(s(x_fake)[0]).mean()
        d_loss.backward()
        opt_d.step()
        s_gen, code = s(torch.tanh(g(rng.normal(key, rng.Z_G, 0, (b, 8))[0][..., None, None])))
        g_loss = FF[name(run.f)](s_gen).mean()
        if run.pt_weight:
            unit = code / code.norm(dim=1, keepdim=True)
            cosine2 = (unit @ unit.T) ** 2
            g_loss = g_loss + run.pt_weight * (cosine2.sum() - cosine2.diagonal().sum()) / (b * (b - 1))
        g_loss.backward()
        opt_g.step()
        pairs = [("G", trainer.G.net, g)] + ([("D", trainer.D.net, d_ref[k])] if discriminator == "dcgan" else
                                            [("encoder", trainer.D.encoder, d_ref[k][0]),
                                             ("decoder", trainer.D.decoder, d_ref[k][1])])
        for stacked_name, stacked, ref in pairs:
            convs = [m for m in ref if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
            norms = [m for m in ref if isinstance(m, torch.nn.BatchNorm2d)]
            where = f"{stacked_name} run {run.run_id}"
            for layer, conv in zip(stacked.layers, convs, strict=True):
                torch.testing.assert_close(layer.weight[k], conv.weight, atol=1e-6, rtol=1e-4,
                                           msg=lambda m, where=where: f"{where}: {m}")
            for norm, bn in zip(stacked.norms.values(), norms, strict=True):
                for field_name in ("weight", "bias", "running_mean", "running_var"):
                    torch.testing.assert_close(getattr(norm, field_name)[k], getattr(bn, field_name),
                                               atol=1e-6, rtol=1e-4, msg=f"{stacked_name} {field_name}")
        if discriminator == "conv_autoencoder":
            torch.testing.assert_close(trainer.D.offset[k], d_ref[k][2].detach()[()], atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("discriminator", ["dcgan", "conv_autoencoder"])
def test_conv_batched_equals_alone(discriminator):
    """4 steps: measured, batched and alone agree to 4e-7 there; after that run c's least-squares DCGAN
    amplifies the rounding (1e-2 apart by step 8)."""
    setup = conv_setup(discriminator, steps=4)
    runs = conv_runs(discriminator)
    together = Trainer(setup, runs, conv_data())
    together.fit()
    for k, run in enumerate(runs):
        alone = Trainer(setup, [run], conv_data())
        alone.fit()
        for p_batch, p_alone in zip(final_weights(together), final_weights(alone)):
            torch.testing.assert_close(p_batch[k], p_alone[0], atol=1e-5, rtol=1e-4)
        assert together.progress.status[k] == alone.progress.status[0] == "ok"


def test_conv_resumed_equals_uninterrupted(tmp_path):
    setup = conv_setup("conv_autoencoder", steps=10)
    full = Trainer(setup, CONV_RUNS, conv_data())
    full.fit()

    def kill_after_7(trainer):
        if trainer.progress.step == 7:
            raise Killed
    with pytest.raises(Killed):
        Trainer(setup, CONV_RUNS, conv_data()).fit(tmp_path / "shard.pt", on_step=kill_after_7)
    resumed = Trainer(setup, CONV_RUNS, conv_data())
    resumed.fit(tmp_path / "shard.pt")
    for net in ("G", "D"):
        for (key, a), b in zip(getattr(full, net).state_dict().items(), getattr(resumed, net).state_dict().values()):
            assert torch.equal(a, b), (net, key)


@pytest.mark.parametrize("discriminator", ["dcgan", "conv_autoencoder"])
def test_a_saved_conv_run_is_rebuilt_from_the_architecture_registry(tmp_path, discriminator):
    setup = conv_setup(discriminator, steps=3)
    runs = conv_runs(discriminator)
    trainer = Trainer(setup, runs, conv_data())
    trainer.fit()
    x = conv_data().sample(torch.tensor([5]), 0, 6)[0]
    for k, run in enumerate(runs):
        files.save_tensors(trainer.generator_state(k), tmp_path / "g.pt")
        files.save_tensors(trainer.discriminator_state(k), tmp_path / "d.pt")
        z = rng.normal(torch.tensor([run.seed]), rng.Z_FIXED, 0, (stack.FIXED_SAMPLES, 8))[0]
        torch.testing.assert_close(runfolder.load_generator(tmp_path / "g.pt")(z), trainer.fixed_samples()[k],
                                   atol=1e-6, rtol=1e-5)
        trainer.D.eval()
        with torch.no_grad():
            expected = models.stacked_discrepancy(trainer.D, x.expand(len(runs), *x.shape),
                                                  trainer.parametrisations)[0][k]
        trainer.D.train()
        torch.testing.assert_close(runfolder.load_discriminator(tmp_path / "d.pt")(x), expected, atol=1e-6, rtol=1e-5)
