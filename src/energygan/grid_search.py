"""EBGAN's MNIST grid search (paper section 4.1): which runs form each family (GAN, EBGAN, EBGAN-PT), the
score histograms of its Figures 2 and 3, a summary table per family, and the paper's claims as verdicts
computed from an effect size with a bootstrap interval.

The score is EBGAN's I' (`ebgan_score`, higher is better). A diverged run, or one left without a score,
counts as worse than every scored run: it is never dropped.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from . import files, report, summary
from .statistics import bootstrap_interval, superiority

SCORE = "ebgan_score"
FAMILIES = ("GAN", "EBGAN", "EBGAN-PT")  # the paper's families, the keys of the config's grid_search.families
VERDICTS = ("supported", "refuted", "not established at this scale")


def matches(runs: pd.DataFrame, where: dict) -> pd.Series:
    """Rows whose columns equal every value of `where` (numbers compared with a relative 1e-9)."""
    keep = pd.Series(True, index=runs.index)
    for column, value in where.items():
        if column not in runs.columns:
            raise ValueError(f"grid_search: no column {column!r} in runs.csv to select {where}; "
                             f"columns: {sorted(runs.columns)}")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            keep &= np.isclose(runs[column].astype(float), value, rtol=1e-9, atol=0)
        else:
            keep &= runs[column].astype(str) == str(value)
    return keep


def family_runs(runs: pd.DataFrame, families: dict) -> pd.DataFrame:
    """The runs of every family, with a `family` column, in the order of FAMILIES (a config's key order
    does not survive the JSON settings, whose keys are sorted)."""
    parts = []
    for name in FAMILIES:
        spec = families[name]
        selected = runs[(runs["experiment"] == spec["experiment"]) & matches(runs, spec.get("where", {}))]
        parts.append(selected.assign(family=name))
    return pd.concat(parts, ignore_index=True)


def depth_subset(runs: pd.DataFrame, limit: int | None) -> pd.DataFrame:
    """Figure 2 (b), (c): runs with nLayerG and nLayerD both at most `limit` (None: all runs)."""
    if limit is None:
        return runs
    return runs[(runs["n_layer_g"] <= limit) & (runs["n_layer_d"] <= limit)]


def scores_for_ranking(runs: pd.DataFrame) -> np.ndarray:
    """I' per run; -inf for a diverged or unscored run (below every score)."""
    score = runs[SCORE].to_numpy(dtype=float).copy()
    score[(runs["status"] != "ok").to_numpy() | ~np.isfinite(score)] = -math.inf
    return score


def verdict(low: float, high: float, runs_a: int, runs_b: int, min_runs: int) -> str:
    """'supported' when the interval lies above 0.5, 'refuted' when below, else not established (also
    with fewer than `min_runs` runs on either side)."""
    if min(runs_a, runs_b) < min_runs:
        return VERDICTS[2]
    return VERDICTS[0] if low > 0.5 else VERDICTS[1] if high < 0.5 else VERDICTS[2]


def compare(claim: str, a: pd.DataFrame, b: pd.DataFrame, names: tuple[str, str], settings: dict, scale: str) -> dict:
    """One verdict row: does a run of A score higher than a run of B?"""
    sa, sb = scores_for_ranking(a), scores_for_ranking(b)
    row = {"claim": claim, "A": names[0], "B": names[1], "runs_A": len(sa), "runs_B": len(sb),
           "diverged_A": int((a["status"] != "ok").sum()), "diverged_B": int((b["status"] != "ok").sum()),
           "P(A > B)": math.nan, "ci_low": math.nan, "ci_high": math.nan, "median_A": math.nan, "median_B": math.nan}
    if len(sa) and len(sb):
        low, high = bootstrap_interval(superiority, (sa, sb), settings["confidence"], settings["bootstrap"],
                                       settings["seed"])
        row.update({"P(A > B)": superiority(sa, sb), "ci_low": low, "ci_high": high,
                    "median_A": float(np.median(sa)), "median_B": float(np.median(sb))})
    row["verdict"] = verdict(row["ci_low"], row["ci_high"], len(sa), len(sb), settings["min_runs"])
    row["scale"] = scale
    return row


def claims(runs: pd.DataFrame, spec: dict, scale: str) -> pd.DataFrame:
    """The paper's grid-search claims (and the ablation's questions), one row each."""
    families = family_runs(runs, spec["families"])
    gan, ebgan, ebgan_pt = (families[families["family"] == name] for name in FAMILIES)
    settings = spec["verdicts"]
    rows = []
    for limit in [None, *spec["depth_limits"]]:
        where = "all runs" if limit is None else f"nLayerG and nLayerD <= {limit}"
        rows.append(compare(f"EBGAN's I' lies to the right of GAN's ({where}; Figure 2)", depth_subset(ebgan, limit),
                            depth_subset(gan, limit), ("EBGAN", "GAN"), settings, scale))
    rows.append(compare("EBGAN-PT scores higher than EBGAN (Figure 4)", ebgan_pt, ebgan, ("EBGAN-PT", "EBGAN"),
                        settings, scale))
    fair = gan[matches(gan, spec["fair"])]
    label = ", ".join(f"{k}={v}" for k, v in spec["fair"].items())
    rows.append(compare(f"EBGAN beats GAN trained with EBGAN's optimiser settings ({label})", ebgan, fair,
                        ("EBGAN", f"GAN ({label})"), settings, scale))
    if "ablation" in spec:
        ablation = runs[runs["experiment"] == spec["ablation"]["experiment"]]
        for column, (value_a, value_b) in spec["ablation"]["factors"].items():
            a, b = (ablation[matches(ablation, {column: v})] for v in (value_a, value_b))
            rows.append(compare(f"ablation: {column} = {value_a} scores higher than {value_b} (other factors pooled)",
                                a, b, (f"{column}={value_a}", f"{column}={value_b}"), settings, scale))
    return pd.DataFrame(rows)


def family_table(runs: pd.DataFrame, real_score: float, thresholds: list[float],
                 quantiles=(0.1, 0.25, 0.5, 0.75, 0.9)) -> pd.DataFrame:
    """Per family: runs, diverged, the share of runs that work (quality floor) and the dead
    discriminators, quantiles of I' and of the Frechet distance over the scored runs, and the share of all
    runs (diverged included) whose I' exceeds each fraction of real data's I'."""
    rows = []
    for name, group in runs.groupby("family", sort=False):
        ok = group[(group["status"] == "ok") & np.isfinite(group[SCORE].astype(float))]
        row = {"family": name, "runs": len(group), "diverged": int((group["status"] != "ok").sum()),
               "working": float(summary.worked(group).mean()), "dead_d": int(summary.dead(group).sum())}
        for column, short in ((SCORE, "I'"), ("frechet_distance", "FD")):
            values = ok[column].to_numpy(dtype=float)
            for q in quantiles:
                row[f"{short} q{q:g}"] = float(np.quantile(values, q)) if len(values) else math.nan
        for fraction in thresholds:
            row[f"share I' > {fraction:g} x real ({fraction * real_score:.3g})"] = \
                float((scores_for_ranking(group) > fraction * real_score).mean())
        rows.append(row)
    return pd.DataFrame(rows)


def ablation_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Discriminator x loss of the ablation: runs, diverged, working runs, dead discriminators, median and
    quartiles of I' (diverged runs count as below every score, so a cell with many diverged runs has a low
    median)."""
    rows = []
    for (disc, loss, f), group in runs.groupby(["discriminator", "loss", "f"], sort=False):
        score = scores_for_ranking(group)
        q1, median, q3 = np.quantile(score, [0.25, 0.5, 0.75])
        rows.append({"discriminator": disc, "loss": loss, "f": f, "runs": len(group),
                     "diverged": int((group["status"] != "ok").sum()), "working": int(summary.worked(group).sum()),
                     "dead_d": int(summary.dead(group).sum()), "I' q0.25": q1, "I' median": median, "I' q0.75": q3})
    return pd.DataFrame(rows)


def histogram(scores: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, float]:
    """(percentage of runs per bin, percentage diverged or unscored): every run counted exactly once.
    Scores beyond the outer edges fall into the first or last bin."""
    scores = np.asarray(scores, dtype=float)
    failed = ~np.isfinite(scores)
    index = np.clip(np.searchsorted(edges, scores[~failed], side="right") - 1, 0, len(edges) - 2)
    counts = np.bincount(index, minlength=len(edges) - 1)
    total = max(len(scores), 1)
    return 100.0 * counts / total, 100.0 * failed.sum() / total


# --- the rule's entry point ------------------------------------------------------------------------

def margin_of(loss_label: str) -> float:
    """The margin m from a hinge loss's label (`hinge_margin10` -> 10)."""
    return float(re.fullmatch(r"hinge_margin(.+)", loss_label)[1])


def scale_label(runs: pd.DataFrame, experiment: str, grid_size: int) -> str:
    subset = runs[runs["experiment"] == experiment]
    steps = "/".join(str(s) for s in sorted(subset["steps"].unique()))
    return f"{experiment}: {len(subset)} of {grid_size} grid runs, {steps} steps"


def write_outputs(runs_csv, reference_csv, spec: dict, grid_sizes: dict, out_dir) -> None:
    """Verdicts, the family and ablation tables, Figures 2-4 and the margin sweep, into `out_dir`."""
    from . import plots
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    runs = summary.read_runs(runs_csv)
    real = float(files.read_csv(reference_csv, (SCORE,), "energygan reference table")[SCORE].iloc[0])  # the test set against itself
    family_experiments = list(dict.fromkeys(spec["families"][name]["experiment"] for name in FAMILIES))
    ablation = [spec["ablation"]["experiment"]] if "ablation" in spec else []
    scale = "; ".join(scale_label(runs, name, grid_sizes[name]) for name in family_experiments + ablation)
    family_scale = "; ".join(scale_label(runs, name, grid_sizes[name]) for name in family_experiments)

    def table(frame: pd.DataFrame, name: str, title: str) -> None:
        files.write_csv(frame, out / f"{name}.csv")
        report.html_table(frame, out / f"{name}.html", title=f"{title} [{scale}]")

    table(claims(runs, spec, scale), "verdicts",
          f"EBGAN's grid search: the paper's claims, verdicts from P(I'_A > I'_B) with a "
          f"{spec['verdicts']['confidence']:.0%} bootstrap interval")
    families = family_runs(runs, spec["families"])
    table(family_table(families, real, spec["thresholds"]), "families",
          f"EBGAN's I' and the Frechet distance per family (real data: I' = {real:.3g})")
    if "ablation" in spec:
        table(ablation_table(runs[runs["experiment"] == spec["ablation"]["experiment"]]), "ablation",
              "Which part of EBGAN helps: discriminator x loss")

    # the runs' range (real data's I' is in the title: at small scale it lies far right of every run)
    finite = families[SCORE][np.isfinite(families[SCORE].astype(float))]
    edges = np.linspace(0.0, (float(finite.max()) if len(finite) else 1.0) * 1.0001, spec["bins"] + 1)
    panels = []
    for limit, letter in zip([None, *spec["depth_limits"]], "abcdefg"):
        subset = depth_subset(families, limit)
        where = "all runs" if limit is None else f"nLayerG, nLayerD <= {limit}"
        panels.append((f"({letter}) {where}", {name: _nan_failed(subset[subset["family"] == name])
                                               for name in FAMILIES}))
    plots.score_histograms(panels, edges, out / "figure2.png",
                           f"Figure 2: I' per family (real data: {real:.3g})\n{family_scale}", "I' (higher is better)")
    gan_name, ebgan_name = FAMILIES[:2]
    gan = families[families["family"] == gan_name]
    ebgan = _nan_failed(families[families["family"] == ebgan_name])
    panels = [(f"optimD={d}, optimG={g}, lr={lr:g}", {gan_name: _nan_failed(group), ebgan_name: ebgan})
              for (d, g, lr), group in gan.groupby(["optim_d", "optim_g", "lr"], sort=True)]
    plots.score_histograms(panels, edges, out / "figure3.png",
                           f"Figure 3: GAN per optimiser setting, EBGAN (all runs) as reference\n{family_scale}",
                           "I' (higher is better)", columns=4)
    best = []
    for name, group in families.groupby("family", sort=False):
        ranked = group.assign(_score=scores_for_ranking(group)).sort_values("_score", ascending=False)
        run = ranked.iloc[0]
        settings = ", ".join(f"{k}={run[k]}" for k in ("n_layer_g", "size_g", "n_layer_d", "size_d", "dropout_d",
                                                         "optim_d", "optim_g", "lr", "pt_weight"))
        best.append((f"best {name}: I' {run[SCORE]:.3g}, FD {run['frechet_distance']:.3g}\n{_wrap(settings)}\n", run))
    plots.best_samples(best, out / "figure4.png", f"Figure 4: the best run of each family by I'\n{family_scale}")
    if "margin_sweep" not in spec:
        return
    sweep = runs[runs["experiment"] == spec["margin_sweep"]]
    sweep = sweep.assign(margin=[margin_of(label) for label in sweep["loss"]])
    steps = "/".join(str(s) for s in sorted(sweep["steps"].unique()))
    plots.margin_sweep(sweep, SCORE, out / "margin_sweep.png",
                       f"EBGAN's margin sweep: {len(sweep)} runs, {steps} steps (real data I' {real:.3g})")


def _nan_failed(group: pd.DataFrame) -> np.ndarray:
    """I' with NaN for diverged or unscored runs (the histograms' bin of their own)."""
    score = scores_for_ranking(group)
    return np.where(np.isfinite(score), score, np.nan)


def _wrap(text: str, width: int = 60) -> str:
    import textwrap
    return "\n".join(textwrap.wrap(text, width))
