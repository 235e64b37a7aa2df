import io
import zipfile

import lmdb
import numpy as np
import pytest
from PIL import Image

from energygan.data import lsun
from energygan.data.download import DownloadError


def banded(width, height):
    """Red outer bands, a green central square of side min(w, h) / 2, blue elsewhere."""
    a = np.zeros((height, width, 3), np.uint8)
    a[...] = (0, 0, 255)
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    a[:, :left] = a[:, left + side:] = (255, 0, 0)
    a[:top] = a[top + side:] = (255, 0, 0)
    c = side // 4
    a[height // 2 - c:height // 2 + c, width // 2 - c:width // 2 + c] = (0, 255, 0)
    return Image.fromarray(a)


@pytest.fixture
def lsun_zip(tmp_path):
    """A small LSUN-style LMDB (WebP and JPEG values, landscape and portrait), zipped as LSUN ships it."""
    folder = tmp_path / "bedroom_train_lmdb"
    env = lmdb.open(str(folder), map_size=1 << 26)
    with env.begin(write=True) as txn:
        for i in range(7):
            image = banded(160, 96) if i % 2 else banded(90, 150)
            buffer = io.BytesIO()
            image.save(buffer, format="WEBP" if i % 3 else "JPEG", quality=95)
            txn.put(f"{i:040x}".encode(), buffer.getvalue())
    env.close()
    path = tmp_path / "bedroom_train_lmdb.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for f in folder.iterdir():
            archive.write(f, f"bedroom_train_lmdb/{f.name}")
    return path


def test_convert_shapes_shards_and_centre_crop(lsun_zip, tmp_path):
    out = tmp_path / "shards"
    assert lsun.convert(lsun_zip, out, max_images=5, image_size=64, shard_size=2) == 5
    assert sorted(p.name for p in out.iterdir()) == ["shard-00000.npy", "shard-00001.npy", "shard-00002.npy"]
    images = lsun.load(out)
    assert images.shape == (5, 64, 64, 3) and images.dtype == np.uint8
    # The crop keeps the central square only: no red band survives (inside a 2-pixel rim that
    # resampling blends with the band just outside), the centre is green, corners blue.
    for image in images.astype(int):
        assert image[2:-2, 2:-2, 0].max() < 60
        assert image[32, 32, 1] > 200 and image[32, 32, 2] < 60
        assert image[2, 2, 2] > 200


def test_convert_replaces_output_only_when_complete(lsun_zip, tmp_path):
    out = tmp_path / "shards"
    lsun.convert(lsun_zip, out, max_images=3, image_size=32, shard_size=10)
    broken = tmp_path / "broken.zip"
    broken.write_bytes(lsun_zip.read_bytes()[:200])
    with pytest.raises(DownloadError, match="not a valid zip"):
        lsun.convert(broken, out, max_images=3, image_size=32, shard_size=10)
    assert lsun.load(out).shape == (3, 32, 32, 3)  # the earlier complete output is untouched


def test_fetch_over_http_records_sha256(lsun_zip, tmp_path, http_root):
    root, url = http_root
    (root / lsun_zip.name).write_bytes(lsun_zip.read_bytes())
    dest = tmp_path / "dl/bedroom_train_lmdb.zip"
    lsun.fetch("bedroom", dest, url_template=url + "{category}_train_lmdb.zip")
    assert dest.read_bytes() == lsun_zip.read_bytes()
    assert '"sha256"' in dest.with_suffix(".json").read_text()


def test_fetch_corrupt_zip_leaves_nothing(lsun_zip, tmp_path, http_root):
    root, url = http_root
    data = bytearray(lsun_zip.read_bytes())
    data[60:70] = b"0123456789"  # inside the first member: its CRC no longer matches
    (root / lsun_zip.name).write_bytes(bytes(data))
    dest = tmp_path / "dl/bedroom_train_lmdb.zip"
    with pytest.raises(DownloadError):
        lsun.fetch("bedroom", dest, url_template=url + "{category}_train_lmdb.zip")
    assert list(dest.parent.iterdir()) == []
