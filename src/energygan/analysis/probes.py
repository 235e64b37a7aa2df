"""Is a trained discriminator an energy? Probes of a run's learned s(x) (low on data, high on fakes), at the
end of training and at its snapshots.

On the 2D mixtures p is known and q is the kernel estimate that evaluation uses (bandwidth = the modes'
std) from the run's own samples. On a fixed grid over the plane, weighted by (p + q)/2, and on samples of
P and Q (draws from (P + Q)/2), s is compared with
- the data's energy E_P = -log p,
- the closed-form optimum s*(p, q) of the run's own loss,
- the energy difference E_P - E_Q = log q/p,
as weighted Pearson and Spearman correlations, and with s* also as a weighted relative error.

On MNIST p is unknown: the question becomes whether s is lower on held-out test digits than off the data
manifold, as the area under the ROC curve of s against uniform noise, pixel-shuffled and inverted digits,
and the run's own samples (1: every off-manifold input scores above every digit; 0.5: no separation).

EBGAN's Theorem 2 (at equilibrium s is one constant in [0, m] on the data's support): the standard deviation
of s on the data, in units of the margin m for a margin loss (`spread_in_margins`, what the claim uses), the
energy gap (mean s on the samples minus on the data, `gap_in_margins`), and,
comparable across losses, relative to its standard deviation on the data pooled with inputs off it (the
plane, or every MNIST probe input: `flatness`, which such far inputs as noise can make small). 0 for a
constant s.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pandas as pd
import torch

from energygan import files, rng
from energygan.analysis import evaluation, fixed_q, scorers
from energygan.analysis.statistics import superiority, weighted_pearson, weighted_relative_error, weighted_spearman
from energygan.data import datasets
from energygan.engine import losses
from energygan.engine.spec import Setup
from energygan.registry import label, parse
from energygan.study import runfolder

TARGETS = ("energy", "optimum", "energy_difference")  # E_P = -log p, s*(p, q), E_P - E_Q = log q/p
# besides s, the composed energy E_Q + s (Che et al. 2020: exact where s = s* = log q/p, the logistic loss) is
# compared with E_P
OFF_MANIFOLD = ("noise", "shuffled", "inverted", "samples")


# --- what s is compared with ---------------------------------------------------------------------

def plane(extent: float, points: int) -> torch.Tensor:
    """A square grid [points^2, 2] over [-extent, extent]^2."""
    axis = torch.linspace(-extent, extent, points, dtype=torch.float64)
    return torch.cartesian_prod(axis, axis)


def targets(loss, log_p: torch.Tensor, log_q: torch.Tensor) -> dict[str, torch.Tensor]:
    """E_P, s* and log q/p from log densities. Every registered loss's s* depends on q/p only (tested), so
    s* is taken from p and q scaled by max(p, q) at each point: finite where both densities underflow."""
    top = torch.maximum(log_p, log_q)
    return {"energy": -log_p, "optimum": loss.optimum((log_p - top).exp(), (log_q - top).exp()),
            "energy_difference": log_q - log_p}


def agreement(s: torch.Tensor, target: torch.Tensor, weights: torch.Tensor, prefix: str, error: str | None) -> dict:
    """Weighted correlations of s with a target (and the relative error: `error` "exact", or "up_to_constant"
    for an energy), over the points where the target is finite; the weight left out (s* = log q/p or q/p
    overflows far from both densities) is reported as `excluded`."""
    finite = torch.isfinite(target) & torch.isfinite(s)
    w = weights * finite
    out = {f"{prefix}_excluded": 1 - (w.sum() / weights.sum()).item()}
    args = (s[finite], target[finite], w[finite])
    out[f"{prefix}_pearson"] = weighted_pearson(*args) if finite.any() else math.nan
    out[f"{prefix}_spearman"] = weighted_spearman(*args) if finite.any() else math.nan
    if error:
        out[f"{prefix}_relative_error"] = (weighted_relative_error(*args, up_to_constant=error == "up_to_constant")
                                           if finite.any() else math.nan)
    return out


def flatness(s_on_data: torch.Tensor, s_reference: torch.Tensor) -> dict:
    """Spread of s on the data, raw and relative to its spread on the reference inputs (0 if constant)."""
    spread, reference = s_on_data.double().std().item(), s_reference.double().std().item()
    return {"spread_on_p": spread, "flatness": 0.0 if spread == 0 else spread / reference}


def levels(s_data: torch.Tensor, s_samples: torch.Tensor) -> dict:
    """Mean s on the data and on the run's samples (their difference is the energy gap)."""
    return {"s_mean_p": s_data.double().mean().item(), "s_mean_q": s_samples.double().mean().item()}


# --- one run at one step --------------------------------------------------------------------------

def probe_mixture(discrepancy, generate, loss, data, z_dim: int, settings: dict, eval_seed: int,
                  energy_scale: float = 1.0) -> tuple[dict, dict]:
    """Every 2D probe of one (G, D) pair, and the maps of s, E_Q + s, s* and E_P over the plane (for the
    figure); nothing where G's samples are not finite. `energy_scale`: what s is an energy in units of (the
    calibrated EBGAN's entropy weight w: at its equilibrium s = w E_P + c); s / energy_scale is compared with
    E_P in value, up to a constant."""
    kde = generate(evaluation.evaluation_noise(settings["kde_samples"], z_dim, eval_seed)).double()
    x_q = generate(evaluation.evaluation_noise(settings["samples"], z_dim, settings["seed"])).double()
    x_p = data.sample(torch.tensor([settings["seed"]]), rng.PROBES, settings["samples"])[0].double()
    # D takes float32: the targets are computed at the same, float32-rounded points
    grid = plane(settings["plane"]["extent"], settings["plane"]["points"]).float().double()
    if not (torch.isfinite(kde).all() and torch.isfinite(x_q).all()):
        return {}, {}
    row, maps = {}, {}
    for name, points in (("plane", grid), ("samples", torch.cat([x_p, x_q]))):
        log_p = data.log_density(points)
        log_q = datasets.log_gaussian_mixture(points, kde, data.std)
        # the plane's points weighted by the density (p + q)/2; the samples are draws from it
        weights = (log_p.exp() + log_q.exp()) / 2 if name == "plane" else torch.ones(len(points), dtype=torch.float64)
        s = discrepancy(points.float()).double()
        compared = targets(loss, log_p, log_q)
        for target, values in compared.items():
            error = {"optimum": "exact", "energy": None}.get(target)
            row.update(agreement(s, values, weights, f"{name}_{target}", error=error))
        row.update(agreement(s / energy_scale, compared["energy"], weights, f"{name}_scaled_energy", "up_to_constant"))
        composed = s - log_q  # E_Q + s
        row.update(agreement(composed, compared["energy"], weights, f"{name}_composed", "up_to_constant"))
        if name == "plane":
            maps = {"s": s, "composed": composed, "optimum": compared["optimum"], "energy": compared["energy"]}
    s_p, s_q = discrepancy(x_p.float()), discrepancy(x_q.float())
    row.update(flatness(s_p, torch.cat([maps["s"], s_p.double()])))
    row.update(levels(s_p, s_q))
    return row, maps


def off_manifold(digits: torch.Tensor, seed: int) -> dict[str, torch.Tensor]:
    """Inputs off the data manifold made from nothing but the test digits [N, 784] in [0, 1]: uniform noise,
    each digit's pixels in a random order of its own, and the inverted digits 1 - x."""
    keys = torch.tensor([seed])
    noise = rng.uniform(keys, rng.PROBES, 1, tuple(digits.shape))[0]
    order = rng.uniform(keys, rng.PROBES, 2, tuple(digits.shape))[0].argsort(1)
    return {"noise": noise, "shuffled": digits.gather(1, order), "inverted": 1 - digits}


def probe_images(discrepancy, generate, digits: torch.Tensor, z_dim: int, settings: dict,
                 dataset: datasets.Dataset) -> dict:
    """AUROC of s separating test digits (low) from each off-manifold set (high), and s's flatness on digits.
    `digits` [N, pixels] in [0, 1], given to s in the range the run was trained on."""
    s_data = discrepancy(dataset.from_unit(digits))
    scores = {name: discrepancy(dataset.from_unit(x)) for name, x in off_manifold(digits, settings["seed"]).items()}
    scores["samples"] = discrepancy(generate(evaluation.evaluation_noise(len(digits), z_dim, settings["seed"])))
    if not all(torch.isfinite(s).all() for s in [s_data, *scores.values()]):
        return {}
    row = {f"auroc_{name}": superiority(s.numpy(), s_data.numpy()) for name, s in scores.items()}
    row.update(flatness(s_data, torch.cat([s_data, *scores.values()])))
    row.update(levels(s_data, scores["samples"]))
    return row


# --- the job: every run of an experiment, at every snapshot ---------------------------------------

def checkpoints(run_dir: Path, manifest: dict) -> list[tuple[int, Path]]:
    """(step, folder holding generator.pt and discriminator.pt) for each snapshot and the end of training."""
    setup = Setup.from_dict(manifest["setup"])
    return [(step, runfolder.snapshot_dir(run_dir, step)) for step in setup.snapshot_steps] + [(setup.steps, run_dir)]


def run_columns(experiment: str, manifest: dict) -> dict:
    run, setup = manifest["run"], manifest["setup"]
    return {"experiment": experiment, "run_id": run["run_id"], "dataset": setup["dataset"],
            "discriminator": setup["discriminator"], "loss_name": parse(run["loss"])[0], "loss": label(run["loss"]),
            "f": label(run["f"]), "pt_weight": run["pt_weight"], "entropy_weight": run.get("entropy_weight", 0.0),
            "seed": run["seed"], "status": manifest["status"]}


def probe_experiment(experiment: str, run_dirs: list[str], settings: dict, eval_seed: int,
                     prepared_dir: str | None, out_csv: str, figure: str) -> pd.DataFrame:
    """One row per run and checkpoint into `out_csv`; for a 2D experiment, the `figure` of s and the composed
    energy E_Q + s beside s* and E_P over the plane, at the end of the first seed's runs: of each loss, its runs
    with f = settings["figure_f"] (every f of a loss that has none with it)."""
    first = runfolder.read_manifest(run_dirs[0])
    spec = datasets.get(first["setup"]["dataset"])
    images = scorers.of(spec.name).reads_evaluator
    if images:
        test = datasets.load(spec.name, prepared_dir, split="test").images.float().div(255)
        pick = rng.integers(torch.tensor([settings["seed"]]), rng.PROBES, 0, (settings["samples"],), len(test))[0]
        digits = test[pick].flatten(1)
    else:
        data = datasets.mixture(spec.name)
    rows, panels, data_shape = [], [], spec.shape
    fresh = settings.get("fixed_q")
    if fresh:  # a fresh D at a fixed Q trains on the training split (MNIST) or fresh draws of P (2D)
        p_sample = datasets.load(spec.name, prepared_dir, split="train").sample if images else data.sample
    for run_dir in map(Path, run_dirs):
        manifest = runfolder.read_manifest(run_dir)
        z_dim, steps = manifest["setup"]["z_dim"], manifest["setup"]["steps"]
        own_loss, own_scale = losses.make(manifest["run"]["loss"]), manifest["run"].get("entropy_weight") or 1.0

        def probe(discrepancy, generate, loss=own_loss, energy_scale=own_scale, z_dim=z_dim):
            """`loss`, `energy_scale`: the run's own (its entropy weight w), or a fresh D's (no entropy term)."""
            if images:
                row, maps = probe_images(discrepancy, generate, digits, z_dim, settings, spec), {}
            else:
                row, maps = probe_mixture(discrepancy, generate, loss, data, z_dim, settings, eval_seed, energy_scale)
            if loss.name == "hinge" and "spread_on_p" in row:  # Theorem 2's scale: s is in [0, m]
                row["spread_in_margins"] = row["spread_on_p"] / loss.margin
                row["gap_in_margins"] = (row["s_mean_q"] - row["s_mean_p"]) / loss.margin
            return row, maps
        kept = checkpoints(run_dir, manifest)
        works = runfolder.read_metrics(run_dir)["works"] if manifest["status"] == "ok" else False
        for step, folder in kept:
            row = {**run_columns(experiment, manifest), "step": step, "fraction": step / steps}
            if step == steps:  # the scoring job's marks: whether the run works, whether its D is dead
                metrics = runfolder.read_metrics(run_dir)
                row.update(works=metrics["works"], d_dead=metrics["d_dead"])
            if step == steps and manifest["status"] != "ok":
                rows.append(row)
                continue
            generate = runfolder.load_generator(runfolder.adversary(folder))  # what D was trained against
            probed, maps = probe(runfolder.load_discriminator(folder / runfolder.DISCRIMINATOR), generate)
            row.update(probed)
            if step == steps and maps:
                panels.append((row, maps))
            # a fresh D of each kind at the frozen Q of a run that works (the claims read no other)
            if fresh and works and (step == steps or fresh["every_checkpoint"]):
                smoothed = {} if images else {"bandwidth": data.std, "centres": generate(
                    evaluation.evaluation_noise(settings["kde_samples"], z_dim, eval_seed))}  # probe_mixture's q
                p, q = fixed_q.pools(p_sample, generate, z_dim, fresh["pool"], settings["seed"], **smoothed)
                if torch.isfinite(q).all():
                    for kind, recipe in fresh["discriminators"].items():
                        discrepancy, fit = fixed_q.train(fixed_q.record(recipe, data_shape), recipe["loss"], p, q,
                                                         fresh, settings["seed"])
                        probed_fresh = probe(discrepancy, generate, losses.make(recipe["loss"]), 1.0)[0]
                        row.update(fixed_q.prefixed(kind, {**probed_fresh, **fit}))
            rows.append(row)
        print(f"{run_dir.name}: probed {len(kept)} checkpoints", file=sys.stderr)
    table = pd.DataFrame(rows)
    files.write_csv(table, out_csv)
    if not images:
        from energygan.report import plots
        first_seed = min(row["seed"] for row, _ in panels) if panels else None
        shown = [(row, maps) for row, maps in panels if row["seed"] == first_seed]
        with_f = {row["loss"] for row, _ in shown if row["f"] == settings["figure_f"]}
        shown = [(row, maps) for row, maps in shown if row["f"] == settings["figure_f"] or row["loss"] not in with_f]
        plots.energy_maps(shown, settings["plane"], data.means, figure,
                          f"{experiment}: the learned s and the composed energy E_Q + s beside its loss's s* "
                          "and the data's energy -log p")
    return table
