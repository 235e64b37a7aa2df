"""Batch normalization's effect on quality: the batched engine against a conventional one-model torch GAN.

For each `setup.batch_norm` mode and seed, one MNIST run of the engine (the default config's mnist_loss_f
nets, logistic loss, non-saturating f, Adam (0.5, 0.999), batch 64) and the same GAN written the usual way
(nn.Linear, nn.BatchNorm1d, torch.optim.Adam, torch's own initialisation and random numbers) are trained the
same number of steps and scored by the pipeline's evaluator on the same fixed noise. The conventional loop
also runs D's batch normalization on real and fake samples in one batch (`both, one batch`), which the
engine does not offer. That the two implementations take the same steps from the same start is a test
(tests/engine/test_training.py); this script shows their quality side by side.

    python benchmarks/batch_norm_quality.py [--steps 3000] [--seeds 0 1] [--lr 2e-4] [--out table.csv]

Needs the evaluator and MNIST (`snakemake --cores all results/evaluator/metrics.json`). One core: about 40 s
a run at 3,000 steps.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from energygan.analysis import evaluation
from energygan.data import datasets, mnist
from energygan.engine import architectures
from energygan.engine.spec import Run, Setup
from energygan.engine.training import Trainer

SETUP = {"dataset": "mnist", "discriminator": "mlp", "z_dim": 32, "n_layer_g": 3, "size_g": 256, "n_layer_d": 3,
         "size_d": 128, "batch_size": 64, "log_every": 10 ** 6, "checkpoint_every": 10 ** 9}


def conventional(mode: str, steps: int, lr: float, seed: int, images: torch.Tensor, one_batch: bool) -> nn.Module:
    """A one-model GAN with the engine's layers (architectures.NORMALISED says which are normalised), trained
    the usual way; returns G in evaluation mode."""
    torch.manual_seed(seed)
    normalised = architectures.NORMALISED[mode]

    def block(fan_in, fan_out, norm, activation):
        return [nn.Linear(fan_in, fan_out, bias=not norm), *([nn.BatchNorm1d(fan_out)] if norm else []), activation]

    g_norm, d_norm = "generator" in normalised, "discriminator" in normalised
    G = nn.Sequential(*block(SETUP["z_dim"], 256, g_norm, nn.ReLU()), *block(256, 256, g_norm, nn.ReLU()),
                      nn.Linear(256, 784), nn.Sigmoid())
    D = nn.Sequential(*block(784, 128, False, nn.LeakyReLU(0.2)), *block(128, 128, d_norm, nn.LeakyReLU(0.2)),
                      nn.Linear(128, 1))
    opt_g, opt_d = (torch.optim.Adam(net.parameters(), lr=lr, betas=(0.5, 0.999)) for net in (G, D))
    batch = SETUP["batch_size"]
    for _ in range(steps):
        real = images[torch.randint(len(images), (batch,))].float().div(255).flatten(1)
        with torch.no_grad():
            fake = G(torch.randn(batch, SETUP["z_dim"]))
        if one_batch:
            s_real, s_fake = D(torch.cat([real, fake])).split(batch)
        else:
            s_real, s_fake = D(real), D(fake)
        d_loss = F.softplus(s_real).mean() + F.softplus(-s_fake).mean()  # s is high on fakes
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        fake = G(torch.randn(batch, SETUP["z_dim"]))
        if one_batch:
            real = images[torch.randint(len(images), (batch,))].float().div(255).flatten(1)
            s_fake = D(torch.cat([real, fake]))[batch:]
        else:
            s_fake = D(fake)
        g_loss = F.softplus(s_fake).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
    return G.eval()


def engine(mode: str, steps: int, lr: float, seed: int, data) -> callable:
    trainer = Trainer(Setup(**SETUP, steps=steps, batch_norm=mode), [Run("r", seed=seed, loss="logistic",
                                                                           f="softplus", lr=lr)], data)
    trainer.fit()
    G = trainer.G.eval()
    return lambda z: torch.sigmoid(G(z[None])[0].flatten(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--modes", nargs="+", default=list(architectures.NORMALISED))
    parser.add_argument("--evaluator", default="results/evaluator")
    parser.add_argument("--prepared", default=datasets.MNIST_PREPARED)
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--out", help="also write the table here (CSV)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    classifier, reference = evaluation.load_evaluator(args.evaluator)
    images = mnist.load_prepared(args.prepared, "train")["images"]
    data = datasets.load("mnist", args.prepared)
    z = evaluation.evaluation_noise(args.samples, SETUP["z_dim"], 1234)
    rows = []
    variants = [(mode, "engine") for mode in args.modes] + [(mode, "one-model torch") for mode in args.modes]
    if "both" in args.modes:
        variants.append(("both", "one-model torch, one batch"))
    for mode, implementation in variants:
        for seed in args.seeds:
            t0 = time.time()
            if implementation == "engine":
                generate = engine(mode, args.steps, args.lr, seed, data)
            else:
                generate = conventional(mode, args.steps, args.lr, seed, images, "one batch" in implementation)
            with torch.no_grad():
                log_probs, features = evaluation.classify(classifier, generate(z))
            scores = evaluation.image_scores(log_probs, features, reference, 0.1)
            rows.append({"batch_norm": mode, "implementation": implementation, "seed": seed, "steps": args.steps,
                         "lr": args.lr,
                         **{k: scores[k] for k in ("inception_score", "frechet_distance", "classes_covered")},
                         "wall_s": round(time.time() - t0, 1)})
            print(pd.DataFrame(rows[-1:]).to_string(index=False, header=len(rows) == 1), flush=True)
    table = pd.DataFrame(rows)
    print(table.groupby(["batch_norm", "implementation"], sort=False)[["inception_score", "frechet_distance"]]
          .agg(["mean", "std"]).round(2).to_string())
    if args.out:
        table.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
