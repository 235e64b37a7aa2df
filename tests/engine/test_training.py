import itertools
import json
import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import yaml

from energygan import rng
from energygan.data import datasets
from energygan.engine import checkpoints, optimizers, stack
from energygan.engine.spec import Run, Setup
from energygan.engine.training import Trainer
from energygan.study import experiments, runfolder, training_job

from tests.conftest import REPO

TINY = Setup(dataset="ring8", z_dim=2, n_layer_g=2, size_g=3, n_layer_d=2, size_d=3, batch_size=4, steps=1,
             checkpoint_every=10, log_every=1)
LOSSES = ["logistic", "lsif", {"name": "hinge", "margin": 2.0}, "least_squares"]
FS = ["identity", "softplus", "softminus", {"name": "power", "alpha": 3.0}]

# The penalties and nonlinearities written out again, independently of the registries.
L1 = {"logistic": lambda s: torch.log1p(torch.exp(s)), "lsif": lambda s: s * s, "hinge": lambda s: s,
      "least_squares": lambda s: s * s}
L2 = {"logistic": lambda s: torch.log1p(torch.exp(-s)), "lsif": lambda s: -2 * s,
      "hinge": lambda s: torch.clamp(2.0 - s, min=0), "least_squares": lambda s: (s - 1) ** 2}
FF = {"identity": lambda s: s, "softplus": lambda s: torch.log1p(torch.exp(s)),
      "softminus": lambda s: -torch.log1p(torch.exp(-s)), "power": lambda s: s ** 2}


def name(spec):
    return spec if isinstance(spec, str) else spec["name"]


def plain_mlp(weights, x, act):
    for i, (w, b) in enumerate(weights):
        x = x @ w + b
        if i < len(weights) - 1:
            x = act(x)
    return x


@pytest.mark.parametrize("reuse_fake", [False, True])
def test_one_step_of_every_loss_f_pair_matches_a_hand_computed_update(reuse_fake):
    """With reuse_fake, the G step starts from the D step's own fake batch (its noise), through the updated D."""
    runs = [Run(f"r{i}", seed=i, loss=l, f=f, lr=0.05, optim_d="sgd", optim_g="sgd")
            for i, (l, f) in enumerate((l, f) for l in LOSSES for f in FS)]
    data = datasets.load("ring8")
    trainer = Trainer(Setup(**{**TINY.__dict__, "reuse_fake": reuse_fake}), runs, data)
    g0 = [(l.weight.detach().clone(), l.bias.detach().clone()) for l in trainer.G.layers]
    d0 = [(l.weight.detach().clone(), l.bias.detach().clone()) for l in trainer.D.layers]
    trainer.step()
    for k, run in enumerate(runs):
        key = torch.tensor([run.seed])
        # s >= 0 for the hinge as u^2 (nonnegative_s), s > 0 for the power f alone as softplus(u) (positive_s)
        made = torch.square if name(run.loss) == "hinge" else F.softplus if name(run.f) == "power" else (lambda v: v)
        s = lambda x, w, made=made: made(plain_mlp(w, x, lambda v: F.leaky_relu(v, 0.2)).squeeze(-1))
        gw = [(w[k].clone().requires_grad_(), b[k].clone().requires_grad_()) for w, b in g0]
        dw = [(w[k].clone().requires_grad_(), b[k].clone().requires_grad_()) for w, b in d0]
        x_real = data.sample(key, 0, 4)[0]
        x_fake = plain_mlp(gw, rng.normal(key, rng.Z_D, 0, (4, 2))[0], torch.relu).detach()
        d_loss = L1[name(run.loss)](s(x_real, dw)).mean() + L2[name(run.loss)](s(x_fake, dw)).mean()
        grads = torch.autograd.grad(d_loss, [p for pair in dw for p in pair])
        d1 = [p.detach() - 0.05 * g for p, g in zip([p for pair in dw for p in pair], grads)]
        d1 = list(zip(d1[::2], d1[1::2]))
        z_g = rng.normal(key, rng.Z_D if reuse_fake else rng.Z_G, 0, (4, 2))[0]
        g_loss = FF[name(run.f)](s(plain_mlp(gw, z_g, torch.relu), d1)).mean()
        ggrads = torch.autograd.grad(g_loss, [p for pair in gw for p in pair])
        g1 = [p.detach() - 0.05 * g for p, g in zip([p for pair in gw for p in pair], ggrads)]
        for mine, layer in zip(zip(d1), trainer.D.layers):
            torch.testing.assert_close(layer.weight[k], mine[0][0], atol=1e-6, rtol=1e-5)
            torch.testing.assert_close(layer.bias[k], mine[0][1], atol=1e-6, rtol=1e-5)
        for i, layer in enumerate(trainer.G.layers):
            torch.testing.assert_close(layer.weight[k], g1[2 * i], atol=1e-6, rtol=1e-5)
            torch.testing.assert_close(layer.bias[k], g1[2 * i + 1], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("chunk_bytes, fused", [(2 ** 21, False), (32, False), (2 ** 21, True)])
def test_stacked_adam_and_sgd_match_torch_optim(monkeypatch, chunk_bytes, fused):
    """Also with the CPU update cut into one-run slices (chunk_bytes=32 < one run's 4x2 floats), and
    with the fused kernel that CUDA uses, here on the CPU. Run 1 sits out steps 1 and 4 (gated by its D's
    loss): it keeps its parameters, moments and step count there, and its steps are torch's three. The fused
    kernel moves a resting run's moments, so there run 1 is frozen from step 3 on (a diverged run)."""
    monkeypatch.setattr(optimizers, "CPU_CHUNK_BYTES", chunk_bytes)
    monkeypatch.setattr(optimizers, "FUSED_DEVICES", ("cpu",) if fused else ())
    monkeypatch.setattr(optimizers, "FUSED_MIN_RUN_PARAMS", 10)  # these runs have 10 parameters each
    torch.manual_seed(0)
    params = [torch.randn(3, 4, 2), torch.randn(3, 2)]
    lr = torch.tensor([1e-2, 1e-3, 5e-2])
    adam = [True, True, False]
    mine = optimizers.StackedOptimizer([p.clone() for p in params], lr, adam, (0.5, 0.999))
    assert mine.fused == fused
    monkeypatch.setattr(optimizers, "FUSED_MIN_RUN_PARAMS", 11)
    assert not optimizers.StackedOptimizer([p.clone() for p in params], lr, adam, (0.5, 0.999)).fused
    reference = []
    for k in range(3):
        ps = [p[k].clone().requires_grad_() for p in params]
        opt = (torch.optim.Adam(ps, lr=lr[k].item(), betas=(0.5, 0.999)) if adam[k] else
               torch.optim.SGD(ps, lr=lr[k].item()))
        reference.append((ps, opt))
    for step in range(5):
        grads = [torch.randn_like(p) for p in params]
        run_1_steps = step < 3 if fused else step not in (1, 4)
        mine.step(grads, torch.tensor([True, run_1_steps, True]))
        for k, (ps, opt) in enumerate(reference):
            if k == 1 and not run_1_steps:
                continue
            for p, g in zip(ps, grads):
                p.grad = g[k].clone()
            opt.step()
    for k, (ps, _) in enumerate(reference):
        for p_mine, p_ref in zip(mine.params, ps):
            torch.testing.assert_close(p_mine[k], p_ref.detach(), atol=1e-6, rtol=1e-6)


def test_fused_adam_resumes_from_its_state(monkeypatch):
    """The fused path's per-run step counts come back from a checkpoint's t: a resumed optimiser's
    next steps are those of the one that went on."""
    monkeypatch.setattr(optimizers, "FUSED_DEVICES", ("cpu",))
    monkeypatch.setattr(optimizers, "FUSED_MIN_RUN_PARAMS", 0)
    torch.manual_seed(0)
    params, lr = [torch.randn(2, 3, 2), torch.randn(2, 2)], torch.tensor([1e-2, 1e-3])
    grads = [[torch.randn_like(p) for p in params] for _ in range(5)]
    going_on = optimizers.StackedOptimizer([p.clone() for p in params], lr, [True, False], (0.5, 0.999))
    for g in grads[:3]:
        going_on.step(g, torch.tensor([True, True]))
    resumed = optimizers.StackedOptimizer([p.clone() for p in going_on.params], lr, [True, False], (0.5, 0.999))
    resumed.load_state_dict(going_on.state_dict())
    for g in grads[3:]:
        going_on.step(g, torch.tensor([True, True]))
        resumed.step(g, torch.tensor([True, True]))
    for a, b in zip(going_on.params, resumed.params):
        assert torch.equal(a, b)


def test_the_learning_rate_decays_by_its_factor_every_period_from_its_start():
    """SGD on a gradient of 1, decay (0.5, every 2 steps, from step 1): steps 0-2 move by lr, steps 3-4 by
    lr / 2, step 5 by lr / 4; a run that sits out a step does not stop the clock."""
    params = [torch.zeros(2, 1)]
    mine = optimizers.StackedOptimizer(params, torch.tensor([0.1, 0.2]), [False, False], (0.5, 0.999),
                                       decay=(0.5, 2, 1))
    moved = []
    for step in range(6):
        before = params[0].clone()
        mine.step([torch.ones(2, 1)], torch.tensor([True, step != 3]))
        moved.append((before - params[0])[:, 0].tolist())
    expected = [[0.1, 0.2], [0.1, 0.2], [0.1, 0.2], [0.05, 0.0], [0.05, 0.1], [0.025, 0.05]]
    np.testing.assert_allclose(moved, expected, rtol=1e-6, atol=0)


def test_the_gap_gate_rests_d_or_g_by_the_last_d_loss_and_lr_g_is_gs_own():
    """gap_gate (-10, 0.1): a run whose last D loss is above 0.1 trains only D, one below -10 only G, one between
    them both. The generator's learning rate is lr_g where set: with SGD and the same D step, G's first move is
    lr_g / lr times the move of a twin run without it."""
    setup = Setup(**{**TINY.__dict__, "gap_gate": (-10.0, 0.1)})
    runs = [Run(f"r{i}", seed=0, loss="linear", f="identity", lr=0.05, optim_d="sgd", optim_g="sgd") for i in range(3)]
    runs.append(Run("fast_g", seed=0, loss="linear", f="identity", lr=0.05, lr_g=0.15, optim_d="sgd", optim_g="sgd"))
    trainer = Trainer(setup, runs, datasets.load("ring8"))
    trainer.last_d_loss.copy_(torch.tensor([1.0, -20.0, 0.0, 0.0]))
    g0, d0 = final_weights(trainer)[:4], final_weights(trainer)[4:]
    trainer.step()
    g1, d1 = final_weights(trainer)[:4], final_weights(trainer)[4:]
    g_moved = [any(not torch.equal(a[k], b[k]) for a, b in zip(g0, g1)) for k in range(4)]
    d_moved = [any(not torch.equal(a[k], b[k]) for a, b in zip(d0, d1)) for k in range(4)]
    assert g_moved == [False, True, True, True] and d_moved == [True, False, True, True]
    for a, b in zip(g0, g1):
        torch.testing.assert_close(b[3] - a[3], 3 * (b[2] - a[2]), atol=1e-7, rtol=1e-5)
    # the gate reads the loss of this step's D update next time
    assert (torch.isfinite(trainer.last_d_loss).all()
            and not torch.equal(trainer.last_d_loss, torch.tensor([1.0, -20.0, 0.0, 0.0])))


MIXED = [Run("a", seed=1, loss="logistic", f="softplus", lr=2e-3),
         Run("b", seed=2, loss={"name": "hinge", "margin": 1.0}, f="identity", lr=1e-3, optim_g="sgd", dropout_d=True),
         Run("c", seed=3, loss="lsif", f={"name": "power", "alpha": 3.0}, lr=5e-3, optim_d="sgd"),
         Run("d", seed=4, loss="least_squares", f="softminus", lr=1e-3, dropout_d=True)]
SMALL = Setup(dataset="ring8", z_dim=4, n_layer_g=3, size_g=16, n_layer_d=3, size_d=16, batch_size=32, steps=30,
              checkpoint_every=10, log_every=5)


def final_weights(trainer):
    return [p.detach().clone() for p in [*trainer.G.parameters(), *trainer.D.parameters()]]


def test_batched_equals_alone():
    """Tolerance: 1e-5 absolute; batched and single matmuls may round differently in float32."""
    together = Trainer(SMALL, MIXED, datasets.load("ring8"))
    together.fit()
    for k, run in enumerate(MIXED):
        alone = Trainer(SMALL, [run], datasets.load("ring8"))
        alone.fit()
        for p_batch, p_alone in zip(final_weights(together), final_weights(alone)):
            torch.testing.assert_close(p_batch[k], p_alone[0], atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(together.curves(k).to_numpy(), alone.curves(0).to_numpy(), atol=1e-5, rtol=1e-4)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("discriminator", ["mlp", "autoencoder"])
@pytest.mark.parametrize("batch_norm", ["none", "both"])
def test_cuda_graph_replay_equals_eager_steps(discriminator, batch_norm):
    """The graph replays the eager step's kernels (batch normalization's running statistics updated in
    place): equal to rounding (1e-5), divergence included."""
    setup = Setup(**{**SMALL.__dict__, "discriminator": discriminator, "batch_norm": batch_norm})
    runs = [*MIXED, Run("boom", seed=9, loss="lsif", f="identity", lr=1e12, optim_d="sgd", optim_g="sgd")]
    if discriminator == "autoencoder":
        runs = [Run(r.run_id, seed=r.seed, loss={"name": "hinge", "margin": 1.0}, f="identity", lr=r.lr,
                    pt_weight=0.1 * (i % 2), dropout_d=r.dropout_d) for i, r in enumerate(runs)]
    eager = Trainer(setup, runs, datasets.load("ring8"), "cuda", cuda_graph=False)
    graphed = Trainer(setup, runs, datasets.load("ring8"), "cuda", cuda_graph=True)
    eager.fit()
    graphed.fit()
    assert graphed._graphed.graph is not None
    assert graphed.progress.status == eager.progress.status
    assert graphed.progress.diverged_step == eager.progress.diverged_step
    if discriminator == "mlp" and batch_norm == "none":
        assert graphed.progress.status[-1] == "diverged"
    for net in ("G", "D"):  # parameters and running statistics
        for a, b in zip(getattr(eager, net).state_dict().values(), getattr(graphed, net).state_dict().values()):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4, equal_nan=True)
    for k in range(len(runs)):
        torch.testing.assert_close(graphed.curves(k).to_numpy(), eager.curves(k).to_numpy(), atol=1e-5, rtol=1e-4,
                                   equal_nan=True)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_fused_adam_on_cuda_equals_the_elementwise_update(monkeypatch):
    """torch's fused Adam kernel, one call per run, against the elementwise update over all runs, both
    replayed from a CUDA graph: equal to rounding (1e-5)."""
    monkeypatch.setattr(optimizers, "FUSED_MIN_RUN_PARAMS", 0)
    fused = Trainer(SMALL, MIXED, datasets.load("ring8"), "cuda")
    monkeypatch.setattr(optimizers, "FUSED_DEVICES", ())
    elementwise = Trainer(SMALL, MIXED, datasets.load("ring8"), "cuda")
    assert fused.opt_g.fused and not elementwise.opt_g.fused
    fused.fit()
    elementwise.fit()
    for net in ("G", "D"):
        for a, b in zip(getattr(fused, net).state_dict().values(), getattr(elementwise, net).state_dict().values()):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_a_snapshot_is_the_run_trained_to_that_step(tmp_path):
    """The snapshot at step 10 of a 30-step run = the end of the same run trained for 10 steps (nothing in a
    step depends on the length of the schedule)."""
    longer = Setup(**{**SMALL.__dict__, "snapshots": (1 / 3,)})
    assert longer.snapshot_steps == [10]
    training_job.train_batch(longer, MIXED, [str(tmp_path / "long" / r.run_id) for r in MIXED], str(tmp_path / "a.pt"),
                             None)
    short = Setup(**{**SMALL.__dict__, "steps": 10})
    training_job.train_batch(short, MIXED, [str(tmp_path / "short" / r.run_id) for r in MIXED], str(tmp_path / "b.pt"),
                             None)
    for run in MIXED:
        snapshot = runfolder.snapshot_dir(tmp_path / "long" / run.run_id, 10)
        for name in (runfolder.GENERATOR, runfolder.DISCRIMINATOR):
            kept = torch.load(snapshot / name, weights_only=True)
            alone = torch.load(tmp_path / "short" / run.run_id / name, weights_only=True)
            assert kept.keys() == alone.keys(), (run.run_id, name)
            assert all(torch.equal(kept[k], alone[k]) if torch.is_tensor(kept[k]) else kept[k] == alone[k]
                       for k in kept), (run.run_id, name)


class Killed(Exception):
    pass


def killed_at_15_and_resumed(setup, runs, checkpoint):
    """A trainer killed at step 15 (its checkpoint left behind), then a new one resumed from it to the end."""
    def kill_after_15(trainer):
        if trainer.progress.step == 15:
            raise Killed
    with pytest.raises(Killed):
        Trainer(setup, runs, datasets.load("ring8")).fit(checkpoint, on_step=kill_after_15)
    resumed = Trainer(setup, runs, datasets.load("ring8"))
    resumed.fit(checkpoint)
    return resumed


@pytest.mark.parametrize("batch_norm", ["none", "both"])
def test_resumed_equals_uninterrupted(tmp_path, batch_norm):
    setup = Setup(**{**SMALL.__dict__, "batch_norm": batch_norm})
    full = Trainer(setup, MIXED, datasets.load("ring8"))
    full.fit()
    resumed = killed_at_15_and_resumed(setup, MIXED, tmp_path / "shard.pt")
    assert resumed.progress.step == 30
    # weights, and with batch normalization its running statistics too
    for net in ("G", "D"):
        for (name, a), b in zip(getattr(full, net).state_dict().items(), getattr(resumed, net).state_dict().values()):
            assert torch.equal(a, b), (net, name)
    assert full.curves(2).equals(resumed.curves(2))


CALIBRATED = [Run("dai", seed=1, loss={"name": "linear", "margin": 5.0, "real_penalty": 0.05}, f="identity", lr=2e-4,
                  lr_g=2e-3, entropy_weight=0.5),
              Run("hinge", seed=2, loss={"name": "hinge", "margin": 1.0}, f="identity", lr=1e-3, entropy_weight=0.1)]
CALIBRATED_SETUP = Setup(**{**SMALL.__dict__, "batch_norm": "generator", "adam_betas": (0.0, 0.999),
                            "gap_gate": (-1.0, 0.1), "lr_decay": (0.9, 4, 10), "entropy_estimator": "mean_shift",
                            "entropy_k": 5})


def test_calibrated_runs_batched_equal_alone_and_resume_where_they_stopped(tmp_path):
    """The gate, the decay, two learning rates and the mean-shift entropy per run: together as alone, and
    resumed (the gate's last D loss and the decay's clock are in the checkpoint) as uninterrupted."""
    together = Trainer(CALIBRATED_SETUP, CALIBRATED, datasets.load("ring8"))
    together.fit()
    for k, run in enumerate(CALIBRATED):
        alone = Trainer(CALIBRATED_SETUP, [run], datasets.load("ring8"))
        alone.fit()
        for p_batch, p_alone in zip(final_weights(together), final_weights(alone)):
            torch.testing.assert_close(p_batch[k], p_alone[0], atol=1e-5, rtol=1e-4)
    resumed = killed_at_15_and_resumed(CALIBRATED_SETUP, CALIBRATED, tmp_path / "shard.pt")
    for a, b in zip(final_weights(together), final_weights(resumed)):
        assert torch.equal(a, b)


def test_a_diverging_run_is_marked_and_the_others_go_on(tmp_path):
    runs = [MIXED[0], Run("boom", seed=9, loss="lsif", f="identity", lr=1e12, optim_d="sgd", optim_g="sgd"), MIXED[2]]
    dirs = [str(tmp_path / r.run_id) for r in runs]
    training_job.train_batch(SMALL, runs, dirs, str(tmp_path / "ck.pt"), None, "cpu")
    manifests = [json.loads((tmp_path / r.run_id / "manifest.json").read_text()) for r in runs]
    assert [m["status"] for m in manifests] == ["ok", "diverged", "ok"]
    assert 1 <= manifests[1]["diverged_step"] < 30 and manifests[0]["diverged_step"] == -1
    assert all(m["steps_done"] == 30 for m in manifests)
    # the healthy runs are exactly what they would be without the diverging neighbour
    alone = Trainer(SMALL, [MIXED[0]], datasets.load("ring8"))
    alone.fit()
    generator = runfolder.load_generator(tmp_path / "a/generator.pt")
    z = rng.normal(torch.tensor([1]), rng.Z_FIXED, 0, (64, 4))[0]
    torch.testing.assert_close(generator(z), alone.fixed_samples()[0], atol=1e-5, rtol=1e-4)
    assert not (tmp_path / "ck.pt").exists()


def test_corrupt_or_foreign_checkpoint_is_a_clear_error(tmp_path):
    bad = tmp_path / "ck.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(checkpoints.CheckpointError, match=r"corrupt or unreadable .* delete it to restart"):
        Trainer(SMALL, MIXED, datasets.load("ring8")).fit(bad)
    other = Trainer(SMALL, MIXED[:2], datasets.load("ring8"))
    other.save_checkpoint(bad)
    with pytest.raises(checkpoints.CheckpointError, match="made for other runs or settings"):
        Trainer(SMALL, MIXED, datasets.load("ring8")).fit(bad)
    with pytest.raises(checkpoints.CheckpointError, match="corrupt or unreadable"):
        Trainer(SMALL, MIXED, datasets.load("ring8")).load_checkpoint(tmp_path / "missing.pt")


def test_ebgan_runs_with_and_without_pull_away():
    setup = Setup(dataset="ring8", discriminator="autoencoder", z_dim=4, n_layer_g=2, size_g=8, n_layer_d=2,
                  size_d=8, batch_size=16, steps=3)
    runs = [Run("pt", seed=0, loss={"name": "hinge", "margin": 1.0}, f="identity", pt_weight=0.1),
            Run("no-pt", seed=0, loss={"name": "hinge", "margin": 1.0}, f="identity", pt_weight=0.0)]
    trainer = Trainer(setup, runs, datasets.load("ring8"))
    trainer.fit()
    g = next(trainer.G.parameters())
    assert not torch.equal(g[0], g[1])  # same seed, same data: only the PT term differs
    with pytest.raises(ValueError, match="pt_weight > 0 needs an autoencoder's code, but discriminator is mlp"):
        Trainer(SMALL, runs, datasets.load("ring8"))


def test_paper_grid_sizes_follow_table_1():
    config = yaml.safe_load((REPO / "config/paper.yaml").read_text())
    shards = experiments.shards(config)
    count = {name: sum(len(s.runs) for s in shards if s.experiment == name) for name in config["experiments"]}
    assert count["gan_grid"] == 4 ** 4 * 2 * 2 * 2 * 3 == 6144
    assert count["ebgan_grid"] == 2 * 512  # EBGAN and EBGAN-PT
    assert count["margin_sweep"] == 8
    assert all(len({r.run_id for r in s.runs}) == len(s.runs) for s in shards)
    assert all(len(s.runs) <= config["train"]["shard_size"] for s in shards)


def test_unknown_grid_key_is_named():
    with pytest.raises(ValueError, match=r"experiment x: unknown setting 'lrate'"):
        experiments.expand("x", {"dataset": "ring8", "grid": {"lrate": [1]}}, 10)


def test_gan_training_sees_the_training_split_only(tmp_path):
    """A known defect of public EBGAN code: training on train + test together."""
    from energygan.data import mnist
    rng_np = np.random.default_rng(0)
    for split, n in (("train", 12), ("test", 5)):
        torch.save({"images": torch.from_numpy(rng_np.integers(0, 256, (n, 28, 28), dtype="uint8")),
                    "labels": torch.zeros(n, dtype=torch.int64)}, tmp_path / f"{split}.pt")
    data = datasets.load("mnist", tmp_path)
    train = mnist.load_prepared(tmp_path, "train")["images"]
    assert torch.equal(data.images, train[:, None])


def test_gaussian_mixture_log_density_chunks_and_leave_one_out_match_a_direct_sum():
    torch.manual_seed(1)
    points = torch.randn(37, 2, dtype=torch.float64)
    kernel = torch.exp(-torch.cdist(points, points) ** 2 / (2 * 0.5 ** 2)) / (2 * math.pi * 0.5 ** 2)
    direct = (kernel.sum(1) / 37).log()
    loo = ((kernel.sum(1) - kernel.diagonal()) / 36).log()
    torch.testing.assert_close(datasets.log_gaussian_mixture(points, points, 0.5, chunk=5), direct)
    torch.testing.assert_close(datasets.log_gaussian_mixture(points, points, 0.5, leave_one_out=True, chunk=5), loo)


BN = Setup(**{**SMALL.__dict__, "batch_norm": "generator"})


def torch_copy(stacked, activation, last_activation=None) -> torch.nn.Sequential:
    """Run 0 of a stacked MLP as nn.Linear / nn.BatchNorm1d layers with the same weights and statistics."""
    layers = []
    for i, layer in enumerate(stacked.layers):
        fan_in, fan_out = layer.weight.shape[1:]
        linear = torch.nn.Linear(fan_in, fan_out, bias=layer.bias is not None)
        with torch.no_grad():
            linear.weight.copy_(layer.weight[0].T)
            if layer.bias is not None:
                linear.bias.copy_(layer.bias[0])
        layers.append(linear)
        if str(i) in stacked.norms:
            norm, mine = torch.nn.BatchNorm1d(fan_out), stacked.norms[str(i)]
            with torch.no_grad():
                for name in ("weight", "bias", "running_mean", "running_var"):
                    getattr(norm, name).copy_(getattr(mine, name)[0])
            layers.append(norm)
        if i < len(stacked.layers) - 1:
            layers.append(activation())
    return torch.nn.Sequential(*layers, *([last_activation()] if last_activation else []))


@pytest.mark.parametrize("batch_norm", ["none", "generator", "both"])
def test_the_engine_with_batch_norm_equals_a_one_model_torch_loop(batch_norm):
    """One run of the engine against the conventional loop: nn.Linear, nn.BatchNorm1d, torch.optim, D
    given the real and the fake batch apart, fakes for D drawn under no_grad with G in training mode, from
    the same initial weights, data and noise: the same weights and running statistics after 6 steps.
    D takes SGD: where a hidden unit of D's first layer stays on one side of the LeakyReLU over a batch,
    the batch normalization after it makes that unit's bias gradient zero up to rounding, and Adam would
    turn the two loops' different rounding into steps of size lr."""
    setup = Setup(dataset="ring8", z_dim=3, n_layer_g=3, size_g=6, n_layer_d=4, size_d=5, batch_size=16, steps=6,
                  batch_norm=batch_norm, checkpoint_every=100, log_every=1)
    run = Run("r", seed=3, loss="logistic", f="softplus", lr=0.01, optim_d="sgd")
    data = datasets.load("ring8")
    trainer = Trainer(setup, [run], data)
    G = torch_copy(trainer.G, torch.nn.ReLU)
    D = torch_copy(trainer.D, lambda: torch.nn.LeakyReLU(0.2))
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in G) == (2 if batch_norm != "none" else 0)
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in D) == (2 if batch_norm == "both" else 0)
    opt_g = torch.optim.Adam(G.parameters(), lr=0.01, betas=(0.5, 0.999))
    opt_d = torch.optim.SGD(D.parameters(), lr=0.01)
    key = torch.tensor([run.seed])
    for step in range(6):
        x_real = data.sample(key, step, 16)[0]
        with torch.no_grad():
            x_fake = G(rng.normal(key, rng.Z_D, step, (16, 3))[0])
        d_loss = F.softplus(D(x_real)).mean() + F.softplus(-D(x_fake)).mean()
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = F.softplus(D(G(rng.normal(key, rng.Z_G, step, (16, 3))[0]))).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        trainer.step()
    for mine, theirs in ((trainer.G, G), (trainer.D, D)):
        copied, expected = torch_copy(mine, torch.nn.ReLU).state_dict(), theirs.state_dict()
        assert copied.keys() == expected.keys()
        for name in [n for n in copied if not n.endswith("num_batches_tracked")]:  # torch's step count, not ours
            torch.testing.assert_close(copied[name], expected[name], atol=1e-5, rtol=1e-4, msg=name)


def test_batch_norm_batched_equals_alone_and_samples_use_running_statistics(tmp_path):
    together = Trainer(BN, MIXED, datasets.load("ring8"))
    together.fit()
    for k, run in enumerate(MIXED):
        alone = Trainer(BN, [run], datasets.load("ring8"))
        alone.fit()
        for a, b in zip(together.G.state_dict().values(), alone.G.state_dict().values()):
            torch.testing.assert_close(a[k], b[0], atol=1e-5, rtol=1e-4)  # weights and running statistics
        torch.testing.assert_close(together.fixed_samples()[k], alone.fixed_samples()[0], atol=1e-5, rtol=1e-4)
    # the saved generator reloads to the trainer's evaluation-mode samples (running statistics, not the batch's)
    dirs = [str(tmp_path / r.run_id) for r in MIXED[:1]]
    training_job.train_batch(BN, MIXED[:1], dirs, str(tmp_path / "ck.pt"), None, "cpu")
    z = rng.normal(torch.tensor([MIXED[0].seed]), rng.Z_FIXED, 0, (64, 4))[0]
    samples = runfolder.load_generator(tmp_path / "a/generator.pt")(z)
    torch.testing.assert_close(samples, together.fixed_samples()[0], atol=1e-5, rtol=1e-4)
    g = together.G
    h = z
    for i, layer in enumerate(g.layers):  # by hand, with running statistics
        h = h @ layer.weight[0]
        if i == len(g.layers) - 1:
            h = h + layer.bias[0]
        else:
            norm = g.norms[str(i)]
            h = (h - norm.running_mean[0]) / torch.sqrt(norm.running_var[0] + 1e-5) * norm.weight[0] + norm.bias[0]
            h = torch.relu(h)
    torch.testing.assert_close(samples, h, atol=1e-5, rtol=1e-4)
    assert g.training  # back to training mode after the samples


def test_an_autoencoder_with_a_loss_of_either_sign_uses_energy_minus_a_learned_offset():
    setup = Setup(dataset="ring8", discriminator="autoencoder", z_dim=2, n_layer_g=2, size_g=4, n_layer_d=2,
                  size_d=3, batch_size=8, steps=5)
    runs = [Run("logistic", seed=0, loss="logistic", f="softplus", lr=0.05),
            Run("hinge", seed=0, loss={"name": "hinge", "margin": 1.0}, f="identity", lr=0.05)]
    trainer = Trainer(setup, runs, datasets.load("ring8"))
    trainer.fit()
    offset = trainer.D.offset.detach()
    assert offset[0] != 0 and offset[1] == 0  # learned where used; the hinge's energy needs none
    x = torch.randn(2, 6, 2)
    energy, _ = trainer.D(x)
    s, _ = trainer.discrepancy(x, None)
    torch.testing.assert_close(s[0], energy[0] - offset[0])
    torch.testing.assert_close(s[1], energy[1])


@pytest.mark.parametrize("discriminator, batch_norm", [("mlp", "none"), ("mlp", "both"), ("autoencoder", "both")])
def test_a_saved_discriminator_reloads_to_the_same_s(tmp_path, discriminator, batch_norm):
    setup = Setup(**{**SMALL.__dict__, "discriminator": discriminator, "batch_norm": batch_norm, "n_layer_d": 3})
    runs = [Run("logistic", seed=1, loss="logistic", f="softplus", lr=5e-3),
            Run("hinge", seed=2, loss={"name": "hinge", "margin": 1.0}, f="identity", lr=5e-3)]
    dirs = [str(tmp_path / r.run_id) for r in runs]
    training_job.train_batch(setup, runs, dirs, str(tmp_path / "ck.pt"), None, "cpu")
    trained = Trainer(setup, runs, datasets.load("ring8"))
    trained.fit()
    trained.D.eval()
    x = torch.randn(9, 2)
    for k, run_dir in enumerate(dirs):
        s = runfolder.load_discriminator(f"{run_dir}/discriminator.pt")(x)
        expected, _ = trained.discrepancy(x.expand(2, 9, 2), None)
        torch.testing.assert_close(s, expected[k], atol=1e-5, rtol=1e-4)
        if discriminator == "mlp" and batch_norm == "none":  # by hand: LeakyReLU(0.2) MLP, u^2 for the hinge
            weights = [(layer.weight[k].detach(), layer.bias[k].detach()) for layer in trained.D.layers]
            raw = plain_mlp(weights, x, lambda v: F.leaky_relu(v, 0.2)).squeeze(-1)
            torch.testing.assert_close(s, raw * raw if run_dir.endswith("hinge") else raw, atol=1e-5, rtol=1e-4)
        if run_dir.endswith("hinge"):
            assert (s >= 0).all()  # the hinge's domain


def test_the_average_generator_is_an_exponential_moving_average_of_gs_weights_by_hand(tmp_path):
    """ema = 0.9: after each step, average = 0.9 average + 0.1 G for every weight (the running statistics are
    G's own), checked against a loop over the trainer's own G; the fixed samples and the saved generator are
    the average's; D trains against G itself (the same steps as without the average)."""
    setup = Setup(**{**SMALL.__dict__, "batch_norm": "generator", "steps": 5, "ema": 0.9})
    trainer = Trainer(setup, MIXED, datasets.load("ring8"))
    average = {name: p.detach().clone() for name, p in trainer.G.named_parameters()}
    for _ in range(5):
        trainer.step()
        for name, p in trainer.G.named_parameters():
            average[name] = 0.9 * average[name] + 0.1 * p.detach()
    for name, p in trainer.G_average.named_parameters():
        torch.testing.assert_close(p, average[name], atol=1e-6, rtol=1e-5)
    for (name, mine), theirs in zip(trainer.G_average.named_buffers(), trainer.G.buffers()):
        torch.testing.assert_close(mine, theirs, msg=name)
    plain = Trainer(Setup(**{**setup.__dict__, "ema": 0.0}), MIXED, datasets.load("ring8"))
    for _ in range(5):
        plain.step()
    for a, b in zip(plain.G.parameters(), trainer.G.parameters()):
        torch.testing.assert_close(a, b)  # the average does not feed back into training
    z = rng.normal(trainer.keys, rng.Z_FIXED, 0, (stack.FIXED_SAMPLES, setup.z_dim))
    samples = trainer.fixed_samples()
    torch.testing.assert_close(samples, trainer.G_average.eval()(z))
    assert trainer.G.training
    state = trainer.generator_state(1)
    torch.testing.assert_close(state["layers.0.weight"], average["layers.0.weight"][1], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("nonnegative, positive", [("softplus", "square"), ("square", "softplus"), ("abs", "abs")])
def test_s_is_made_non_negative_as_the_settings_say_where_the_loss_or_f_needs_it(nonnegative, positive):
    """s = map(u) of the MLP's output u: `nonnegative_s` where the loss needs s >= 0 (the hinge, whatever
    its f), `positive_s` where only f needs s > 0 (the power f); s = u for the logistic loss with an f of
    either sign."""
    setup = Setup(**{**TINY.__dict__, "nonnegative_s": nonnegative, "positive_s": positive})
    runs = [Run("hinge", seed=0, loss={"name": "hinge", "margin": 2.0}, f={"name": "power", "alpha": 3.0}),
            Run("power", seed=1, loss="lsif", f={"name": "power", "alpha": 3.0}),
            Run("plain", seed=2, loss="logistic", f="softplus")]
    trainer = Trainer(setup, runs, datasets.load("ring8"))
    x = torch.randn(3, 7, 2)
    s, _ = trainer.discrepancy(x, None)
    u = trainer.D(x).squeeze(-1)
    by_hand = {"softplus": lambda v: torch.log1p(torch.exp(v)), "square": lambda v: v * v, "abs": torch.abs}
    torch.testing.assert_close(s[0], by_hand[nonnegative](u[0]), atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(s[1], by_hand[positive](u[1]), atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(s[2], u[2])


def test_an_unknown_setting_is_refused_naming_it_and_the_known_values():
    for key, value, known in (("batch_norm", "sometimes", "['none', 'generator', 'both']"),
                              ("nonnegative_s", "relu", "['abs', 'softplus', 'square']"),
                              ("positive_s", "exp", "['abs', 'softplus', 'square']")):
        with pytest.raises(ValueError, match=re.escape(f"unknown {key} {value!r}; known: {known}")):
            Trainer(Setup(**{**TINY.__dict__, key: value}), [Run("r", seed=0)], datasets.load("ring8"))
    with pytest.raises(ValueError, match=re.escape("ema must be in [0, 1) (0: off), got 1.0")):
        Trainer(Setup(**{**TINY.__dict__, "ema": 1.0}), [Run("r", seed=0)], datasets.load("ring8"))
    for key, value, message in (
            ("entropy_estimator", "kde",
             "unknown entropy_estimator 'kde'; known: ['kozachenko_leonenko', 'mean_shift']"),
            ("gap_gate", (0.1, -10.0),
             "gap_gate must be [low, high] with low < high (D's loss bounds), got [0.1, -10.0]"),
            ("lr_decay", (1.5, 200, 0),
             "lr_decay must be [factor in (0, 1], every >= 1 steps, start >= 0], got [1.5, 200, 0]")):
        with pytest.raises(ValueError, match=re.escape(message)):
            Trainer(Setup(**{**TINY.__dict__, key: value}), [Run("r", seed=0)], datasets.load("ring8"))


def test_a_dropout_trained_discriminator_is_read_as_its_mean_over_dropout_masks(tmp_path):
    """One hidden layer of 3 units with dropout 0.5 has 8 masks, each of probability 1/8: the exact mean of
    s over them, by enumeration, against the saved discriminator's mean over 4,000 drawn masks."""
    run = Run("drop", seed=4, loss="logistic", f="softplus", lr=0.05, dropout_d=True)
    setup = Setup(**{**TINY.__dict__, "steps": 5})
    training_job.train_batch(setup, [run], [str(tmp_path / "r")], str(tmp_path / "ck.pt"), None, "cpu")
    trained = Trainer(setup, [run], datasets.load("ring8"))
    trained.fit()
    x = torch.randn(5, 2)
    per_mask = []
    for bits in itertools.product([0.0, 1.0], repeat=3):
        mask = torch.tensor(bits).div(0.5).expand(1, 5, 3)
        per_mask.append(trained.discrepancy(x[None], [mask])[0][0].detach())
    per_mask = torch.stack(per_mask)
    exact = per_mask.mean(0)
    assert (per_mask.max(0).values - per_mask.min(0).values).min() > 0.01  # the masks matter
    drawn = runfolder.load_discriminator(tmp_path / "r/discriminator.pt", dropout_masks=4000)(x)
    torch.testing.assert_close(drawn, exact, atol=0.064 * per_mask.std(0).max().item(), rtol=0)  # 4 standard errors
    no_dropout = runfolder.load_discriminator(tmp_path / "r/discriminator.pt", dropout_masks=1)
    assert not torch.allclose(no_dropout(x), drawn)  # one mask is not the mean
