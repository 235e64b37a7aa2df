"""The tidy results table: one row per run (its config, status, scores and samples), and per-experiment
tables aggregated over seeds with a confidence interval. Diverged runs keep their rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from energygan import files
from energygan.analysis import quality, scorers
from energygan.data import datasets
from energygan.registry import label
from energygan.report import tables
from energygan.study import runfolder

QUALITY = ["works", *quality.CHECKS]  # whether a run works, and its discriminator's checks (energygan.analysis.quality)
NOT_CONFIG = {"run_id", "seed", "status", "diverged_step", "steps_done", "wall_time_s", "samples", "eval_seed",
              "git_commit", "device", "samples_png", *QUALITY}


def run_row(experiment: str, run_dir: str | Path) -> dict:
    run_dir = Path(run_dir)
    manifest, metrics = runfolder.read_manifest(run_dir), runfolder.read_metrics(run_dir)
    run, setup = manifest["run"], manifest["setup"]
    return {"experiment": experiment, "dataset": setup["dataset"], "run_id": run["run_id"],
            "loss": label(run["loss"]), "f": label(run["f"]), "seed": run["seed"],
            **{k: v for k, v in run.items() if k not in ("run_id", "loss", "f", "seed")},
            **{k: v if not isinstance(v, list) else str(tuple(v)) for k, v in setup.items() if k != "dataset"},
            "status": manifest["status"], "diverged_step": manifest["diverged_step"],
            "steps_done": manifest["steps_done"], "wall_time_s": manifest["wall_time_s"],
            "git_commit": manifest["git_commit"], "device": manifest["device"],
            "samples": metrics["samples"], "eval_seed": metrics["eval_seed"],
            **{k: metrics[k] for k in scorers.of(setup["dataset"]).scores},
            **{k: metrics[k] for k in QUALITY}, "samples_png": str(run_dir / runfolder.SAMPLES)}


def runs_table(run_dirs: dict[str, list[str]]) -> pd.DataFrame:
    """One row per run, experiments in config order; `run_dirs` maps experiment -> run folders.
    Columns: config, status and provenance, then the scores, then the samples' path."""
    table = pd.DataFrame([run_row(exp, d) for exp, dirs in run_dirs.items() for d in dirs])
    scores = [c for c in scorers.ALL_SCORES if c in table.columns]
    rest = [c for c in table.columns if c not in scores and c not in QUALITY and c != "samples_png"]
    return table[rest + scores + QUALITY + ["samples_png"]]


def group_columns(runs: pd.DataFrame) -> list[str]:
    """loss, f, and the other config columns that vary within an experiment (besides the seed)."""
    config = [c for c in runs.columns if c not in NOT_CONFIG and c not in scorers.ALL_SCORES
              and c not in ("experiment", "dataset")]
    return ["loss", "f"] + [c for c in config if c not in ("loss", "f") and runs[c].astype(str).nunique() > 1]


def aggregate(runs: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """Per setting of one experiment: runs, diverged runs, working runs (quality floor), dead
    discriminators, and for each score the mean over the ok runs with a Student-t confidence interval over
    seeds (empty below two finite values)."""
    from scipy import stats  # here, not at the top: the Snakefile imports this module, and scipy takes a second
    scores = list(scorers.of(runs["dataset"].iloc[0]).scores)
    keys = group_columns(runs)
    rows = []
    for values, group in runs.groupby(keys, sort=False):
        row = dict(zip(keys, values if isinstance(values, tuple) else (values,)))
        ok = group[group["status"] == "ok"]
        row.update(runs=len(group), diverged=int((group["status"] == "diverged").sum()),
                   working=int(worked(group).sum()), dead_d=int(dead(group).sum()))
        for score in scores:
            x = ok[score].to_numpy(dtype=float)
            x = x[np.isfinite(x)]
            mean = x.mean() if len(x) else np.nan
            half = (stats.t.ppf(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
                    if len(x) >= 2 else np.nan)
            row.update({score: mean, f"{score}_ci_low": mean - half, f"{score}_ci_high": mean + half})
        rows.append(row)
    return pd.DataFrame(rows)


def worked(runs: pd.DataFrame) -> pd.Series:
    """Whether each run works (clears the quality floor); False for a diverged run."""
    return runs["works"].astype(str).str.lower() == "true"


def dead(runs: pd.DataFrame) -> pd.Series:
    """Whether each run's discriminator is dead (energygan.analysis.quality); False where unknown (diverged)."""
    return runs["d_dead"].astype(str).str.lower() == "true"


def working_label(runs: pd.DataFrame, floor: dict, scorer: scorers.Scorer) -> str:
    """How many of `runs` work and how many discriminators are dead, with the floor in words."""
    return (f"{int(worked(runs).sum())} of {len(runs)} runs work ({scorer.describe(floor)}); "
            f"{int(dead(runs).sum())} dead discriminators")


def with_reference(aggregated: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """The aggregated table with the real-data reference rows on top (setting columns say 'reference')."""
    keys = [c for c in aggregated.columns if c not in reference.columns and not c.endswith(("_ci_low", "_ci_high"))
            and c not in ("runs", "diverged", "working", "dead_d")]
    top = reference.rename(columns={"reference": keys[0]}).drop(columns=["samples"], errors="ignore")
    for key in keys[1:]:
        top[key] = ""
    table = pd.concat([top, aggregated], ignore_index=True)
    return table[list(aggregated.columns) + [c for c in table.columns if c not in aggregated.columns]]


def ranking(aggregated: pd.DataFrame, dataset: str) -> tuple[dict, dict]:
    """(best, worst) rows by the headline score, among settings with at least one scored run."""
    scorer = scorers.of(dataset)
    scored = aggregated.dropna(subset=[scorer.headline]).sort_values(scorer.headline,
                                                                     ascending=not scorer.scores[scorer.headline])
    return scored.iloc[0].to_dict(), scored.iloc[-1].to_dict()


# --- entry points of the summary rules -----------------------------------------------------------

def read_runs(runs_csv) -> pd.DataFrame:
    """runs.csv, as runs_table wrote it; refused by name when cut short or not one."""
    return files.read_csv(runs_csv, ("experiment", "dataset", "status", "loss", "f"), "energygan runs table")


def write_tables(runs_csv, reference_csv, experiment: str, confidence: float, quality_floor: dict, out_csv,
                 out_html) -> pd.DataFrame:
    runs = read_runs(runs_csv)
    runs = runs[runs["experiment"] == experiment]
    aggregated = aggregate(runs, confidence)
    table = with_reference(aggregated, files.read_csv(reference_csv, what="energygan reference table"))
    scorer = scorers.of(runs["dataset"].iloc[0])
    tables.write(table, out_csv, out_html,
                 title=f"{experiment}: mean over seeds, {confidence:.0%} t-interval; reference rows (real data) first; "
                       f"{working_label(runs, quality_floor[scorer.name], scorer)}")
    best, worst = ranking(aggregated, runs["dataset"].iloc[0])
    score = scorer.headline
    keys = group_columns(runs)
    print(f"{experiment}: best by {score}: {[best[k] for k in keys]} ({best[score]:.4g}); "
          f"worst: {[worst[k] for k in keys]} ({worst[score]:.4g})")
    return table


def write_figures(runs_csv, experiment: str, kinds: list[str], outputs: list[str], eval_settings: dict) -> None:
    import torch

    from energygan.analysis import evaluation
    from energygan.report import plots
    runs = read_runs(runs_csv)
    runs = runs[runs["experiment"] == experiment]
    dataset, keys = runs["dataset"].iloc[0], group_columns(runs)
    scores = scorers.of(dataset).scores
    for kind, path in zip(kinds, outputs):
        if kind == "heatmap":
            plots.score_heatmaps(aggregate(runs, 0.95), scores, path, f"{experiment}: mean over seeds")
        elif kind == "points":
            plots.score_points(runs, scores, keys, path, f"{experiment}: every run")
        elif kind == "samples":
            plots.sample_grid(runs, keys, path, f"{experiment}: fixed-noise samples (lowest seed)")
        elif kind == "curves":
            curves = []
            for _, run in runs.iterrows():
                c = files.read_csv(Path(run["samples_png"]).parent / runfolder.CURVES, ("step",),
                                   "energygan curves table")
                curves.append(c.assign(loss=run["loss"], f=run["f"], seed=run["seed"],
                                       setting=plots.setting_label(run, [k for k in keys if k != "loss"])))
            plots.training_curves(pd.concat(curves), path, f"{experiment}: training curves")
        elif kind == "density":
            data = datasets.mixture(dataset)
            samples, marks = {}, {}
            # the lowest seeds of each setting, up to 8 panels in all (one seed each where the settings are many)
            per_setting = max(1, 8 // runs.groupby(keys, sort=False).ngroups)
            shown = [run for _, group in runs.sort_values("seed").groupby(keys, sort=False)
                     for _, run in group.head(per_setting).iterrows()]
            for run in shown:
                generate = runfolder.load_generator(Path(run["samples_png"]).parent / runfolder.GENERATOR)
                z = evaluation.evaluation_noise(eval_settings["plot_samples"], int(run["z_dim"]), eval_settings["seed"])
                # a row per loss, a column per setting of the rest (f, and what else the experiment varies)
                setting = plots.setting_label(run, [k for k in keys if k != "loss"])
                panel = run["loss"], setting + (f", seed {run['seed']}" if per_setting > 1 else "")
                samples[panel] = torch.nan_to_num(generate(z), nan=99.0)
                marks[panel] = plots.quality_mark(run)
            plots.mixture_samples(samples, marks, data, path, f"{experiment}: samples (red) over the density of P")
        else:
            raise ValueError(f"unknown figure kind {kind!r}; "
                             f"known: {sorted(['curves', 'density', 'heatmap', 'points', 'samples'])}")
