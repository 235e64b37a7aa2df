"""The blog's title question asked of trained discriminators: is the learned s an energy? From the probes
of every probed experiment (energygan.analysis.probes): a table per domain (2D mixtures: s against E_P, s* and
log q/p; MNIST: the AUROC of s against off-manifold inputs), the probes over training, and the claims with
verdicts computed from the runs and the tolerances in config.

A claim's effect is a mean over runs (or a difference of two means, or of pairs) with a t interval
(energygan.analysis.verdicts); it is decided only when the interval lies on one side of the tolerance and each
side has at least `min_units` runs (the unit: one run, its own seed and setting) that work and whose
discriminator lives, and is "not established at this scale" otherwise.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from energygan import files
from energygan.analysis import fixed_q, scorers, verdicts
from energygan.analysis.grid_search import matches
from energygan.analysis.summary import dead, worked
from energygan.registry import label
from energygan.report import tables
from energygan.study.checks import PROBED_SETTINGS

_MIXTURE = [f"{points}_{target}_{stat}" for points in ("plane", "samples")
            for target in ("energy", "optimum", "energy_difference", "composed")
            for stat in ("spearman", "pearson")] + \
    ["plane_optimum_relative_error", "samples_optimum_relative_error", "plane_scaled_energy_relative_error",
     "plane_composed_relative_error", "plane_optimum_excluded", "spread_on_p",
     "spread_in_margins", "flatness", "s_mean_p", "s_mean_q", "gap_in_margins"]
_IMAGE = ["auroc_noise", "auroc_shuffled", "auroc_inverted", "auroc_samples", "spread_on_p",
          "spread_in_margins", "flatness", "s_mean_p", "s_mean_q", "gap_in_margins"]
# each kind of fresh D at a run's frozen Q (energygan.analysis.fixed_q), beside the run's own D: what the tables show
_FIXED_Q_MIXTURE = ["plane_energy_spearman", "plane_energy_difference_spearman", "plane_optimum_spearman",
                    "plane_optimum_relative_error", "loss", "loss_change"]
_FIXED_Q_IMAGE = ["auroc_noise", "auroc_samples", "loss", "loss_change"]


def columns(kinds, images: bool) -> list[str]:
    """The probe columns of the tables: the run's own D's, then each fresh kind's at its frozen Q."""
    own, fresh = (_IMAGE, _FIXED_Q_IMAGE) if images else (_MIXTURE, _FIXED_Q_MIXTURE)
    return own + [f"fixed_q_{fixed_q.slug(kind)}_{c}" for kind in kinds for c in fresh]


def final(probes: pd.DataFrame) -> pd.DataFrame:
    """Each run at the end of its training; probes made before the calibrated EBGAN (no entropy_weight
    column) had no run with the entropy term."""
    runs = probes[np.isclose(probes["fraction"], 1.0)]
    return runs if "entropy_weight" in runs else runs.assign(entropy_weight=0.0)


def per_setting(probes: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Mean of each probe per (dataset, discriminator, loss, f, pull-away and entropy weights) at the end of
    training, with how many runs it rests on, how many of them diverged (and so have no probe), work (quality
    floor) and have a dead discriminator. Empty (with its columns) where no run was probed: a study of 2D
    mixtures alone has no MNIST table."""
    runs = final(probes)
    measured = [c for c in columns if c in runs]
    if runs.empty:
        return pd.DataFrame(columns=[*PROBED_SETTINGS, "runs", "diverged", "working", "dead_d", *measured])
    grouped = runs.groupby(PROBED_SETTINGS, sort=False)
    table = grouped[measured].mean()
    table.insert(0, "dead_d", grouped.apply(lambda g: int(dead(g).sum()), include_groups=False))
    table.insert(0, "working", grouped.apply(lambda g: int(worked(g).sum()), include_groups=False))
    table.insert(0, "diverged", grouped["status"].apply(lambda s: int((s != "ok").sum())))
    table.insert(0, "runs", grouped.size())
    return table.reset_index()


def eligible(table: pd.DataFrame, own_d: bool = True) -> tuple[pd.DataFrame, str]:
    """The runs a comparison may use: finished, clearing the quality floor (so that the sides are matched in
    generator quality), with a live discriminator where the run's own D is read (`own_d`; a fresh D at a
    fixed Q is trained anew); and what was left out, and why."""
    finished = table[table["status"] == "ok"]
    working = finished[worked(finished).to_numpy()]
    live = working[~dead(working).to_numpy()] if own_d else working
    left = (f"{len(live)} of {len(table)} runs used; left out: {len(table) - len(finished)} diverged, "
            f"{len(finished) - len(working)} below the quality floor, {len(working) - len(live)} with a dead D")
    return live, left


def values(table: pd.DataFrame, column: str) -> pd.Series:
    """A probe column of the runs, NaN where no run has it (a study without 2D runs has no plane probes; one
    without a fresh D of some kind has no such columns)."""
    return table[column] if column in table else pd.Series(math.nan, index=table.index, dtype=float)


def seeds(table: pd.DataFrame) -> str:
    return f"seeds {'/'.join(map(str, sorted(table['seed'].unique())))}" if len(table) else "no runs"


def tracks_row(claim: str, source: str, measure: str, scores, spec: dict, scale: str) -> dict:
    """A claim that a score is above the tolerance `tracks` (a correlation that says s tracks an energy)."""
    tolerance = spec["tolerances"]["tracks"]
    return {"claim": claim, "source": source, "measure": measure, "tolerance": f"above {tolerance}", "scale": scale,
            **verdicts.threshold(scores, tolerance, True, spec["verdicts"])}


def with_fixed_q_over_checkpoints(probes: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Each run at the end of its training, its fixed-Q probes replaced by their mean over the checkpoints
    where a fresh D was trained (a fixed Q far from P early in training asks the blog's question more
    sharply than one close to it at the end); and at which fractions of training they were."""
    runs = final(probes)
    fixed = [c for c in probes if c.startswith("fixed_q_")]
    if not fixed:
        return runs, "none"
    measured = probes[probes[fixed].notna().any(axis=1)]
    means = measured.groupby(["experiment", "run_id"])[fixed].mean()
    runs = runs.drop(columns=fixed).join(means, on=["experiment", "run_id"])
    return runs, "/".join(f"{f:g}" for f in sorted(measured["fraction"].unique()))


def claims(probes: pd.DataFrame, spec: dict, scale: str) -> pd.DataFrame:
    """The post's claims about trained discriminators, each decided from the probes at the end of training
    (at a fixed Q, their mean over the checkpoints) of the runs that work and, where the run's own D is
    read, whose discriminator lives."""
    (runs, fractions), tol, settings = with_fixed_q_over_checkpoints(probes), spec["tolerances"], spec["verdicts"]
    mixtures = runs[scorers.selected(runs["dataset"], "known_density")]
    images = runs[scorers.selected(runs["dataset"], "reads_evaluator")]
    statistic = spec["statistic"]

    def group(table, name, own_d=True):
        return eligible(table[matches(table, spec["groups"][name])], own_d)

    logistic, logistic_left = group(mixtures, "logistic GAN")
    ebgan, ebgan_left = group(mixtures, "EBGAN")
    column = f"plane_energy_difference_{statistic}"
    rows = [tracks_row("a trained logistic GAN's s tracks E_P - E_Q = log q/p", "blog",
                       f"mean weighted {statistic} correlation of s with log q/p over the plane; logistic GAN: "
                       f"{logistic_left}, {seeds(logistic)}", values(logistic, column), spec, scale)]
    column = f"plane_energy_{statistic}"
    rows.append({"claim": "a trained EBGAN's s tracks the data's energy E_P no better than a logistic GAN's "
                          "(the title: 'normal GANs are slightly more energy-based')", "source": "blog",
                 "measure": f"EBGAN minus logistic GAN: mean weighted {statistic} correlation of s with E_P = -log p; "
                            f"EBGAN: {ebgan_left}, {seeds(ebgan)}; logistic GAN: {logistic_left}, {seeds(logistic)}",
                 "tolerance": f"difference below {tol['no_better']}", "scale": scale,
                 **verdicts.difference(values(ebgan, column), values(logistic, column), tol["no_better"], settings)})
    rows += fixed_q_claims(mixtures, spec, scale, fractions)
    rows += calibrated_claims(mixtures, spec, scale)
    for domain, table in (("2D mixtures", mixtures), ("MNIST", images)):
        hinge, left = group(table, "EBGAN")
        gap = values(hinge, "gap_in_margins")
        rows.append({"claim": f"a trained EBGAN's D is flat on the data (Theorem 2), {domain}", "source": "EBGAN paper",
                     "measure": "mean std of s on the data in margins m (one value in [0, m] at equilibrium); a D "
                                "counts as dead only when s is flat off the data too (noise; "
                                "energygan.analysis.quality), so a flat equilibrium D stays in; "
                                f"{left}; energy gap (mean s on Q - on P) {gap.mean():.3g} m",
                     "tolerance": f"below {tol['flat']} m", "scale": scale,
                     **verdicts.threshold(values(hinge, "spread_in_margins"), tol["flat"], False, settings)})
    return pd.DataFrame(rows)


def fixed_q_claims(mixtures: pd.DataFrame, spec: dict, scale: str, fractions: str) -> list[dict]:
    """The blog's claims exactly: the D that each loss trains at a fixed Q. Every run that works gives one frozen
    Q, and a fresh D of each kind (`fixed_q.discriminators`, named as the groups) is trained on it: the
    logistic GAN's against log q/p, and EBGAN's against the logistic GAN's pair by pair on the same Q."""
    tol, settings, statistic = spec["tolerances"], spec["verdicts"], spec["statistic"]
    kinds = spec.get("fixed_q", {}).get("discriminators", {})
    qs, qs_left = eligible(mixtures, own_d=False)
    where = (f"a fresh D of each kind trained on the P and frozen Q of each run that works (at fractions {fractions} "
             f"of training, averaged per run): {qs_left}, {seeds(qs)}")
    logistic, ebgan = (f"fixed_q_{fixed_q.slug(kind)}_plane_" for kind in ("logistic GAN", "EBGAN"))
    rows = [tracks_row("at a fixed Q, the logistic loss trains s* = log q/p = E_P - E_Q", "blog",
                       f"mean weighted {statistic} correlation of the fresh logistic D's s with log q/p over the "
                       f"plane; {where}", values(qs, f"{logistic}energy_difference_{statistic}"), spec, scale)]
    rows.append({"claim": "at a fixed Q, EBGAN's loss trains an s that tracks E_P no better than the logistic loss's",
                 "source": "blog",
                 "measure": f"EBGAN's fresh D ({_kind(kinds.get('EBGAN'))}) minus the logistic GAN's "
                            f"({_kind(kinds.get('logistic GAN'))}) on the same Q: mean weighted {statistic} "
                            f"correlation of s with E_P over the plane; {where}",
                 "tolerance": f"difference below {tol['no_better']}", "scale": scale,
                 **verdicts.paired_difference(values(qs, f"{ebgan}energy_{statistic}"),
                                              values(qs, f"{logistic}energy_{statistic}"), tol["no_better"], settings)})
    return rows


def _kind(kind: dict | None) -> str:
    return ", ".join(f"{k} {label(v) if isinstance(v, dict) else v}" for k, v in kind.items()) if kind else "none"


def calibrated_claims(mixtures: pd.DataFrame, spec: dict, scale: str) -> list[dict]:
    """The positive controls (issue 26): a calibrated EBGAN's s is the data's energy at its equilibrium (Dai
    et al. 2017), and so is a logistic GAN's composed energy E_Q + s (Che et al. 2020); a plain EBGAN's s
    and a logistic GAN's s alone are not. Decided on the 2D mixtures, where E_P is known."""
    tol, settings, statistic = spec["tolerances"], spec["verdicts"], spec["statistic"]

    def group(name):
        return eligible(mixtures[matches(mixtures, spec["groups"][name])])

    calibrated, calibrated_left = group("calibrated EBGAN")
    ebgan, ebgan_left = group("EBGAN")
    logistic, logistic_left = group("logistic GAN")
    column = f"plane_energy_{statistic}"
    measure = (f"mean weighted {statistic} correlation of s with E_P = -log p over the plane (its relative error "
               f"in value, s / w against E_P up to a constant, is in energy_2d: plane_scaled_energy_relative_error)")
    rows = [tracks_row("a calibrated EBGAN's s tracks the data's energy E_P (its entropy term makes s = w E_P + c at "
                       "equilibrium)", "Dai et al. 2017", f"{measure}; calibrated EBGAN: {calibrated_left}, "
                       f"{seeds(calibrated)}", values(calibrated, column), spec, scale)]
    for other, table, left in (("a plain EBGAN", ebgan, ebgan_left), ("a logistic GAN", logistic, logistic_left)):
        rows.append({"claim": f"{other}'s s alone tracks E_P less well than a calibrated EBGAN's",
                     "source": "Dai et al. 2017",
                     "measure": f"calibrated EBGAN minus {other.split(' ', 1)[1]}: {measure}; calibrated EBGAN: "
                                f"{calibrated_left}, {seeds(calibrated)}; "
                                f"{other.split(' ', 1)[1]}: {left}, {seeds(table)}",
                     "tolerance": f"difference above {tol['better']}", "scale": scale,
                     **verdicts.difference(values(calibrated, column), values(table, column), tol["better"], settings,
                                           above=True)})
    column = f"plane_composed_{statistic}"
    rows.append(tracks_row("a logistic GAN's composed energy E_Q + s tracks the data's energy E_P", "Che et al. 2020",
                           f"mean weighted {statistic} correlation of E_Q + s with E_P over the plane, E_Q = -log of "
                           f"the kernel estimate of q (relative error up to a constant in energy_2d: "
                           f"plane_composed_relative_error); logistic GAN: {logistic_left}, {seeds(logistic)}",
                           values(logistic, column), spec, scale))
    return rows


def front(claims_table: pd.DataFrame) -> pd.DataFrame:
    """The report's front page: each claim's verdict, effect with its interval, the runs it rests on, and beside
    its tolerance the interval's half-width (how far from the tolerance an effect must lie to be decided at this
    scale)."""
    effect = [f"{row.mean:.3g} [{row.ci_low:.3g}, {row.ci_high:.3g}]" if math.isfinite(row.mean) else "no runs"
              for row in claims_table.itertuples()]
    half = [f"{h:.2g}" if math.isfinite(h) else "-" for h in claims_table["half_width"]]
    return pd.DataFrame({"claim": claims_table["claim"], "verdict": claims_table["verdict"],
                         "effect [interval]": effect, "runs": claims_table["runs"],
                         "tolerance": claims_table["tolerance"], "half-width": half})


def probed_scale(probes: pd.DataFrame, spec: dict) -> str:
    runs = final(probes)
    parts = [f"{name}: {len(t)} runs, {'/'.join(map(str, sorted(t['step'].unique())))} steps"
             for name, t in runs.groupby("experiment", sort=False)]
    plane = spec["plane"]
    return (f"{'; '.join(parts)}; 2D: plane {plane['points']}^2 over +-{plane['extent']}, q from "
            f"{spec['kde_samples']} samples; {spec['samples']} probe points per set")


def write_outputs(probe_csvs: list[str], spec: dict, out_dir) -> None:
    """claims, energy_2d and auroc_mnist (csv and html), the report's front table and its scale (front.csv,
    front_scale.txt) and over_training.png, into `out_dir`."""
    from energygan.report import plots
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    probes = pd.concat([files.read_csv(path, ("dataset",), "energygan probes table") for path in probe_csvs],
                       ignore_index=True)
    scale, kinds = probed_scale(probes, spec), spec.get("fixed_q", {}).get("discriminators", {})
    mixtures = probes[scorers.selected(probes["dataset"], "known_density")]
    images = probes[scorers.selected(probes["dataset"], "reads_evaluator")]
    written = {"claims": (claims(probes, spec, scale),
                          ("The title question: the post's claims about trained discriminators, verdicts from a "
                           f"{spec['verdicts']['confidence']:.0%} t interval")),
              "energy_2d": (per_setting(mixtures, columns(kinds, False)),
                            (f"2D mixtures: the learned s against E_P, s* and log q/p ({spec['statistic']} and Pearson "
                             "correlations weighted by (p+q)/2; relative error of s against s*)")),
              "auroc_mnist": (per_setting(images, columns(kinds, True)),
                              "MNIST: the AUROC of s, test digits (low) against inputs off the data (high)")}
    for name, (table, title) in written.items():
        tables.write(table, out / f"{name}.csv", out / f"{name}.html", title=f"{title} [{scale}]")
    files.write_csv(front(written["claims"][0]), out / "front.csv")
    files.write_text(f"Scale: {scale}.\n", out / "front_scale.txt")
    plots.probes_over_training(probes, spec["statistic"], out / "over_training.png",
                               f"The probes over training (mean over runs)\n{scale}")
