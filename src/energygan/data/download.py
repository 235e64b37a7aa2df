"""Streaming downloads and checksums; nothing half-written is ever left at a final path."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import urllib.request
from pathlib import Path


class DownloadError(RuntimeError):
    """A source could not deliver a file, or delivered a wrong one."""


def file_digest(path: str | Path, algorithm: str = "md5") -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, algorithm).hexdigest()


def verify(path: str | Path, md5: str, size: int | None = None) -> None:
    """Raise DownloadError unless `path` has the expected size and MD5."""
    actual_size = os.path.getsize(path)
    if size is not None and actual_size != size:
        raise DownloadError(
            f"{Path(path).name}: {actual_size} bytes, expected {size} (truncated or wrong file)"
        )
    actual = file_digest(path, "md5")
    if actual != md5:
        raise DownloadError(f"{Path(path).name}: MD5 {actual}, expected {md5} (corrupt or wrong file)")


def fetch_url(url: str, dest: str | Path, timeout: float = 60.0) -> None:
    """Stream `url` to `dest`, printing progress to stderr every 10%."""
    request = urllib.request.Request(url, headers={"User-Agent": "energygan"})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except OSError as err:  # URLError, HTTPError, timeouts
        raise DownloadError(f"{url}: {getattr(err, 'reason', err)}") from err
    with response, open(dest, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0)
        done, next_report = 0, 0.1
        while chunk := response.read(1 << 20):
            out.write(chunk)
            done += len(chunk)
            if total and done / total >= next_report:
                print(f"  {url}: {done / total:4.0%} of {total / 1e6:.1f} MB", file=sys.stderr)
                next_report += 0.1
        if total and done != total:
            raise DownloadError(f"{url}: got {done} of {total} bytes (connection cut)")


def copy_stream(src, dest: str | Path) -> None:
    with open(dest, "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)
