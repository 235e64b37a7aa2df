"""Run-steps per second: the batched engine against a one-run-at-a-time loop doing the same work.

    python benchmarks/bench_engine.py                       # CPU, K = 1, 8, 32, 128
    python benchmarks/bench_engine.py --device cuda --arch paper
    python benchmarks/bench_engine.py --arch dcgan32 --runs 1 2 4 8 --batch 32   # the convolutional nets
    python benchmarks/bench_engine.py --calibrate benchmarks/calibration.csv      # rows for `energygan plan`
    python benchmarks/bench_engine.py --device cuda --arch paper --runs 4 --concurrent 1 8   # 8 batches side by side
    python benchmarks/bench_engine.py --processes 300 --runs 1 8   # whole jobs: one process per run vs one in all
    python benchmarks/bench_engine.py --device cuda --arch paper --adam engine elementwise fused   # Adam's kernels

The loop is plain PyTorch (nn.Sequential, torch.optim.Adam), one GAN after another, each taking one
step per round: the code the engine replaces. Both train GANs (MLPs, or DCGAN's nets at 32x32 for --arch
dcgan32) on data drawn from a fixed random tensor (28x28 or 32x32 images, or the 8-Gaussian ring for
--arch toy; no dataset needed) with the logistic loss and f = softplus.
On a CUDA device the engine replays each step from a CUDA graph (captured during the warm-up).
--concurrent N: N batches of K runs side by side (energygan.study.training_job: each its own trainer, on its own CUDA
stream), the rate counting all N x K runs. --adam: the engine's Adam by its own rule (engine: the fused
kernel on a GPU for nets of optimizers.FUSED_MIN_RUN_PARAMS or more per run), or forced fused or
elementwise; calibration rows come from `engine` alone. --processes S: whole jobs of S steps from process
start, the loop as a user would run it (one process per run, one after another) against one engine
process for all.
Targets (issue 4): at K = 32, batched >= 3x the loop on CPU and >= 20x on a GPU.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import platform
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import torch
from torch import nn

from energygan import files
from energygan.data import datasets
from energygan.engine import optimizers, step, training
from energygan.engine.spec import Run, Setup
from energygan.study import plan

ARCH = {"default": {"dataset": "mnist", "z_dim": 32, "n_layer_g": 3, "size_g": 256, "n_layer_d": 3, "size_d": 128},
        "paper": {"dataset": "mnist", "z_dim": 100, "n_layer_g": 4, "size_g": 800, "n_layer_d": 3, "size_d": 512},
        # the 2D mixtures' nets
        "toy": {"dataset": "ring8", "z_dim": 8, "n_layer_g": 3, "size_g": 64, "n_layer_d": 3, "size_d": 64},
        # paper.yaml's GAN grid (batch normalization in G, as its runs): its largest architecture and one mid-sized
        "grid_large": {"dataset": "mnist", "z_dim": 100, "n_layer_g": 5, "size_g": 3200, "n_layer_d": 5, "size_d": 1024,
                       "batch_norm": "generator"},
        "grid_mid": {"dataset": "mnist", "z_dim": 100, "n_layer_g": 3, "size_g": 1600, "n_layer_d": 3, "size_d": 512,
                     "batch_norm": "generator"},
        # the default config's convolutional comparison
        "dcgan32": {"dataset": "mnist32", "generator": "dcgan", "discriminator": "dcgan", "z_dim": 32, "n_layer_g": 4,
                    "size_g": 16, "n_layer_d": 4, "size_d": 16, "batch_norm": "both"}}


def fixed_data(dataset: str):
    """60k random images of the dataset's shape (or its mixture): the engine's and the loop's data."""
    spec = datasets.get(dataset)
    if not spec.images:
        return datasets.mixture(dataset)
    return datasets.ImageData((torch.rand(60_000, *spec.shape) * 255).to(torch.uint8), spec)


def plain_gan(arch, device, shape):
    def mlp(widths, act):
        layers = []
        for a, b in itertools.pairwise(widths):
            layers += [nn.Linear(a, b), act()]
        return nn.Sequential(*layers[:-1]).to(device)

    def dcgan(channels, transposed):
        """DCGAN's nets as energygan.engine.convnets builds them, in torch.nn layers."""
        layers, last = [], len(channels) - 2
        for i, (a, b) in enumerate(itertools.pairwise(channels)):
            outer = i == 0 if transposed else i == last          # G's first and D's last: 4x4 <-> 1x1
            normed = i != last if transposed else 0 < i < last
            layers.append((nn.ConvTranspose2d if transposed else nn.Conv2d)(a, b, 4, 1 if outer else 2,
                                                                             0 if outer else 1, bias=not normed))
            layers += [nn.BatchNorm2d(b)] if normed else []
            layers += [] if i == last else [nn.ReLU() if transposed else nn.LeakyReLU(0.2)]
        return nn.Sequential(*layers)
    dim = math.prod(shape)
    if arch.get("generator") == "dcgan":
        n, size = arch["n_layer_g"], arch["size_g"]
        g = nn.Sequential(nn.Unflatten(1, (arch["z_dim"], 1, 1)),
                          dcgan([arch["z_dim"]] + [size * 2 ** (n - 2 - i) for i in range(n - 1)] + [shape[0]], True))
        d = nn.Sequential(dcgan([shape[0]] + [arch["size_d"] * 2 ** i for i in range(arch["n_layer_d"] - 1)] + [1],
                                False), nn.Flatten())
    else:
        g = nn.Sequential(mlp([arch["z_dim"]] + [arch["size_g"]] * (arch["n_layer_g"] - 1) + [dim], nn.ReLU),
                          nn.Unflatten(1, tuple(shape)))
        d = nn.Sequential(nn.Flatten(), mlp([dim] + [arch["size_d"]] * (arch["n_layer_d"] - 1) + [1],
                                            lambda: nn.LeakyReLU(0.2)))
    return g.to(device), d.to(device), torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999)), \
        torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))


def plain_step(gan, data, batch, z_dim, device, activate):
    g, d, opt_g, opt_d = gan
    softplus = nn.functional.softplus
    x_real = data.sample(torch.randint(1 << 30, (1,), device=device), 0, batch)[0]
    x_fake = activate(g(torch.randn(batch, z_dim, device=device))).detach()
    loss_d = softplus(d(x_real)).mean() + softplus(-d(x_fake)).mean()
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    loss_g = softplus(d(activate(g(torch.randn(batch, z_dim, device=device))))).mean()
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


def side_by_side(setup, k, n, data, device):
    """One round: a step of each of n trainers of k runs, each on its own CUDA stream (as
    energygan.study.training_job)."""
    trainers = [training.Trainer(setup, [Run(f"r{i}_{j}", seed=i * k + j) for j in range(k)], data, device)
                for i in range(n)]
    streams = [torch.cuda.Stream() if device.startswith("cuda") else None for _ in trainers]

    def round_():
        for trainer, stream in zip(trainers, streams):
            with torch.cuda.stream(stream) if stream is not None else contextlib.nullcontext():
                trainer.step()
    return round_


@contextlib.contextmanager
def adam_kernel(choice: str, device: str):
    """Trainers made inside use the engine's Adam rule (`engine`), or Adam forced `fused` or `elementwise`."""
    saved = optimizers.FUSED_DEVICES, optimizers.FUSED_MIN_RUN_PARAMS
    if choice == "fused":
        optimizers.FUSED_DEVICES, optimizers.FUSED_MIN_RUN_PARAMS = (torch.device(device).type,), 0
    elif choice == "elementwise":
        optimizers.FUSED_DEVICES = ()
    try:
        yield
    finally:
        optimizers.FUSED_DEVICES, optimizers.FUSED_MIN_RUN_PARAMS = saved


def whole_job(args, worker: str, k: int) -> float:
    """Seconds for a job of --processes steps from process start: `loop` (one run) or `engine` (k runs)."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--worker", worker, "--runs", str(k), "--arch", args.arch,
                    "--device", args.device, "--batch", str(args.batch), "--processes", str(args.processes)],
                   check=True)
    return time.perf_counter() - t0


def worker(args) -> None:
    arch = ARCH[args.arch]
    spec = datasets.get(arch["dataset"])
    data = fixed_data(arch["dataset"]).to(args.device)
    k = args.runs[0]
    if args.worker == "loop":
        gan = plain_gan(arch, args.device, spec.shape)
        for _ in range(args.processes):
            plain_step(gan, data, args.batch, arch["z_dim"], args.device, spec.activate)
    else:
        setup = Setup(**arch, batch_size=args.batch, steps=args.processes)
        training.Trainer(setup, [Run(f"r{i}", seed=i) for i in range(k)], data, args.device).fit()
    sync(args.device)


def calibration_row(args, setup, k, concurrent, run_steps_per_s) -> None:
    """One measured point for `energygan plan`: device, net FLOPs per run-step, runs (K per batch, batches
    side by side), run-steps/s; appended to the table, which is rewritten whole."""
    if args.device.startswith("cuda"):
        name = torch.cuda.get_device_name()
        memory = torch.cuda.get_device_properties(0).total_memory / 1e9
    else:
        name, memory = f"cpu ({torch.get_num_threads()} threads, {platform.machine()})", 0.0
    row = {"device": args.device, "device_name": name, "memory_gb": round(memory, 1), "arch": args.arch, "K": k,
           "concurrent": concurrent, "flops_per_run_step": plan.step_cost(setup)["flops"],
           "run_steps_per_s": run_steps_per_s}
    path = Path(args.calibrate)
    table = pd.concat([plan.read_calibration(path), pd.DataFrame([row])]) if path.exists() else pd.DataFrame([row])
    files.write_csv(table, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--arch", choices=ARCH, default="default")
    parser.add_argument("--runs", type=int, nargs="+", default=[1, 8, 32, 128])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--reuse-fake", action="store_true", help="the engine's G step reuses the D step's fake batch")
    parser.add_argument("--precision", default="fp32", help="the engine's precision (energygan.engine.precision)")
    parser.add_argument("--calibrate", metavar="CSV",
                        help="append the engine's measured rows to this calibration table")
    parser.add_argument("--concurrent", type=int, nargs="+", default=[1], help="batches of K runs side by side")
    parser.add_argument("--processes", type=int, metavar="STEPS",
                        help="whole jobs of STEPS steps, process start included")
    parser.add_argument("--adam", nargs="+", choices=["engine", "fused", "elementwise"], default=["engine"],
                        help="the engine's Adam kernels: its own rule, or forced (calibration rows: engine only)")
    parser.add_argument("--worker", choices=["loop", "engine"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    if args.processes:
        return compare_processes(args)
    arch = ARCH[args.arch]
    spec = datasets.get(arch["dataset"])
    data = fixed_data(arch["dataset"]).to(args.device)
    results = []
    for k in args.runs:
        setup = Setup(**arch, batch_size=args.batch, steps=10 ** 9, reuse_fake=args.reuse_fake,
                               precision=args.precision)
        gans = [plain_gan(arch, args.device, spec.shape) for _ in range(k)]
        loop = timed(lambda gans=gans: [plain_step(gan, data, args.batch, arch["z_dim"], args.device, spec.activate)
                                        for gan in gans], max(1, args.rounds // 2), args.device)
        for n, adam in itertools.product(args.concurrent, args.adam):
            with adam_kernel(adam, args.device):
                round_ = side_by_side(setup, k, n, data, args.device)
            batched = timed(round_, args.rounds, args.device, warmup=step.GRAPH_WARMUP + 2)
            row = {"K": k, "concurrent": n, "adam": adam, "device": args.device, "arch": args.arch,
                   "batched_run_steps_per_s": n * k / batched, "loop_run_steps_per_s": k / loop,
                   "speedup": loop * n / batched}
            results.append(row)
            if args.calibrate and adam == "engine":
                calibration_row(args, setup, k, n, row["batched_run_steps_per_s"])
            print(f"K={k:4d} x {n:2d} side by side, Adam {adam:11s}  batched {row['batched_run_steps_per_s']:9.1f} "
                  f"run-steps/s   loop {row['loop_run_steps_per_s']:9.1f} run-steps/s   "
                  f"speed-up {row['speedup']:6.2f}x", flush=True)
            del round_  # its trainers' memory, before the next
    print(json.dumps(results))


def compare_processes(args) -> None:
    """K runs of --processes steps: K loop processes one after another against one engine process."""
    results = []
    for k in args.runs:
        engine = whole_job(args, "engine", k)
        loop = sum(whole_job(args, "loop", 1) for _ in range(k))
        results.append({"K": k, "steps": args.processes, "device": args.device, "arch": args.arch,
                        "loop_processes_s": loop, "engine_process_s": engine, "speedup": loop / engine})
        print(f"K={k:4d}  {k} loop processes {loop:8.1f} s   one engine process {engine:8.1f} s   "
              f"speed-up {loop / engine:6.2f}x", flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
