"""Which EBGAN recipes train on the 2D mixtures? Each recipe of `sweep_2d_ebgan.yaml` (a base and the settings
it changes) trains on ring8 or grid25 with several seeds in one batch, in the engine the pipeline uses, and at
each checkpoint every run is scored as the scoring jobs score it (modes covered, share of samples within 3
std of a mode, the quality floor of config/config.yaml) and its D probed as the probes read it (the weighted
Spearman correlation of s with E_P = -log p over the plane). One CSV per recipe and mixture, a sample figure
over training (the first four seeds), and a summary table:

    python benchmarks/sweep_2d_ebgan.py run --dataset ring8 --recipes plain_ae_code64 dai_clipped --seeds 0-7
    python benchmarks/sweep_2d_ebgan.py table        # benchmarks/measured/sweep_2d_ebgan.{csv,md}

`run` takes one core (torch.set_num_threads(1)): start two at once on a 2-core machine. A recipe already
measured with the same settings, seeds and checkpoints is skipped.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import torch
import yaml

from energygan.analysis import evaluation, probes, scorers
from energygan.data import datasets
from energygan.engine import losses, models, saved
from energygan.engine.spec import Run, Setup
from energygan.engine.training import Trainer

HERE = Path(__file__).parent
RECIPES = HERE / "sweep_2d_ebgan.yaml"
OUT = HERE / "measured" / "sweep_2d_ebgan"
CONFIG = HERE.parent / "config" / "config.yaml"


def recipe(name: str) -> dict:
    """{setup, run} of a named recipe: its base's settings with its own over them."""
    spec = yaml.safe_load(RECIPES.read_text())
    if name not in spec["recipes"]:
        raise SystemExit(f"no recipe {name!r} in {RECIPES}; known: {sorted(spec['recipes'])}")
    own = spec["recipes"][name]
    base = spec["bases"][own["base"]]
    return {part: {**base.get(part, {}), **own.get(part, {})} for part in ("setup", "run")}


def seeds(text: str) -> list[int]:
    low, _, high = text.partition("-")
    return list(range(int(low), int(high or low) + 1))


def one_run(trainer: Trainer, k: int):
    """Run k's generator (sampled as the saved one is: evaluation mode) and discriminator, alone."""
    g, _ = saved.rebuild(trainer.generator_state(k), "generator")
    d, meta = saved.rebuild(trainer.discriminator_state(k), "discriminator")
    g.eval(), d.eval().requires_grad_(False)
    how, dataset = models.Parametrisations([meta["parametrisation"]]), trainer.dataset

    @torch.no_grad()
    def generate(z):
        return dataset.activate(g(z[None])[0])

    def discrepancy(x):
        return models.stacked_discrepancy(d, x.reshape(1, len(x), *dataset.shape), how)[0][0]
    return generate, discrepancy


def score(trainer: Trainer, config: dict) -> tuple[list[dict], list]:
    """Each run's scores and probe now, and its samples for the figure."""
    evaluation_settings, probe_settings = config["evaluation"], config["title_question"]
    data, dataset = trainer.data, trainer.dataset.name
    p_samples = evaluation.target_samples(data, evaluation_settings)
    floor = evaluation_settings["quality_floor"][scorers.of(dataset).name]
    rows, samples = [], []
    for k, run in enumerate(trainer.runs):
        generate, discrepancy = one_run(trainer, k)
        noise = evaluation.evaluation_noise(evaluation_settings["samples"], trainer.setup.z_dim,
                                            evaluation_settings["seed"])
        x = generate(noise)
        row = {"seed": run.seed, "status": trainer.progress.status[k]}
        if torch.isfinite(x).all():
            scores = evaluation.mixture_scores(x, data, p_samples, evaluation_settings["min_share"])
            row.update(modes_covered=scores["modes_covered"], high_quality_share=scores["high_quality_share"],
                       kl_p_q=scores["kl_p_q"],
                       works=scorers.of(dataset).works(scores, floor, {"modes": len(data.means)}))
            with torch.no_grad():
                probed, _ = probes.probe_mixture(discrepancy, generate, losses.make(run.loss), data,
                                                 trainer.setup.z_dim, probe_settings, evaluation_settings["seed"],
                                                 run.entropy_weight or 1.0)
            row.update(rho_energy=probed.get("plane_energy_spearman", math.nan),
                       rho_energy_difference=probed.get("plane_energy_difference_spearman", math.nan))
        rows.append(row)
        samples.append(x[:evaluation_settings["plot_samples"]])
    return rows, samples


def figure(snapshots: list, means: torch.Tensor, title: str, path: Path) -> None:
    """Samples of the first four seeds (rows) at each checkpoint (columns), the modes in red."""
    seeds_shown = min(4, len(snapshots[0][1]))
    fig, axes = plt.subplots(seeds_shown, len(snapshots), figsize=(2.2 * len(snapshots), 2.2 * seeds_shown),
                             squeeze=False)
    extent = means.abs().max().item() + 1
    for column, (step, samples, rows) in enumerate(snapshots):
        for k in range(seeds_shown):
            ax = axes[k][column]
            ax.scatter(*samples[k].T.cpu(), s=1, alpha=0.4)
            ax.scatter(*means.T.cpu(), s=6, c="red")
            ax.set(xlim=(-extent, extent), ylim=(-extent, extent), xticks=[], yticks=[])
            row = rows[k]
            ax.set_title(f"step {step}, seed {row['seed']}\n{'works' if row.get('works') else 'fails'}: "
                         f"{row.get('modes_covered', '-')} modes, {row.get('high_quality_share', math.nan):.0%}",
                         fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    small(path)


def small(path: Path) -> None:
    """The figure in 16 colours: a quarter of the bytes, kept in the repository."""
    from PIL import Image
    Image.open(path).convert("RGB").quantize(colors=16).save(path, optimize=True)


def run(dataset: str, name: str, run_seeds: list[int], checks: list[int], config: dict) -> None:
    spec = recipe(name)
    setup = Setup.from_dict({**spec["setup"], "dataset": dataset, "steps": max(checks)})
    csv = OUT / f"{dataset}__{name}.csv"
    settings = json.dumps({"setup": spec["setup"], "run": spec["run"]}, sort_keys=True)
    if csv.exists():
        done = pd.read_csv(csv)
        if (done["settings"].iloc[0] == settings and sorted(done["seed"].unique()) == run_seeds
                and sorted(done["step"].unique()) == checks):
            print(f"{dataset} {name}: measured already ({csv})")
            return
    runs = [Run(run_id=f"seed={s}", seed=s, **spec["run"]) for s in run_seeds]
    trainer = Trainer(setup, runs, datasets.load(dataset))
    rows, snapshots, trained, t0 = [], [], 0.0, time.time()
    while not trainer.done:
        trainer.step()
        if trainer.progress.step in checks:
            trained += time.time() - t0
            scored, samples = score(trainer, config)
            step = trainer.progress.step
            rows += [{"dataset": dataset, "recipe": name, "step": step, **row,
                      "train_s_per_run_step": trained / (step * len(runs)), "settings": settings} for row in scored]
            snapshots.append((step, samples, scored))
            working = sum(bool(r.get("works")) for r in scored)
            print(f"{dataset} {name} step {step}: {working}/{len(runs)} work, modes "
                  f"{[r.get('modes_covered') for r in scored]}, rho(s, E_P) "
                  f"{[round(r.get('rho_energy', math.nan), 2) for r in scored]}, {trained:.0f} s training", flush=True)
            t0 = time.time()
    OUT.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(csv, index=False)
    figure(snapshots, trainer.data.means, f"{dataset}: {name}", OUT / f"{dataset}__{name}.png")


def table() -> pd.DataFrame:
    """Per mixture, recipe and checkpoint: working seeds, and the medians over seeds of modes covered, the
    near-mode share and rho(s, E_P) (over the working seeds); what each recipe changes from its base."""
    measured = pd.concat([pd.read_csv(p) for p in sorted(OUT.glob("*.csv"))], ignore_index=True)
    spec = yaml.safe_load(RECIPES.read_text())
    grouped = measured.groupby(["dataset", "recipe", "step"], sort=False)
    summary = grouped.agg(seeds=("seed", "size"), working=("works", lambda w: int(w.fillna(False).astype(bool).sum())),
                          modes_median=("modes_covered", "median"), near_mode_median=("high_quality_share", "median"),
                          ms_per_run_step=("train_s_per_run_step", lambda t: 1000 * t.iloc[0]))
    rho = measured[measured["works"].fillna(False).astype(bool)].groupby(["dataset", "recipe", "step"])["rho_energy"]
    summary["rho_energy_median_working"] = rho.median()
    summary = summary.reset_index()
    summary.insert(2, "changes", [json.dumps({k: v for part in ("setup", "run")
                                              for k, v in spec["recipes"][r].get(part, {}).items()})
                                  + f" on {spec['recipes'][r]['base']}"
                                  for r in summary["recipe"]])
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    go = sub.add_parser("run", help="train and score recipes")
    go.add_argument("--dataset", choices=["ring8", "grid25"], required=True)
    go.add_argument("--recipes", nargs="+", required=True)
    go.add_argument("--seeds", default="0-3", help="first-last (inclusive)")
    go.add_argument("--checks", default="2000,4000,6000,8000,10000", help="steps at which runs are scored")
    sub.add_parser("table", help="summarise every measured recipe")
    args = parser.parse_args()
    if args.command == "run":
        torch.set_num_threads(1)
        config = yaml.safe_load(CONFIG.read_text())
        for name in args.recipes:
            run(args.dataset, name, seeds(args.seeds), sorted(map(int, args.checks.split(","))), config)
    else:
        summary = table()
        summary.to_csv(HERE / "measured" / "sweep_2d_ebgan.csv", index=False)
        (HERE / "measured" / "sweep_2d_ebgan.md").write_text(summary.to_markdown(index=False, floatfmt=".3g") + "\n")
        print(summary.to_string(index=False))


if __name__ == "__main__":
    main()
