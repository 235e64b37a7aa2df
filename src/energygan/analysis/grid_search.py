"""EBGAN's MNIST grid search (paper section 4.1): which runs form each family (GAN, EBGAN, EBGAN-PT), the
score histograms of its Figures 2 and 3, a summary table per family, and the paper's claims as verdicts
(energygan.analysis.verdicts) computed from an effect size with an interval over architectures, the grid's independent
unit, and gated on how many runs of each side clear the quality floor.

The score is EBGAN's I' (`ebgan_score`, higher is better). A diverged run, or one left without a score,
counts as worse than every scored run: it is never dropped.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from energygan import files
from energygan.analysis import summary, verdicts
from energygan.analysis.statistics import (
    difference_interval,
    paired_superiority,
    share_interval,
    superiority,
    superiority_interval,
)
from energygan.report import tables

SCORE = "ebgan_score"
FAMILIES = ("GAN", "EBGAN", "EBGAN-PT")  # the paper's families, the keys of the config's grid_search.families
ARCHITECTURE = ("n_layer_g", "size_g", "n_layer_d", "size_d")  # Table 1's architecture axes
PAIR_KEYS = (*ARCHITECTURE, "dropout_d", "seed")  # what EBGAN-PT and EBGAN runs share in the grid's design


def matches(runs: pd.DataFrame, where: dict) -> pd.Series:
    """Rows whose columns equal every value of `where`, or one of its values where it lists several (numbers
    compared with a relative 1e-9)."""
    keep = pd.Series(True, index=runs.index)
    for column, wanted in where.items():
        if column not in runs.columns:
            raise ValueError(f"grid_search: no column {column!r} in runs.csv to select {where}; "
                             f"columns: {sorted(runs.columns)}")
        any_of = pd.Series(False, index=runs.index)
        for value in wanted if isinstance(wanted, list) else [wanted]:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                any_of |= np.isclose(runs[column].astype(float), value, rtol=1e-9, atol=0)
            else:
                any_of |= runs[column].astype(str) == str(value)
        keep &= any_of
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


def architectures(runs: pd.DataFrame) -> np.ndarray:
    """Each run's architecture as one label: the grid's independent unit (runs of one architecture share
    its fate whatever their optimiser settings)."""
    return runs[list(ARCHITECTURE)].astype(str).agg("/".join, axis=1).to_numpy()


def _side(frame: pd.DataFrame, name: str) -> dict:
    return {f"runs_{name}": len(frame), f"architectures_{name}": len(set(architectures(frame))),
            f"working_{name}": int(summary.worked(frame).sum()),
            f"diverged_{name}": int((frame["status"] != "ok").sum())}


def paired(a: pd.DataFrame, b: pd.DataFrame, keys: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The runs of A and B that agree on every column of `keys`, aligned row by row (the rest dropped)."""
    joined = a.reset_index(drop=True).reset_index().merge(b.reset_index(drop=True).reset_index(), on=keys,
                                                          suffixes=("_a", "_b"))
    return a.iloc[joined["index_a"].to_numpy()], b.iloc[joined["index_b"].to_numpy()]


def compare(claim: str, a: pd.DataFrame, b: pd.DataFrame, names: tuple[str, str], settings: dict, scale: str,
            pair_on: list[str] | None = None) -> dict:
    """One verdict row: does a run of A score higher than a run of B (failed runs below every score: this
    is reliability), and does a larger share of A's runs work? Units are architectures (runs of one are not
    independent): P(A > B) with Obuchowski's clustered interval; with `pair_on`, the share of pairs of runs
    that agree on those columns which A wins, with Wilson's interval at the architectures' design effect;
    the working shares' difference with Welch's interval on the architectures' shares (energygan.analysis.
    statistics, chosen by simulated coverage). Decided only when each side has `min_units` architectures and
    `min_working` runs that clear the quality floor."""
    pair = pair_on is not None
    if pair:
        a, b = paired(a, b, pair_on)
    sa, sb = scores_for_ranking(a), scores_for_ranking(b)
    wa, wb = summary.worked(a).to_numpy(dtype=float), summary.worked(b).to_numpy(dtype=float)
    row = {"claim": claim, "A": names[0], "B": names[1], **_side(a, "A"), **_side(b, "B"),
           "design": f"paired on {', '.join(pair_on)}; the pairs of one architecture one unit" if pair
           else "architectures as units (runs of one architecture are not independent)",
           "P(A > B)": math.nan, "ci_low": math.nan, "ci_high": math.nan, "half_width": math.nan,
           "working share A - B": math.nan, "working ci_low": math.nan, "working ci_high": math.nan,
           "median_A": math.nan, "median_B": math.nan}
    if len(sa) and len(sb):
        confidence, clusters = settings["confidence"], (architectures(a), architectures(b))
        if pair:
            low, high = share_interval((sa > sb) + 0.5 * (sa == sb), confidence, clusters[0])
        else:
            low, high = superiority_interval(sa, sb, confidence, clusters)
        share_low, share_high = difference_interval(wa, wb, confidence, clusters)
        effect = paired_superiority if pair else superiority
        row.update({"P(A > B)": effect(sa, sb), "ci_low": low, "ci_high": high, "half_width": (high - low) / 2,
                    "working share A - B": wa.mean() - wb.mean(), "working ci_low": share_low,
                    "working ci_high": share_high, "median_A": float(np.median(sa)), "median_B": float(np.median(sb))})
    enough = (min(row["architectures_A"], row["architectures_B"]) >= settings["min_units"]
              and min(row["working_A"], row["working_B"]) >= settings["min_working"])
    row["verdict"] = verdicts.decide(row["ci_low"], row["ci_high"], 0.5, above=True, enough=enough)
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
    # the paper shows the best samples of each in Figure 4 and claims nothing about their order
    rows.append(compare("this pipeline's question: does the pull-away term raise I'? (EBGAN-PT against EBGAN)",
                        ebgan_pt, ebgan, ("EBGAN-PT", "EBGAN"), settings, scale, pair_on=list(PAIR_KEYS)))
    fair = gan[matches(gan, spec["fair"])]
    label = ", ".join(f"{k}={v}" for k, v in spec["fair"].items())
    rows.append(compare(f"EBGAN beats GAN trained with EBGAN's optimiser settings ({label})", ebgan, fair,
                        ("EBGAN", f"GAN ({label})"), settings, scale))
    if "ablation" in spec:
        ablation = runs[runs["experiment"] == spec["ablation"]["experiment"]]
        factors = spec["ablation"]["factors"]
        for column, (value_a, value_b) in factors.items():
            a, b = (ablation[matches(ablation, {column: v})] for v in (value_a, value_b))
            others = [c for c in factors if c != column]
            rows.append(compare(f"ablation: {column} = {value_a} scores higher than {value_b} (paired within the "
                                "other factors)", a, b, (f"{column}={value_a}", f"{column}={value_b}"), settings,
                                scale, pair_on=[*PAIR_KEYS, *others]))
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


# --- the rule's entry point ------------------------------------------------------------------------

def margin_of(loss_label: str) -> float:
    """The margin m from a hinge loss's label (`hinge_margin10` -> 10)."""
    return float(re.fullmatch(r"hinge_margin(.+)", loss_label)[1])


def experiment_scale(runs: pd.DataFrame, experiment: str, grid_size: int) -> str:
    subset = runs[runs["experiment"] == experiment]
    steps = "/".join(str(s) for s in sorted(subset["steps"].unique()))
    return f"{experiment}: {len(subset)} of {grid_size} grid runs, {steps} steps"


def write_outputs(runs_csv, reference_csv, spec: dict, grid_sizes: dict, out_dir) -> None:
    """Verdicts, the family and ablation tables, Figures 2-4 and the margin sweep, into `out_dir`."""
    from energygan.report import plots
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    runs = summary.read_runs(runs_csv)
    # the test set against itself
    real = float(files.read_csv(reference_csv, (SCORE,), "energygan reference table")[SCORE].iloc[0])
    family_experiments = list(dict.fromkeys(spec["families"][name]["experiment"] for name in FAMILIES))
    ablation = [spec["ablation"]["experiment"]] if "ablation" in spec else []
    scale = "; ".join(experiment_scale(runs, name, grid_sizes[name]) for name in family_experiments + ablation)
    family_scale = "; ".join(experiment_scale(runs, name, grid_sizes[name]) for name in family_experiments)

    def table(frame: pd.DataFrame, name: str, title: str) -> None:
        tables.write(frame, out / f"{name}.csv", out / f"{name}.html", title=f"{title} [{scale}]")

    table(claims(runs, spec, scale), "verdicts",
          f"EBGAN's grid search: the paper's claims, verdicts from P(I'_A > I'_B) with a "
          f"{spec['verdicts']['confidence']:.0%} interval over architectures")
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
