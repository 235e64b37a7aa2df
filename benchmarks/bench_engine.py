"""Run-steps per second: the batched engine against a one-run-at-a-time loop doing the same work.

    python benchmarks/bench_engine.py                       # CPU, K = 1, 8, 32, 128
    python benchmarks/bench_engine.py --device cuda --arch paper

The loop is plain PyTorch (nn.Sequential, torch.optim.Adam), one GAN after another, each taking one
step per round: the code the engine replaces. Both train MLP GANs on data drawn from a fixed random
tensor (784-d, or 2-d for --arch toy; no dataset needed) with the logistic loss and f = softplus.
On a CUDA device the engine replays each step from a CUDA graph (captured during the warm-up).
Targets (issue 4): at K = 32, batched >= 3x the loop on CPU and >= 20x on a GPU.
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from torch import nn

from energygan import training

ARCH = {"default": dict(z_dim=32, n_layer_g=3, size_g=256, n_layer_d=3, size_d=128),
        "paper": dict(z_dim=100, n_layer_g=4, size_g=800, n_layer_d=3, size_d=512),
        "toy": dict(z_dim=8, n_layer_g=3, size_g=64, n_layer_d=3, size_d=64)}  # the 2D mixtures' nets


class FixedImages(training.MNISTData):
    def __init__(self, dim=784):
        super().__init__((torch.rand(60_000, dim) * 255).to(torch.uint8))
        self.out_dim = dim


def plain_gan(arch, device, dim):
    def mlp(widths, act):
        layers = []
        for a, b in zip(widths, widths[1:]):
            layers += [nn.Linear(a, b), act()]
        return nn.Sequential(*layers[:-1]).to(device)
    g = mlp([arch["z_dim"]] + [arch["size_g"]] * (arch["n_layer_g"] - 1) + [dim], nn.ReLU)
    d = mlp([dim] + [arch["size_d"]] * (arch["n_layer_d"] - 1) + [1], lambda: nn.LeakyReLU(0.2))
    return g, d, torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999)), \
        torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))


def plain_step(gan, images, batch, z_dim):
    g, d, opt_g, opt_d = gan
    softplus = nn.functional.softplus
    x_real = images[torch.randint(len(images), (batch,), device=images.device)]
    x_fake = torch.sigmoid(g(torch.randn(batch, z_dim, device=images.device))).detach()
    loss_d = softplus(d(x_real)).mean() + softplus(-d(x_fake)).mean()
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    loss_g = softplus(d(torch.sigmoid(g(torch.randn(batch, z_dim, device=images.device))))).mean()
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn, rounds, device, warmup=1):
    for _ in range(warmup):  # allocations, kernel selection; the engine's CUDA graph capture
        fn()
    sync(device)
    t0 = time.perf_counter()
    for _ in range(rounds):
        fn()
    sync(device)
    return (time.perf_counter() - t0) / rounds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--arch", choices=ARCH, default="default")
    parser.add_argument("--runs", type=int, nargs="+", default=[1, 8, 32, 128])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    arch = ARCH[args.arch]
    dim = 2 if args.arch == "toy" else 784
    data = FixedImages(dim).to(args.device)
    results = []
    for k in args.runs:
        setup = training.Setup(**arch, batch_size=args.batch, steps=10 ** 9)
        runs = [training.Run(f"r{i}", seed=i) for i in range(k)]
        trainer = training.Trainer(setup, runs, data, args.device)
        batched = timed(trainer.step, args.rounds, args.device, warmup=training.GRAPH_WARMUP + 2)
        gans = [plain_gan(arch, args.device, dim) for _ in range(k)]
        loop = timed(lambda: [plain_step(gan, data.images, args.batch, arch["z_dim"]) for gan in gans],
                     max(1, args.rounds // 2), args.device)
        row = {"K": k, "device": args.device, "arch": args.arch, "batched_run_steps_per_s": k / batched,
               "loop_run_steps_per_s": k / loop, "speedup": loop / batched}
        results.append(row)
        print(f"K={k:4d}  batched {row['batched_run_steps_per_s']:9.1f} run-steps/s   "
              f"loop {row['loop_run_steps_per_s']:9.1f} run-steps/s   speed-up {row['speedup']:6.2f}x", flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
