"""A study in one short GPU window, without Snakemake on the GPU machine: the jobs of a Snakemake dry run,
planned here, run there in order, each stage within its own time limit, and the study kept at the end.

    python benchmarks/study_window.py plan --configfile config/paper.yaml config/paper_slice.yaml \
        --target results/metrics.json > window.json                               # here (Snakemake, data made)
    python benchmarks/study_window.py run window.json --out $OUT --limits train=420 probe=60 verdicts=60
                                                                                   # there, repository root

The plan lists the jobs that the target still needs here, in an order Snakemake would run them, with their
shell commands (every rule runs one `energygan` command), so carry to the GPU machine what is already made
here and the plan does not remake (data/mnist, results/evaluator). A job whose outputs all exist is skipped:
a window cut off keeps every finished job's outputs, and the same plan run again resumes with the first
unfinished job (training itself resumes from its last checkpoint). A stage that runs out of time stops
the jobs after it in that stage; the next stage still runs on what finished. At the end the study's small
outputs and provenance are kept in $OUT/study (energygan keep-study) with each job's log and time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

SKIPPED_RULES = ("track_study",)  # DVC needs the remote, which the GPU machine cannot reach
JOB = re.compile(r"^\s*(?:local)?rule (\S+):$")


def stage(rule: str) -> str:
    """train (training and scoring a shard), probe (the title question's probes), or verdicts (the rest)."""
    return "train" if rule.startswith(("train_", "evaluate_")) else "probe" if rule.startswith("probe_") else "verdicts"


def parse_dry_run(text: str) -> list[dict]:
    """The jobs of `snakemake --dry-run --printshellcmds` output (rule, inputs, outputs, logs, command), each
    after the jobs that make its inputs (a group's jobs are listed in lexicographic order, not run order)."""
    jobs, job = [], None
    for line in text.splitlines():
        field = line.strip()
        if match := JOB.match(line):
            job = {"rule": match[1], "inputs": [], "outputs": [], "logs": [], "command": None}
            jobs.append(job)
        elif job is not None and field.startswith(("input: ", "output: ", "log: ")):
            key, _, paths = field.partition(": ")
            job[f"{key}s"] = paths.split(", ")
        elif job is not None and field.startswith("Shell command: "):
            job["command"] = field[len("Shell command: "):]
    jobs = [{**j, "stage": stage(j["rule"])} for j in jobs if j["command"] and j["rule"] not in SKIPPED_RULES]
    maker = {path: i for i, j in enumerate(jobs) for path in j["outputs"]}
    ordered, placed = [], set()

    def place(i):
        if i in placed:
            return
        placed.add(i)
        for path in jobs[i]["inputs"]:
            if path in maker:
                place(maker[path])
        ordered.append(jobs[i])
    for i in range(len(jobs)):
        place(i)
    return ordered


def plan(configfiles: list[str], targets: list[str]) -> dict:
    """The config files (for the kept study's provenance) and the jobs the targets need here."""
    done = subprocess.run(["snakemake", "--dry-run", "--printshellcmds", "--cores", "1", *targets,
                           *(["--configfile", *configfiles] if configfiles else [])],
                          check=False, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"snakemake dry run failed:\n{done.stderr[-3000:]}")
    return {"configfiles": ["config/config.yaml", *configfiles], "jobs": parse_dry_run(done.stdout + done.stderr)}


def run(window: dict, out: Path, limits: dict[str, float], python: str) -> list[dict]:
    """Each job of a plan in order, within its stage's limit; a record per job (kept, done, failed, out of
    time) into out/jobs.json; then the study kept in out/study (replacing an earlier window's)."""
    out.mkdir(parents=True, exist_ok=True)
    shim = out / "bin"  # `energygan` for an image that has the package's dependencies but not its entry point
    shim.mkdir(exist_ok=True)
    (shim / "energygan").write_text(f'#!/bin/sh\nexec {python} -m energygan "$@"\n')
    (shim / "energygan").chmod(0o755)
    env = {**os.environ, "PATH": f"{shim}:{os.environ['PATH']}",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(Path("src").resolve()), os.environ.get("PYTHONPATH")]))}
    spent, records = dict.fromkeys(("train", "probe", "verdicts"), 0.0), []
    for job in window["jobs"]:
        name, left = job["stage"], limits.get(job["stage"], float("inf")) - spent.get(job["stage"], 0.0)
        record = {"rule": job["rule"], "stage": name}
        if job["outputs"] and all(Path(p).exists() for p in job["outputs"]):
            records.append({**record, "status": "kept"})
            continue
        if left <= 0:
            records.append({**record, "status": "out of time"})
            continue
        t0 = time.perf_counter()
        for path in job["outputs"] + job["logs"]:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # a session of its own: out of time, the whole pipeline (energygan and tee) stops, not just bash,
        # so that no job keeps the device busy behind the next stage
        process = subprocess.Popen(["bash", "-c", f"set -o pipefail; {job['command']}"], env=env,
                                   start_new_session=True)
        try:
            code = process.wait(timeout=left)
            status = "done" if code == 0 else f"failed ({code})"
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            status = "out of time"
        seconds = time.perf_counter() - t0
        spent[name] = spent.get(name, 0.0) + seconds
        records.append({**record, "status": status, "seconds": round(seconds, 1)})
        print(f"{job['rule']}: {status} in {seconds:.1f} s", file=sys.stderr, flush=True)
    (out / "jobs.json").write_text(json.dumps(records, indent=1))
    if Path("results/summary/runs.csv").exists():
        shutil.rmtree(out / "study", ignore_errors=True)
        note = f"study_window: {sum(r.get('seconds', 0) for r in records):.0f} s of jobs, " + \
            ", ".join(f"{s} {sum(r['status'] == 'done' for r in records if r['stage'] == s)} done" for s in spent)
        subprocess.run(["energygan", "keep-study", "--in", "results", "--out", str(out / "study"), "--params",
                        json.dumps({"configfiles": window["configfiles"], "note": note})], env=env, check=False)
    return records


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("plan", help="print the jobs the targets need here, as JSON (needs Snakemake)")
    make.add_argument("--configfile", nargs="*", default=[])
    make.add_argument("--target", nargs="+", default=["results/metrics.json"])
    go = sub.add_parser("run", help="run a plan's jobs, stage by stage, and keep the study")
    go.add_argument("file")
    go.add_argument("--out", required=True, type=Path)
    go.add_argument("--limits", nargs="*", default=[], help="stage=seconds (stages: train, probe, verdicts)")
    go.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    if args.command == "plan":
        print(json.dumps(plan(args.configfile, args.target), indent=1))
    else:
        limits = {k: float(v) for k, v in (item.split("=") for item in args.limits)}
        records = run(json.loads(Path(args.file).read_text()), args.out, limits, args.python)
        print(json.dumps({s: sum(r["status"] == "done" for r in records if r["stage"] == s)
                          for s in ("train", "probe", "verdicts")}), file=sys.stderr)


if __name__ == "__main__":
    main()
