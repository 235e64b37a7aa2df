"""LSUN scenes: fetch a category's official LMDB zip, convert it into 64x64 uint8 shards.

LSUN publishes no checksums; the zip's own CRCs are checked after download, and the sha256 of what
was downloaded is recorded beside it so that later runs can be traced to the exact bytes.
"""

from __future__ import annotations

import io
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import lmdb
import numpy as np
from PIL import Image

from energygan import files
from energygan.data.download import DownloadError, fetch_url, file_digest


def fetch(category: str, zip_path: str | Path, url_template: str) -> None:
    """Download `url_template` with {category} filled in (config `lsun.url`; the official scenes by default)."""
    zip_path = Path(zip_path)
    url = url_template.format(category=category)
    with files.atomic_path(zip_path) as part:
        try:
            fetch_url(url, part, timeout=120)
        except OSError as err:
            raise DownloadError(f"LSUN {category}: download of {url} failed ({err})") from err
        check_zip(part)
        digest = file_digest(part, "sha256")
    files.write_json({"url": url, "sha256": digest}, zip_path.with_suffix(".json"))


def check_zip(path: str | Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except zipfile.BadZipFile as err:
        raise DownloadError(f"{Path(path).name}: not a valid zip ({err}); delete it and download again") from err
    if bad is not None:
        raise DownloadError(f"{Path(path).name}: member {bad} fails its CRC; delete it and download again")


def center_crop(image: Image.Image, size: int) -> np.ndarray:
    """Resize the shorter side to `size`, then cut the central size x size square (RGB uint8)."""
    image = image.convert("RGB")
    scale = size / min(image.size)
    width, height = max(size, round(image.width * scale)), max(size, round(image.height * scale))
    image = image.resize((width, height), Image.Resampling.BICUBIC)
    left, top = (width - size) // 2, (height - size) // 2
    return np.asarray(image.crop((left, top, left + size, top + size)), dtype=np.uint8)


def iter_images(lmdb_dir: str | Path):
    """Decoded images of an LSUN LMDB (values are WebP or JPEG bytes; PIL detects which)."""
    env = lmdb.open(str(lmdb_dir), readonly=True, lock=False, readahead=False, subdir=True)
    try:
        with env.begin() as txn:
            for _, value in txn.cursor():
                yield Image.open(io.BytesIO(value))
    finally:
        env.close()


def convert(source: str | Path, out_dir: str | Path, max_images: int, image_size: int = 64,
            shard_size: int = 10_000) -> int:
    """Write `shard-00000.npy`, ... ([n, image_size, image_size, 3] uint8) from a zip or an LMDB folder.

    The shards are written into a temporary folder that replaces `out_dir` only when complete.
    """
    source, out_dir = Path(source), Path(out_dir)
    with tempfile.TemporaryDirectory(dir=out_dir.parent if out_dir.parent.exists() else None) as tmp:
        lmdb_dir = _lmdb_dir(source, Path(tmp))
        staging = Path(tmp) / "shards"
        staging.mkdir()
        count, shard = 0, []
        for image in iter_images(lmdb_dir):
            if count >= max_images:
                break
            shard.append(center_crop(image, image_size))
            count += 1
            if len(shard) == shard_size:
                _write_shard(staging, shard, count)
                shard = []
        if shard:
            _write_shard(staging, shard, count)
        if count == 0:
            raise DownloadError(f"{source}: the LMDB holds no images")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), out_dir)
    return count


def _write_shard(folder: Path, images: list, count: int) -> None:
    index = len(list(folder.glob("shard-*.npy")))
    np.save(folder / f"shard-{index:05d}.npy", np.stack(images))
    print(f"LSUN: {count} images converted", file=sys.stderr)


def _lmdb_dir(source: Path, tmp: Path) -> Path:
    if source.is_dir():
        return source
    check_zip(source)
    with zipfile.ZipFile(source) as archive:
        archive.extractall(tmp / "lmdb")
    found = [p.parent for p in (tmp / "lmdb").rglob("data.mdb")]
    if len(found) != 1:
        raise DownloadError(f"{source.name}: expected one LMDB (data.mdb) inside, found {len(found)}")
    return found[0]


def load(shard_dir: str | Path) -> np.ndarray:
    return np.concatenate([files.open_array(p, None, made_by=shard_dir)
                           for p in sorted(Path(shard_dir).glob("shard-*.npy"))])
