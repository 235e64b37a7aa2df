"""The pipeline's files on disk. Every output is written whole: serialised first, then renamed into place,
so that a job killed while writing leaves nothing under the output's name. Every input is read back with
an error that names the file, says what is wrong with it and how to get a good one: re-make it with the
Snakemake command that makes it, or restore it with `dvc pull` where DVC tracks it.

torch, numpy and pandas are imported where a file of theirs is read or written, so that a job that reads
only JSON starts in a second.
"""

from __future__ import annotations

import errno
import io
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


class FileError(ValueError):
    """An input file that is missing, truncated, foreign or from another version of the package, or an output
    the operating system refused to write."""


def tracked_by(path: str | Path) -> Path | None:
    """The .dvc file that tracks `path` (the file itself or a folder above it), if any."""
    path = Path(path)
    for item in (path, *path.parents):
        if item.name and (dvc_file := item.with_name(item.name + ".dvc")).is_file():
            return dvc_file
    return None


def remedy(path: str | Path, made_by: str | Path | None = None) -> str:
    """How to get a good copy of `path`; `made_by`: the Snakemake output that holds it, where `path` is
    not one itself (a file in a directory() output)."""
    fix = f"re-make it: snakemake --cores all --force {made_by or path}"
    if (dvc_file := tracked_by(path)) is not None:
        fix += f", or restore the study's copy: dvc pull {dvc_file}"
    return fix


def refuse(path: str | Path, problem: str, made_by: str | Path | None = None) -> FileError:
    return FileError(f"{path} {problem}; {remedy(path, made_by)}")


# what to do where the operating system refuses a write, by its errno
WRITE_FIXES = {
    errno.ENOSPC: "free space there or write elsewhere",
    errno.EACCES: "check the folder's permissions (ls -ld {folder})",
    errno.EPERM: "check the folder's permissions (ls -ld {folder})",
    errno.EROFS: "remount it read-write or write elsewhere",
}


def refuse_write(path: Path, err: OSError) -> FileError:
    """The OS's refusal to write `path`, naming the file and its folder (its own message names at most the
    temporary file, and a full disk during a run otherwise ends in a bare `[Errno 28]`)."""
    reason = err.strerror.lower() if err.strerror else str(err)
    fix = WRITE_FIXES.get(err.errno, "").format(folder=path.parent)
    return FileError(f"could not write {path}: {reason} in {path.parent}" + (f"; {fix}" if fix else ""))


@contextmanager
def atomic_path(final: str | Path):
    """Yield a temporary path beside `final`; rename it into place only if the block succeeds. An OSError on the
    way (the block's writes included, but not its reads of other files) is raised as a FileError that names
    `final` and its folder."""
    final = Path(final)
    tmp = None
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
        os.close(fd)
        yield Path(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files
        os.replace(tmp, final)
    except OSError as err:
        if err.filename is not None and str(err.filename) not in {str(tmp), str(final), str(final.parent)}:
            raise  # about another file (an input the block reads): its own error says which
        raise refuse_write(final, err) from err
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)


# -- writing --

def write_bytes(data: bytes, path: str | Path) -> None:
    with atomic_path(path) as part:
        part.write_bytes(data)


def write_text(text: str, path: str | Path) -> None:
    write_bytes(text.encode(), path)


def write_json(record: dict, path: str | Path) -> None:
    write_text(json.dumps(record, indent=2), path)


def save_tensors(obj, path: str | Path) -> None:
    """torch.save through memory (it would otherwise embed the temporary file's name in the archive)."""
    import torch
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_bytes(buffer.getvalue(), path)


def write_csv(table, path: str | Path) -> None:
    write_text(table.to_csv(index=False), path)


def save_figure(fig, path: str | Path, **savefig) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format=Path(path).suffix[1:], **savefig)
    write_bytes(buffer.getvalue(), path)


# -- reading --

def _missing_keys(record, required) -> list | None:
    """The required keys `record` lacks; None where it is no mapping at all."""
    return [k for k in required if k not in record] if isinstance(record, dict) else None


def read_json(path: str | Path, required: tuple = (), what: str = "energygan") -> dict:
    """A JSON object with the `required` keys; `what` names the kind of file in the error."""
    path = Path(path)
    if not path.is_file():
        raise refuse(path, "is missing")
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise refuse(path, f"is truncated or not valid JSON ({err})") from err
    if (missing := _missing_keys(record, required)) is None or missing:
        raise refuse(path, f"is not an {what} file (it lacks {missing or 'an object at the top'})")
    return record


def load_tensors(path: str | Path, required: tuple = (), what: str = "energygan", map_location="cpu") -> dict:
    """A weights_only torch file holding a dict with the `required` keys."""
    import torch
    path = Path(path)
    if not path.is_file():
        raise refuse(path, "is missing")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # a truncated zip or a foreign pickle; torch's own message names no file
        raise refuse(path, f"is truncated or not a torch file ({type(err).__name__})") from err
    if (missing := _missing_keys(state, required)) is None or missing:
        raise refuse(path, f"is not an {what} file (it lacks {missing or 'a dict at the top'})")
    return state


def read_csv(path: str | Path, required: tuple = (), what: str = "energygan table"):
    """A CSV table with the `required` columns."""
    import pandas as pd
    path = Path(path)
    if not path.is_file():
        raise refuse(path, "is missing")
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):  # every table here is written whole, ending with a line end
        raise refuse(path, "is truncated (its last line is cut short)")
    try:
        table = pd.read_csv(io.BytesIO(data))
    except (ValueError, OSError) as err:  # pandas' EmptyDataError and ParserError are ValueErrors
        raise refuse(path, f"is truncated or not a CSV table ({type(err).__name__}: {err})") from err
    if missing := [c for c in required if c not in table.columns]:
        raise refuse(path, f"is not an {what} (no column {missing})")
    return table


def open_array(path: str | Path, mmap_mode: str | None = "r", made_by: str | Path | None = None):
    """A .npy array, memory-mapped by default; a truncated file is refused here, not at its first read."""
    import numpy as np
    path = Path(path)
    try:
        return np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
    except FileNotFoundError as err:
        raise refuse(path, "is missing", made_by) from err
    except (ValueError, OSError, EOFError) as err:
        raise refuse(path, f"is truncated or not a .npy array ({err})", made_by) from err
