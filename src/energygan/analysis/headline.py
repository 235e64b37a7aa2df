"""The study's headline numbers in one small JSON file, `results/metrics.json`, which `dvc.yaml` declares as
DVC metrics: `dvc metrics show` lists them and `dvc metrics diff` compares two commits' results.

Per experiment: its runs, its diverged runs, its working runs (the quality floor, energygan.analysis.quality), its
dead discriminators, and the best and worst (loss, f) pair by the experiment's
headline score (scorers.Scorer.headline; the mean over the pair's finished runs); per verdict table (the grid
search, the title question), each claim's verdict under a short key with the runs (architectures, working
runs) it rests on and its scale, and how many claims have each verdict; the evaluator's
test accuracy where MNIST is scored.
"""

from __future__ import annotations

import math
import re

from energygan import files
from energygan.analysis import scorers, summary, verdicts


def experiment_metrics(runs) -> dict:
    """One experiment's rows of runs.csv -> runs, diverged, and its best and worst (loss, f), told apart also
    by discriminator and entropy weight where the experiment varies them (the EBGAN variants share (hinge,
    identity))."""
    dataset = runs["dataset"].iloc[0]
    score = scorers.of(dataset).headline
    finished = runs[runs["status"] == "ok"]
    keys = ["loss", "f"] + [k for k in ("discriminator", "entropy_weight") if k in runs and runs[k].nunique() > 1]
    pairs = finished.groupby(keys, sort=False)[score].mean().reset_index()
    record = {"runs": len(runs), "diverged": int((runs["status"] == "diverged").sum()),
              "working": int(summary.worked(runs).sum()), "dead_discriminators": int(summary.dead(runs).sum()),
              "score": score}
    if pairs[score].notna().any():
        best, worst = summary.ranking(pairs, dataset)
        for name, row in (("best", best), ("worst", worst)):
            record.update({name: ", ".join(str(row[k]) for k in keys), f"{name}_{score}": float(row[score])})
    return record


EVIDENCE = ("runs_A", "architectures_A", "working_A", "runs_B", "architectures_B", "working_B", "runs")


def short_key(claim: str, taken: set) -> str:
    """A claim's key for `dvc metrics show`: its first words as a slug (the full text stays in the tables)."""
    words = re.sub(r"[^a-z0-9]+", "_", claim.lower()).strip("_")
    key = words[:64].rstrip("_")
    while key in taken:
        key += "_"
    taken.add(key)
    return key


def verdict_metrics(table) -> dict:
    """A verdict table (claim, verdict; its runs per side and scale where it has them) -> each claim's
    verdict, the evidence it rests on and its scale, under a short key, and the count of each verdict."""
    claims, taken = {}, set()
    for row in table.to_dict("records"):
        record = {"verdict": row["verdict"], **{k: row[k] for k in EVIDENCE if k in row}}
        if "scale" in row:
            record["scale"] = row["scale"]
        claims[short_key(row["claim"], taken)] = record
    return {"counts": {verdict: int((table["verdict"] == verdict).sum()) for verdict in verdicts.NAMES},
            "claims": claims}


def write(runs_csv, out_json, verdict_tables: dict, evaluator_dir: str | None) -> dict:
    """`verdict_tables`: name -> CSV with claim and verdict columns; `evaluator_dir`: None where no run is
    scored by the MNIST classifier."""
    runs = summary.read_runs(runs_csv)
    record = {"experiments": {name: experiment_metrics(group)
                              for name, group in runs.groupby("experiment", sort=False)}}
    record["verdicts"] = {name: verdict_metrics(files.read_csv(path, ("claim", "verdict"), "energygan verdict table"))
                          for name, path in verdict_tables.items()}
    if evaluator_dir is not None:
        from energygan.analysis.evaluation import evaluator_metrics
        record["evaluator"] = {"test_accuracy": evaluator_metrics(evaluator_dir)["test_accuracy"]}
    files.write_json(_finite(record), out_json)
    return record


def _finite(value):
    """NaN and infinities as null: JSON has no NaN, and DVC would not parse it."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return None if isinstance(value, float) and not math.isfinite(value) else value
