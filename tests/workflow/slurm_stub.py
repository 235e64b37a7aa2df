"""Stand-ins for SLURM's commands, for testing the real SLURM executor plugin on a machine without SLURM.

`python slurm_stub.py <command> <args>` acts as that command. sbatch records its arguments (one JSON line
per call in $STUB_SLURM_STATE/calls.jsonl), starts the job in the background as SLURM would (environment
SLURM_JOB_ID, SLURM_GPUS where GPUs were asked for, output into --output) and prints the job id;
sacct and squeue report each job RUNNING until it exits, then COMPLETED or FAILED; srun runs the command
it wraps; sinfo, scontrol and sacctmgr describe a cluster with partitions `cpu` and `gpu` and one account.
"""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

STATE = Path(os.environ["STUB_SLURM_STATE"])


def job_states() -> dict[str, str]:
    states = {}
    for started in sorted(STATE.glob("job-*.started")):
        job_id = started.stem[4:]
        done = STATE / f"job-{job_id}.exit"
        states[job_id] = "RUNNING" if not done.exists() else \
            "COMPLETED" if done.read_text().strip() == "0" else "FAILED"
    return states


def sbatch(args: list[str]) -> None:
    options = {}
    for arg in args:
        key, _, value = arg.partition("=")
        options[key] = value
    joined = " ".join(args)
    with open(STATE / "calls.jsonl", "a") as calls:
        calls.write(json.dumps({"args": args}) + "\n")
    job_id = str(len(list(STATE.glob("job-*.started"))) + 1001)
    (STATE / f"job-{job_id}.started").touch()
    command = options.get("--wrap") if "--wrap" in options else sys.stdin.read()
    output = re.search(r"--output[= ]'?([^' ]+)", joined)
    log = Path(output[1].replace("%j", job_id)) if output else STATE / f"job-{job_id}.out"
    log.parent.mkdir(parents=True, exist_ok=True)
    gpus = re.search(r"--gpus[= ](\d+)|--gres[= ]'?gpu(?::\w+)?:(\d+)", joined)
    env = {**os.environ, "SLURM_JOB_ID": job_id, "SLURM_JOBID": job_id, "SLURM_CPUS_PER_TASK": "1",
           **({"SLURM_GPUS": gpus[1] or gpus[2]} if gpus else {})}
    exit_file = STATE / f"job-{job_id}.exit"
    script = f"({command}) > {shlex.quote(str(log))} 2>&1; echo $? > {shlex.quote(str(exit_file))}"
    subprocess.Popen(["sh", "-c", script], env=env, start_new_session=True, stdin=subprocess.DEVNULL)
    print(job_id)


def srun(args: list[str]) -> None:
    """srun [options] command...: run the command (options take the --opt=value or -n1 form)."""
    command = args[next(i for i, a in enumerate(args) if not a.startswith("-")):]
    if command[:2] == ["sh", "-s"]:
        os.execvp("sh", ["sh", "-s"])
    os.execvp(command[0], command)


def main() -> None:
    name, args = sys.argv[1], sys.argv[2:]
    if name == "sbatch":
        sbatch(args)
    elif name == "srun":
        srun(args)
    elif name == "sacct":
        print("\n".join(f"{job}|{state}" for job, state in job_states().items()))
    elif name == "squeue":
        print("\n".join(f"{job}|{state}" for job, state in job_states().items() if state == "RUNNING"))
    elif name == "scancel":
        with open(STATE / "cancelled", "a") as cancelled:
            cancelled.write(" ".join(args) + "\n")
    elif name == "sinfo":
        print("PARTITION\ncpu*\ngpu")
    elif name == "scontrol":
        print("MinJobAge               = 300 sec" if args[:2] == ["show", "config"] else "")
    elif name in ("sacctmgr", "sshare"):
        print("test_account")
    else:
        sys.exit(f"slurm_stub: no stand-in for {name}")


if __name__ == "__main__":
    main()
