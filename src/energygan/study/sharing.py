"""A study shared through DVC: its data and results folders added to DVC and pushed to the default remote.
DVC content-addresses files, so a push uploads only files that changed since the last one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def dvc(*args: str) -> None:
    """Run the dvc beside this Python (the environment's), failing with DVC's own message."""
    executable = Path(sys.executable).with_name("dvc")
    command = [str(executable) if executable.exists() else "dvc", *args]
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"`{' '.join(['dvc', *args])}` failed: {(done.stderr or done.stdout).strip()}")


def files_under(path: Path) -> list[Path]:
    return [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]


def track(paths: list[str]) -> None:
    """`dvc add` then `dvc push` of `paths` (folders or files), keeping every file's modification time:
    DVC may relink what it adds, and Snakemake would then take each result for newer than the tables and
    figures made from it, and make them again."""
    if missing := [p for p in paths if not Path(p).exists()]:
        raise FileNotFoundError(f"cannot track {missing} with DVC: not made; run snakemake --cores all first")
    times = {f: f.stat() for p in paths for f in files_under(Path(p))}
    size = sum(st.st_size for st in times.values())
    print(f"dvc add: {len(paths)} paths, {len(times)} files, {size / 1e6:.1f} MB", file=sys.stderr)
    dvc("add", "--quiet", *paths)
    for f, st in times.items():
        os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    dvc("push", "--quiet", *[f"{p}.dvc" for p in paths])
    print(f"dvc push: done; commit {len(paths)} .dvc files: git add {' '.join(f'{p}.dvc' for p in paths)}",
          file=sys.stderr)
