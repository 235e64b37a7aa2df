"""Figures for the report (matplotlib through seaborn's styling, Agg backend); its tables are
energygan.report.tables."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from energygan import files
from energygan.engine import losses as losses_mod
from energygan.registry import label

sns.set_theme(style="whitegrid", context="notebook")


def _save(fig, path) -> None:
    files.save_figure(fig, path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def penalty_curves(loss_specs: list, path) -> None:
    """l1 (real) and l2 (fake) of each loss over s, as in the blog's figures."""
    fig, axes = plt.subplots(1, len(loss_specs), figsize=(4 * len(loss_specs), 3.4))
    for ax, spec in zip(axes, loss_specs):
        loss = losses_mod.make(spec)
        s = torch.linspace(0, 1.5 * loss.margin, 400) if loss.domain == "nonnegative" else torch.linspace(-4, 4, 400)
        ax.plot(s, loss.real(s), label="l1: real (x ~ P)", color="tab:blue")
        ax.plot(s, loss.fake(s), label="l2: fake (x ~ Q)", color="tab:green")
        ax.set(title=label(spec), xlabel="s(x)")
    axes[0].legend()
    _save(fig, path)


def inner_loop(result, path) -> None:
    """Learned s against s*: curves in 1D, heat maps in 2D (largest sample size)."""
    names = list(result.optimum)
    sizes = sorted({n for _, n in result.learned})
    if result.grid.shape[1] == 1:
        x = result.grid[:, 0]
        fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 4.2), squeeze=False, layout="constrained")
        axes = axes[0]
        for ax, name in zip(axes, names):
            ax.plot(x, result.optimum[name], color="black", lw=2, label="s* (closed form)")
            for n in sizes:
                ax.plot(x, result.learned[name, n], lw=1.2, label=f"learned, n={n}")
            density = ax.twinx()
            density.fill_between(x, result.p, alpha=0.15, color="tab:blue", label="p")
            density.fill_between(x, result.q, alpha=0.15, color="tab:green", label="q")
            density.set_yticks([])
            low, high = torch.nanquantile(result.optimum[name], torch.tensor([0.02, 0.98], dtype=x.dtype))
            pad = 0.3 * (high - low) + 0.5
            ax.set(title=name, xlabel="x", ylim=(low - pad, high + pad))
        # one legend below the panels: s*, the learned s and the two densities, never over a curve
        handles = [*axes[0].get_legend_handles_labels()[0], *density.get_legend_handles_labels()[0]]
        fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8, frameon=False)
    else:
        side = round(len(result.grid) ** 0.5)
        extent = [result.grid[:, 0].min(), result.grid[:, 0].max(), result.grid[:, 1].min(), result.grid[:, 1].max()]
        fig, axes = plt.subplots(2, len(names), figsize=(3.6 * len(names), 6.6))
        for col, name in enumerate(names):
            target = result.optimum[name].reshape(side, side).T
            low, high = torch.nanquantile(target.flatten(), torch.tensor([0.02, 0.98], dtype=target.dtype))
            for row, (values, title) in enumerate([(target, f"{name}: s*"),
                                                   (result.learned[name, sizes[-1]].reshape(side, side).T,
                                                    f"learned, n={sizes[-1]}")]):
                image = axes[row, col].imshow(values, origin="lower", extent=extent, vmin=low, vmax=high,
                                              cmap="viridis")
                axes[row, col].contour(result.grid[:, 0].reshape(side, side).T, result.grid[:, 1].reshape(side, side).T,
                                       (result.p + result.q).reshape(side, side).T, levels=4, colors="white",
                                       linewidths=0.6)
                axes[row, col].set(title=title)
                fig.colorbar(image, ax=axes[row, col], shrink=0.8)
    _save(fig, path)


def hinge_learned(x, p, q, s, margin: float, path) -> None:
    """The hinge's step-function s* = m 1[q > p] and a smooth s learned from samples, over points x with
    the densities p and q there (energygan.theory.outer.hinge_curves)."""
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.plot(x, margin * (q > p), color="black", lw=2, label="s* = m 1[q > p] (gradient 0 a.e.)")
    ax.plot(x, s, color="tab:red", label="s learned from samples (smooth)")
    density_ax = ax.twinx()
    density_ax.fill_between(x, p, alpha=0.15, color="tab:blue")
    density_ax.fill_between(x, q, alpha=0.15, color="tab:green")
    density_ax.set_yticks([])
    ax.set(xlabel="x", ylabel="s(x)", title=f"EBGAN hinge, m={margin:g}: P=N(0,1) blue, Q green")
    ax.legend(fontsize=8, loc="upper left")
    _save(fig, path)


def samples(images: torch.Tensor, path, means: torch.Tensor | None = None) -> None:
    """A run's fixed-noise samples: a square grid of images [N, C, H, W] in [0, 1] (C = 1 or 3), or a
    scatter over the mixture's modes `means` (2D samples)."""
    from PIL import Image
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if means is None:
        side, (c, h, w) = int(len(images) ** 0.5), images.shape[1:]
        pixels = torch.nan_to_num(images[: side * side]).clamp(0, 1).reshape(side, side, c, h, w)
        grid = (pixels.permute(0, 3, 1, 4, 2).reshape(side * h, side * w, c) * 255).round().to(torch.uint8)
        image = Image.fromarray(grid.numpy()[..., 0] if c == 1 else grid.numpy(), mode="L" if c == 1 else "RGB")
        image.resize((side * w * 2, side * h * 2), Image.NEAREST).save(path)
        return
    fig, ax = plt.subplots(figsize=(3.2, 3.2))
    ax.scatter(means[:, 0], means[:, 1], s=60, c="tab:blue", alpha=0.3, label="modes of P")
    ax.scatter(images[:, 0], images[:, 1], s=6, c="tab:red", label="samples")
    ax.set(xlim=(-3, 3), ylim=(-3, 3), aspect="equal")
    _save(fig, path)


# --- experiment figures: scores, samples and curves per setting --------------------------------

def quality_mark(run) -> tuple[str, str]:
    """How a run's panel is marked, from its row of runs.csv: (text, colour): diverged, below the quality
    floor, or working; a dead discriminator is named too (energygan.analysis.quality)."""
    if run["status"] != "ok":
        return " (diverged)", "tab:red"
    dead = " dead D" if str(run.get("d_dead")).lower() == "true" else ""
    if str(run.get("works")).lower() == "true":
        return f" [works{dead}]", "tab:green"
    return f" [below floor{dead}]", "tab:orange"


def setting_label(row, keys) -> str:
    return ", ".join(f"{row[k]}" if k in ("loss", "f") else f"{k}={row[k]}" for k in keys)


def score_heatmaps(aggregated: pd.DataFrame, scores: dict, path, title: str) -> None:
    """Mean score over seeds per (loss, f), one panel per score; darker is better in every panel."""
    fig, axes = plt.subplots(1, len(scores), figsize=(4.6 * len(scores), 4.2), squeeze=False)
    for i, (ax, (score, higher_better)) in enumerate(zip(axes[0], scores.items())):
        # rows and columns in config order, not alphabetical
        table = aggregated.pivot(index="loss", columns="f", values=score).reindex(
            index=list(dict.fromkeys(aggregated["loss"])), columns=list(dict.fromkeys(aggregated["f"])))
        sns.heatmap(table, annot=True, fmt=".3g", cmap="rocket" if not higher_better else "rocket_r", ax=ax,
                    cbar=False, yticklabels=i == 0)
        ax.set(title=f"{score}\n({'higher' if higher_better else 'lower'} is better)", ylabel="loss" if i == 0 else "")
    fig.suptitle(title)
    fig.tight_layout()
    _save(fig, path)


def score_points(runs: pd.DataFrame, scores: dict, keys: list, path, title: str) -> None:
    """Every seed's score per setting, one panel per score; a setting's diverged runs are counted in its label;
    the seeds' legend once, outside the panels."""
    runs = runs.assign(setting=[setting_label(r, keys) for _, r in runs.iterrows()])
    diverged = runs.groupby("setting", sort=False)["status"].apply(lambda s: int((s == "diverged").sum()))
    order = list(diverged.index)
    labels = [f"{s} ({d} diverged)" if d else s for s, d in diverged.items()]
    fig, axes = plt.subplots(len(scores), 1, figsize=(max(6, 0.45 * len(order) + 2), 2.8 * len(scores) + 1),
                             squeeze=False, layout="constrained")
    for ax, (score, higher_better) in zip(axes[:, 0], scores.items()):
        sns.stripplot(data=runs, x="setting", y=score, hue="seed", order=order, ax=ax, size=6, jitter=0.15,
                      palette="deep", legend=ax is axes[0, 0])
        ax.set(xlabel="", ylabel=textwrap.fill(f"{score} ({'higher' if higher_better else 'lower'} better)", 22))
        ax.yaxis.label.set_fontsize(9)
        ax.set_xticks(range(len(order)), labels if ax is axes[-1, 0] else [""] * len(order),
                      rotation=75 if len(order) > 4 else 15, ha="right", fontsize=8)
    if axes[0, 0].get_legend() is not None:
        handles, names = axes[0, 0].get_legend_handles_labels()
        axes[0, 0].get_legend().remove()
        fig.legend(handles, names, title="seed", loc="outside right upper", fontsize=8, title_fontsize=8)
    fig.suptitle(title)
    _save(fig, path)


def sample_grid(runs: pd.DataFrame, keys: list, path, title: str) -> None:
    """Each setting's samples.png (its lowest seed): one column per f, one row per rest of the setting; or,
    where each setting has an f of its own (DCGAN against EBGAN-PT), the settings side by side."""
    from PIL import Image
    first = runs.sort_values("seed").groupby(keys, sort=False).head(1)
    row_keys = [k for k in keys if k != "f"]
    first = first.assign(_row=[setting_label(r, row_keys) for _, r in first.iterrows()])
    side_by_side = first.groupby("_row")["f"].nunique().max() == 1 and first["f"].nunique() > 1
    rows, cols = list(dict.fromkeys(first["_row"])), list(dict.fromkeys(first["f"]))
    shape = (1, len(rows)) if side_by_side else (len(rows), len(cols))
    width = 3.4 if side_by_side else 2.6
    fig, axes = plt.subplots(*shape, figsize=(width * shape[1] + 1, width * shape[0]), squeeze=False)
    for ax in axes.flat:
        ax.set(xticks=[], yticks=[])
    for _, run in first.iterrows():
        row = rows.index(run["_row"])
        ax = axes[0, row] if side_by_side else axes[row, cols.index(run["f"])]
        ax.imshow(Image.open(run["samples_png"]), cmap="gray")
        label = textwrap.fill(f"{run['_row']}, f={run['f']}", 40) if side_by_side else f"f={run['f']}"
        mark, colour = quality_mark(run)
        ax.set_title(label + mark, fontsize=8, color=colour)
    for i, row in enumerate([] if side_by_side else rows):
        axes[i, 0].set_ylabel(row, fontsize=9)
    fig.suptitle(title, y=1.1 if side_by_side else 0.98)
    _save(fig, path)


def training_curves(curves: pd.DataFrame, path, title: str) -> None:
    """D and G loss against step per setting (mean over seeds with its band), one panel per loss; the settings'
    legend below the panels."""
    long = curves.melt(id_vars=["step", "loss", "f", "setting", "seed"], value_vars=["d_loss", "g_loss"],
                       var_name="which", value_name="value")
    grid = sns.relplot(data=long, x="step", y="value", hue="setting", row="which", col="loss", kind="line",
                       height=2.6, aspect=1.3, facet_kws={"sharey": False}, errorbar=("pi", 100))
    grid.set_titles(row_template="{row_name}", col_template="{col_name}", size=9)
    sns.move_legend(grid, "upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(4, long["setting"].nunique()),
                    frameon=False, fontsize=8, title_fontsize=8)
    grid.figure.suptitle(title, y=1.02)
    _save(grid.figure, path)


def mixture_samples(samples: dict, marks: dict, data, path, title: str, columns: int = 4) -> None:
    """Generated samples (red) over the true density's contours, one panel per (loss, setting), each marked
    with its run's quality_mark (`marks`, by the same keys); each loss's panels on rows of their own, at most
    `columns` to a row, a setting in the same column for every loss where each has at most `columns`."""
    losses = list(dict.fromkeys(k[0] for k in samples))
    settings = list(dict.fromkeys(k[1] for k in samples))
    width = min(columns, len(settings))
    per_loss = math.ceil(len(settings) / width)  # rows of panels each loss takes
    axis = torch.linspace(-3, 3, 200)
    grid = torch.cartesian_prod(axis, axis)
    log_p = data.log_density(grid).reshape(200, 200).T
    fig, axes = plt.subplots(len(losses) * per_loss, width, figsize=(2.6 * width, 2.6 * len(losses) * per_loss),
                             squeeze=False, layout="constrained")  # room for the suptitle above panel titles
    for ax in axes.flat:
        ax.set_axis_off()
    for (loss, setting), x in samples.items():
        row, column = divmod(settings.index(setting), width)
        ax = axes[losses.index(loss) * per_loss + row, column]
        ax.set_axis_on()
        ax.contourf(axis, axis, log_p.clamp_min(-20), levels=8, cmap="Blues")
        ax.scatter(x[:, 0], x[:, 1], s=2, c="tab:red", alpha=0.5)
        ax.set(xlim=(-3, 3), ylim=(-3, 3), aspect="equal", xticks=[], yticks=[])
        mark, colour = marks[loss, setting]
        ax.set_title(textwrap.fill(setting, 28) + mark, fontsize=7, color=colour)
        ax.set_ylabel(loss, fontsize=9)
    fig.suptitle(title)
    _save(fig, path)


def energy_maps(panels: list, plane: dict, means, path, title: str) -> None:
    """One row per run: its learned s, the composed energy E_Q + s, its loss's s* and the data's energy
    -log p over the plane (`panels`: (row, maps) with maps of values on probes.plane's grid). Each map is
    clipped to its own 5-95% range and drawn low = dark: an energy is dark on the data (the modes are marked)."""
    n, extent = plane["points"], plane["extent"]
    columns = [("s", "learned s"), ("composed", "E_Q + s"), ("optimum", "s*(p, q) of its loss"),
               ("energy", "E_P = -log p")]
    fig, axes = plt.subplots(max(len(panels), 1), len(columns), figsize=(12, 2.8 * max(len(panels), 1)),
                             squeeze=False)
    for r, (row, maps) in enumerate(panels):
        for c, (key, name) in enumerate(columns):
            values = maps[key].reshape(n, n).T.float()
            finite = values[torch.isfinite(values)]
            low, high = (torch.quantile(finite, torch.tensor([0.05, 0.95])).tolist() if len(finite) else (0, 1))
            ax = axes[r, c]
            ax.imshow(values.nan_to_num(high, high, low).clamp(low, high), origin="lower", cmap="magma",
                      extent=(-extent, extent, -extent, extent))
            ax.scatter(means[:, 0], means[:, 1], s=4, c="tab:cyan", marker="+", linewidths=0.6)
            ax.set(xticks=[], yticks=[])
            if r == 0:
                ax.set_title(name, fontsize=9)
            if c == 0:
                ax.set_ylabel(f"{row['loss']}, {row['f']}\n{row['discriminator']}"
                              + (f", PT {row['pt_weight']:g}" if row["pt_weight"] else "")
                              + (f", calibrated w {row['entropy_weight']:g}" if row.get("entropy_weight") else ""),
                              fontsize=8)
    fig.suptitle(title, fontsize=10)
    _save(fig, path)


def probe_setting(runs: pd.DataFrame) -> pd.Series:
    """Each probed run's line: its experiment and what sets it apart (loss, an autoencoder D, the pull-away and
    entropy weights)."""
    entropy = runs.get("entropy_weight", pd.Series(0.0, index=runs.index))
    return (runs["experiment"] + ": " + runs["loss"]
            + runs["discriminator"].map(lambda d: "" if d == "mlp" else f" ({d})")
            + runs["pt_weight"].map(lambda w: f" PT {w:g}" if w else "")
            + entropy.map(lambda w: f" calibrated {w:g}" if w else ""))


def probes_over_training(probes: pd.DataFrame, statistic: str, path, title: str) -> None:
    """Mean probe per setting against the fraction of training done, with +-2 standard errors over its runs: on
    the 2D mixtures the correlation of s with E_P and with its s*, on MNIST the AUROC against the run's own
    samples and against noise. One legend below the panels (a setting keeps its colour in every panel); a
    setting probed once is a point with its interval."""
    def measured(dataset, column):  # a dataset's probes hold what its kind of data is probed for
        return column in probes and probes.loc[probes["dataset"] == dataset, column].notna().any()

    panels = [(d, f"plane_{t}_{statistic}", f"{d}: {statistic} of s with {name}")
              for d in probes["dataset"].unique() if measured(d, f"plane_energy_{statistic}")
              for t, name in (("energy", "E_P"), ("optimum", "s*"))]
    panels += [(d, f"auroc_{k}", f"{d}: AUROC against {k}") for d in probes["dataset"].unique()
               if measured(d, "auroc_samples") for k in ("samples", "noise")]
    ok = probes[probes["status"] == "ok"]
    settings = list(dict.fromkeys(probe_setting(ok)))
    palette = dict(zip(settings, sns.color_palette("tab20" if len(settings) > 10 else "tab10", len(settings))))
    columns = min(4, max(len(panels), 1))
    rows = math.ceil(max(len(panels), 1) / columns)
    legend_rows = math.ceil(len(settings) / 3)
    fig, axes = plt.subplots(rows, columns, figsize=(3.8 * columns, 3.4 * rows + 0.25 * legend_rows + 0.8),
                             squeeze=False, layout="constrained")
    for ax in axes.flat[len(panels):]:
        ax.set_axis_off()
    for ax, (dataset, column, name) in zip(axes.flat, panels):
        subset = ok[(ok["dataset"] == dataset) & ok[column].notna()]
        sns.lineplot(x=subset["fraction"], y=subset[column], hue=probe_setting(subset), palette=palette, marker="o",
                     errorbar=("se", 2), err_style="bars", legend=False, ax=ax)
        low, high = ax.get_ylim()  # correlations and AUROCs: a +-2 SE bar does not stretch the axis past them
        ax.set(title=name, xlabel="fraction of training", ylabel="", xlim=(0, 1.05),
               ylim=(max(low, -1.05), min(high, 1.05)))
        ax.title.set_fontsize(9)
    handles = [plt.Line2D([], [], color=palette[s], marker="o", label=s) for s in settings]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(3, max(len(settings), 1)), fontsize=8,
               frameon=False)
    fig.suptitle(textwrap.fill(title, 40 * max(columns, 2), replace_whitespace=False), fontsize=8)
    _save(fig, path)


# --- EBGAN's grid search (paper section 4.1) -------------------------------------------------------

def histogram(scores: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, float]:
    """(percentage of runs per bin, percentage diverged or unscored): every run counted exactly once.
    Scores beyond the outer edges fall into the first or last bin."""
    scores = np.asarray(scores, dtype=float)
    failed = ~np.isfinite(scores)
    index = np.clip(np.searchsorted(edges, scores[~failed], side="right") - 1, 0, len(edges) - 2)
    counts = np.bincount(index, minlength=len(edges) - 1)
    total = max(len(scores), 1)
    return 100.0 * counts / total, 100.0 * failed.sum() / total


def score_histograms(panels: list, edges, path, title: str, xlabel: str, columns: int = 3) -> None:
    """One panel per (panel title, {group: scores}): the percentage of a group's runs per score bin, and
    its diverged (or unscored, score NaN) runs as a bar in a bin of their own left of the axis."""
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.4 * columns, 3.7 * rows + 0.6), squeeze=False,
                             layout="constrained")
    width = edges[1] - edges[0]
    failed_x = edges[0] - 1.5 * width
    colours = sns.color_palette("deep")
    for ax, (panel_title, groups) in zip(axes.flat, panels):
        for i, (name, scores) in enumerate(groups.items()):
            percent, failed = histogram(scores, edges)
            ax.stairs(percent, edges, color=colours[i], lw=1.8, label=f"{name} (n={len(scores)})")
            ax.bar(failed_x + (i - (len(groups) - 1) / 2) * width / len(groups), failed, width=width / len(groups),
                   color=colours[i], alpha=0.7)
        ax.axvline(edges[0] - 0.5 * width, color="grey", lw=0.8, ls=":")
        ticks = [t for t in ax.get_xticks() if edges[0] <= t <= edges[-1]]
        ax.set_xticks([failed_x, *ticks], ["diverged", *[f"{t:g}" for t in ticks]], fontsize=8)
        ax.set(title=panel_title, xlabel=xlabel, ylabel="% of runs", xlim=(failed_x - width, edges[-1] + width / 2),
               ylim=(0, 105))
        # each panel's counts in a legend under it: never over the bars
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=len(groups), frameon=False)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(title)
    _save(fig, path)


def best_samples(best: list, path, title: str) -> None:
    """Sample grids side by side: `best` is a list of (panel title, its run's row of runs.csv)."""
    from PIL import Image
    fig, axes = plt.subplots(1, len(best), figsize=(4.2 * len(best), 4.8), squeeze=False)
    for ax, (panel_title, run) in zip(axes[0], best):
        ax.set(xticks=[], yticks=[])
        if run["status"] == "ok":
            ax.imshow(Image.open(run["samples_png"]), cmap="gray")
        mark, colour = quality_mark(run)
        ax.set_title(panel_title + mark, fontsize=8, color=colour)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    _save(fig, path)


def margin_sweep(table: pd.DataFrame, score: str, path, title: str) -> None:
    """Score and Frechet distance against the margin m (top) and each margin's samples (below)."""
    from PIL import Image
    table = table.sort_values("margin")
    n = len(table)
    fig = plt.figure(figsize=(max(8.0, 1.6 * n), 6.2))
    top = fig.add_subplot(2, 1, 1)
    top.plot(table["margin"], table[score], "o-", color="tab:blue", label=score)
    top.set(xscale="log", xlabel="margin m", ylabel=f"I' = {score} (higher better)", title=title)
    top.set_xticks(table["margin"], [f"{m:g}" for m in table["margin"]])
    fd = top.twinx()
    fd.plot(table["margin"], table["frechet_distance"], "s--", color="tab:red", label="frechet_distance")
    fd.set_ylabel("Frechet distance (lower better)", color="tab:red")
    fd.grid(False)
    for i, (_, run) in enumerate(table.iterrows()):
        ax = fig.add_subplot(2, n, n + i + 1)
        ax.imshow(Image.open(run["samples_png"]), cmap="gray")
        ax.set(xticks=[], yticks=[])
        mark, colour = quality_mark(run)
        ax.set_title(textwrap.fill(f"m={run['margin']:g}{mark}", 14), fontsize=7, color=colour)
    _save(fig, path)
