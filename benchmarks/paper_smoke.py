"""A paper-sized smoke run: one shard of the paper config's MNIST (loss, f) experiment, for a few
steps, on the device given; reports steps/s and extrapolates to the full paper training length.
Also checks batched = alone on that device (the tests check it on the CPU).

    python benchmarks/paper_smoke.py --device cuda --steps 300
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import torch
import yaml

from energygan.data import datasets
from energygan.engine import training
from energygan.study import experiments


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--config", default="config/paper.yaml")
    parser.add_argument("--prepared", default="data/mnist/prepared")
    args = parser.parse_args()
    config = yaml.safe_load(Path(args.config).read_text())
    shard = next(s for s in experiments.shards(config) if s.experiment == "mnist_loss_f")
    batch = shard.batches[0]
    setup = dataclasses.replace(batch.setup, steps=args.steps)
    data = datasets.load(setup.dataset, args.prepared)
    trainer = training.Trainer(setup, list(batch.runs), data, args.device)
    t0 = time.perf_counter()
    trainer.fit()
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - t0
    full = batch.setup.steps
    report = {"device": args.device, "runs": len(batch.runs), "steps": args.steps, "seconds": round(elapsed, 2),
              "steps_per_s": round(args.steps / elapsed, 2),
              "run_steps_per_s": round(len(batch.runs) * args.steps / elapsed, 1),
              "status": {s: trainer.progress.status.count(s) for s in set(trainer.progress.status)},
              "hours_for_paper_length_shard": round(full / (args.steps / elapsed) / 3600, 2),
              "final_d_loss_mean": float(trainer.curves(0)["d_loss"].iloc[-1])}
    # batched = alone on this device: runs 0 and 3 of the shard trained alone, after 1 and 50 steps
    for steps in (1, 50):
        short = dataclasses.replace(setup, steps=steps)
        together = training.Trainer(short, list(batch.runs[:4]), data, args.device)
        together.fit()
        diffs = []
        for k in (0, 3):
            alone = training.Trainer(short, [batch.runs[k]], data, args.device)
            alone.fit()
            diffs.append(max((a[k] - b[0]).abs().max().item()
                             for a, b in zip(together.G.parameters(), alone.G.parameters())))
        report[f"batched_vs_alone_max_abs_diff_after_{steps}_steps"] = max(diffs)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
