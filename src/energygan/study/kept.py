"""A finished study kept under version control: its small outputs (runs table, verdicts, probes, a few
figures) and its provenance (commit, config, device, date, training wall time per experiment) in a folder of
its own, `studies/<name>/`, which the report shows beside the run it was rendered with, labelled with its
scale and device. A paper-length study made on a GPU or a cluster is kept the same way:

    energygan keep-study --in results --out studies/<name> --params '{"configfiles": [...], "note": "..."}'
"""

from __future__ import annotations

import datetime
import json
import platform
import shutil
import subprocess
from pathlib import Path

from energygan import files
from energygan.report import tables

PROVENANCE = "provenance.json"
MAX_MB = 5.0  # a kept study is a few tables and figures, never run folders
# what a study keeps, relative to results/ (those the study made; a study without a grid search has no verdicts)
KEPT = ("summary/runs.csv", "metrics.json", "theory/claims.csv",
        "grid_search/verdicts.csv", "grid_search/families.csv", "grid_search/figure2.png", "grid_search/figure4.png",
        "title_question/claims.csv", "title_question/front.csv", "title_question/front_scale.txt",
        "title_question/energy_2d.csv", "title_question/auroc_mnist.csv", "title_question/over_training.png")
# the tables the report shows of a kept study, with their titles
SHOWN = {"title_question/claims.csv": "the title question's claims",
         "grid_search/verdicts.csv": "the grid search's verdicts",
         "grid_search/families.csv": "the grid search's families", "theory/claims.csv": "the theory's claims"}


def keep(results: str | Path, out: str | Path, configfiles: list[str], note: str = "") -> dict:
    """Copy a study's small outputs from `results` into `out` with its provenance; refuse more than MAX_MB."""
    results, out = Path(results), Path(out)
    present = [name for name in KEPT if (results / name).is_file()]
    probes = sorted(results.glob("*/probes.csv"))
    if not present:
        raise ValueError(f"{results}: none of a study's outputs ({', '.join(KEPT[:3])}, ...) is there; "
                         "run the study first")
    size_mb = sum((results / n).stat().st_size for n in present) / 1e6 + sum(p.stat().st_size for p in probes) / 1e6
    if size_mb > MAX_MB:
        raise ValueError(f"{results}: the study's outputs take {size_mb:.1f} MB, more than the {MAX_MB:g} MB a kept "
                         "study may; keep fewer figures or a smaller grid (energygan.study.kept.KEPT)")
    if out.exists():
        raise ValueError(f"{out} exists: a kept study is never overwritten; choose another name or remove it")
    for name in present:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(results / name, out / name)
    for path in probes:
        (out / "probes").mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, out / "probes" / f"{path.parent.name}.csv")
    record = provenance(results, configfiles, note)
    files.write_json(record, out / PROVENANCE)
    return record


def provenance(results: Path, configfiles: list[str], note: str) -> dict:
    """Commit (and whether tracked files had changes; the study's own outputs are untracked), config files'
    texts, device, date, and each experiment's training wall time from its jobs' records (trained.json)."""
    def git(*args):
        done = subprocess.run(["git", *args], check=False, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else None
    training = {}
    for record in sorted(results.glob("*/shards/*/trained.json")):
        seconds = json.loads(record.read_text()).get("wall_time_s", 0.0)
        training[record.parts[-4]] = round(training.get(record.parts[-4], 0.0) + seconds, 1)
    changed = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "HEAD"), "uncommitted_changes": bool(changed),
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "device": device(), "host": platform.node(),
            "configfiles": {path: Path(path).read_text() for path in configfiles},
            "training_wall_time_s": training, "note": note}


def device() -> str:
    import torch
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)} (CUDA {torch.version.cuda})"
    return f"CPU: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"


def label(study: str | Path) -> str:
    """How the report names a kept study: its folder, device, date, commit and scale."""
    study = Path(study)
    record = files.read_json(study / PROVENANCE, ("commit", "device", "date"), "energygan kept study provenance")
    scale = (study / "title_question/front_scale.txt")
    scale = scale.read_text().strip() if scale.is_file() else ""
    commit = ((record["commit"] or "unknown commit")[:10]
              + (" with uncommitted changes" if record.get("uncommitted_changes") else ""))
    return f"kept study {study.name}: {record['device']}, {record['date'][:10]}, commit {commit}. {scale}".strip()


def views(study: str | Path) -> dict[str, str]:
    """What the report shows of a kept study: each shown table's and each figure's path in the study ->
    its file name in the report's view (an HTML table, or the figure itself)."""
    study = Path(study)
    tables = {name: f"{name.replace('/', '__').removesuffix('.csv')}.html"
              for name in SHOWN if (study / name).is_file()}
    figures = {str(p.relative_to(study)): str(p.relative_to(study)).replace("/", "__")
               for p in sorted(study.rglob("*.png"))}
    return {**tables, **figures}


def render(study: str | Path, out: str | Path) -> list[Path]:
    """The report's view of a kept study into `out`: its shown tables as HTML, each titled with the study's
    label, and its figures; the paths written."""
    study, out = Path(study), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    title, written = label(study), []
    for name, view in views(study).items():
        if name in SHOWN:
            tables.write_html(files.read_csv(study / name), out / view, title=f"{SHOWN[name]} [{title}]")
        else:
            shutil.copy2(study / name, out / view)
        written.append(out / view)
    return written
