"""The MNIST loader: the real files when FALIB_MNIST names their folder, tiny synthetic ones always.

The synthetic tests patch the table of expected files to match the tiny files, and replace
``urlopen`` so that no test touches the network.
"""
import gzip
import hashlib
import io
import os
from pathlib import Path
from urllib.error import URLError
from urllib.response import addinfourl

import numpy as np
import pytest

from falib import data

TRAIN_IMAGES = "train-images-idx3-ubyte"


def idx(array: np.ndarray) -> bytes:
    """`array` as an IDX file of unsigned bytes."""
    dims = b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return (0x0800 + array.ndim).to_bytes(4, "big") + dims + array.astype(np.uint8).tobytes()


def expected(raw: bytes) -> data.Expected:
    return data.Expected(len(raw), hashlib.sha256(raw).hexdigest())


def response(blob: bytes, url: str) -> addinfourl:
    return addinfourl(io.BytesIO(blob), {"Content-Length": str(len(blob))}, url, 200)


@pytest.fixture
def tiny():
    """Uncompressed contents of four tiny, valid MNIST files: 3 training and 2 test images."""
    rng = np.random.default_rng(0)
    return {
        TRAIN_IMAGES: idx(rng.integers(0, 256, (3, 28, 28))),
        "train-labels-idx1-ubyte": idx(np.array([5, 0, 4])),
        "t10k-images-idx3-ubyte": idx(rng.integers(0, 256, (2, 28, 28))),
        "t10k-labels-idx1-ubyte": idx(np.array([7, 2])),
    }


@pytest.fixture
def urls(monkeypatch):
    """The URLs asked for; by default every one fails as if offline."""
    asked = []

    def offline(url, timeout=None):
        asked.append(url)
        raise URLError("offline")

    monkeypatch.setattr(data, "urlopen", offline)
    monkeypatch.setenv("FALIB_PROGRESS", "0")
    return asked


@pytest.fixture
def folder(tmp_path, monkeypatch, tiny, urls):
    """A folder holding the tiny files gzipped, with the expected table patched to match them."""
    for name, raw in tiny.items():
        monkeypatch.setitem(data.FILES, name, expected(raw))
        (tmp_path / f"{name}.gz").write_bytes(gzip.compress(raw))
    return tmp_path


def serve(monkeypatch, urls, blobs):
    """Make ``urlopen`` answer the i-th URL asked for with ``blobs[i]`` (an exception is raised)."""
    def fake(url, timeout=None):
        blob = blobs[len(urls)]
        urls.append(url)
        if isinstance(blob, Exception):
            raise blob
        return response(blob, url)

    monkeypatch.setattr(data, "urlopen", fake)


def test_real_mnist():
    if not os.environ.get("FALIB_MNIST"):
        pytest.skip("set FALIB_MNIST to the folder of the real MNIST files to run this test")
    assert data.mnist_dir() == Path(os.environ["FALIB_MNIST"])
    mnist = data.load_mnist(download=False)
    assert mnist.x_train.shape == (60000, 784) and mnist.x_test.shape == (10000, 784)
    assert mnist.y_train.shape == (60000,) and mnist.y_test.shape == (10000,)
    assert mnist.x_train.dtype == mnist.x_test.dtype == np.float32
    assert mnist.y_train.dtype == mnist.y_test.dtype == np.int64
    assert mnist.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert mnist.y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert mnist.x_train.min() == 0 and mnist.x_train.max() == 1
    assert mnist.x_train.mean() == pytest.approx(0.1307, abs=1e-3)
    assert data.load_mnist(download=False) is mnist


def test_mnist_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("FALIB_MNIST", str(tmp_path / "mnist"))
    assert data.mnist_dir() == tmp_path / "mnist"
    monkeypatch.delenv("FALIB_MNIST")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data.mnist_dir() == tmp_path / "cache" / "falib" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert data.mnist_dir() == Path.home() / ".cache" / "falib" / "mnist"


def test_good_files_load_plain_or_gzipped(folder, tiny, urls):
    (folder / f"{TRAIN_IMAGES}.gz").unlink()
    (folder / TRAIN_IMAGES).write_bytes(tiny[TRAIN_IMAGES])
    mnist = data.load_mnist(folder)
    assert mnist.x_train.shape == (3, 784) and mnist.x_test.shape == (2, 784)
    assert mnist.x_train.dtype == np.float32 and mnist.y_train.dtype == np.int64
    pixels = np.frombuffer(tiny[TRAIN_IMAGES], np.uint8, offset=16).reshape(3, 784)
    np.testing.assert_allclose(mnist.x_train, pixels / 255, rtol=1e-6)
    assert mnist.y_train.tolist() == [5, 0, 4] and mnist.y_test.tolist() == [7, 2]
    assert data.load_mnist(str(folder)) is mnist
    assert not mnist.x_train.flags.writeable
    assert urls == []


def test_truncated_gzip_is_an_error(folder):
    path = folder / f"{TRAIN_IMAGES}.gz"
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(data.MnistError, match="truncated or corrupt") as err:
        data.load_mnist(folder)
    assert str(path) in str(err.value) and "delete it" in str(err.value)


def test_truncated_plain_file_is_an_error(folder, tiny):
    (folder / f"{TRAIN_IMAGES}.gz").unlink()
    (folder / TRAIN_IMAGES).write_bytes(tiny[TRAIN_IMAGES][:-100])
    with pytest.raises(data.MnistError, match="truncated"):
        data.load_mnist(folder)


def test_wrong_checksum_names_the_file_and_says_to_delete_it(folder, tiny, monkeypatch):
    monkeypatch.setitem(data.FILES, TRAIN_IMAGES, data.Expected(len(tiny[TRAIN_IMAGES]), "0" * 64))
    with pytest.raises(data.MnistError) as err:
        data.load_mnist(folder)
    message = str(err.value)
    assert str(folder / f"{TRAIN_IMAGES}.gz") in message and "delete it" in message
    assert "0" * 64 in message and expected(tiny[TRAIN_IMAGES]).sha256 in message


def test_an_unreadable_file_names_it_and_says_to_make_it_readable(folder, monkeypatch):
    """Not a bare ``[Errno 13]``, and not "delete it": the file is fine, its permissions are not."""
    unreadable, read_bytes = folder / f"{TRAIN_IMAGES}.gz", Path.read_bytes

    def refuse(path):
        if path == unreadable:
            raise PermissionError(13, "Permission denied", str(path))
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(data.MnistError, match="make it readable") as err:
        data.load_mnist(folder)
    assert f"cannot read {unreadable} (Permission denied)" in str(err.value) and "FALIB_MNIST" in str(err.value)


def test_an_empty_variable_counts_as_unset(monkeypatch, tmp_path):
    monkeypatch.setenv("FALIB_MNIST", "")
    monkeypatch.setenv("XDG_CACHE_HOME", "")
    assert data.mnist_dir() == Path.home() / ".cache" / "falib" / "mnist"


def test_bad_idx_header_is_an_error(folder, tiny, monkeypatch):
    raw = b"\x00\x00\x09\x03" + tiny[TRAIN_IMAGES][4:]
    monkeypatch.setitem(data.FILES, TRAIN_IMAGES, expected(raw))
    (folder / f"{TRAIN_IMAGES}.gz").write_bytes(gzip.compress(raw))
    with pytest.raises(data.MnistError, match="magic number"):
        data.load_mnist(folder)


def test_missing_file_offline_says_where_to_put_it(folder, urls):
    (folder / f"{TRAIN_IMAGES}.gz").unlink()
    before = sorted(folder.iterdir())
    with pytest.raises(data.MnistError) as err:
        data.load_mnist(folder)
    message = str(err.value)
    assert TRAIN_IMAGES in message and str(folder) in message and "FALIB_MNIST" in message
    assert "t10k-images" not in message  # only what is missing
    assert urls == [f"{mirror}{TRAIN_IMAGES}.gz" for mirror in data.MIRRORS]
    assert all(url in message for url in urls)
    assert sorted(folder.iterdir()) == before


def test_missing_file_without_download_tries_no_mirror(folder, urls):
    (folder / f"{TRAIN_IMAGES}.gz").unlink()
    with pytest.raises(data.MnistError, match="download=False"):
        data.load_mnist(folder, download=False)
    assert urls == []


def test_download_falls_back_to_the_next_mirror_and_writes_atomically(folder, tiny, monkeypatch,
                                                                      urls):
    path = folder / f"{TRAIN_IMAGES}.gz"
    path.unlink()
    good = gzip.compress(tiny[TRAIN_IMAGES])
    serve(monkeypatch, urls, [URLError("offline"), good[:-20], good])
    renames, replace = [], os.replace

    def spy(src, dst):
        renames.append((src, dst))
        replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    mnist = data.load_mnist(folder)
    assert len(urls) == 3
    assert [(Path(src).parent, Path(dst)) for src, dst in renames] == [(folder, path)]
    assert path.read_bytes() == good
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{n}.gz" for n in tiny)
    assert mnist.x_train.shape == (3, 784)


def test_failed_download_leaves_nothing_behind(folder, tiny, monkeypatch, urls):
    (folder / f"{TRAIN_IMAGES}.gz").unlink()
    before = sorted(folder.iterdir())
    serve(monkeypatch, urls, [gzip.compress(tiny[TRAIN_IMAGES])[:-20]] * len(data.MIRRORS))
    with pytest.raises(data.MnistError, match="truncated or corrupt"):
        data.load_mnist(folder)
    assert sorted(folder.iterdir()) == before


def test_interrupted_write_leaves_nothing_behind(tmp_path, monkeypatch):
    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        data._write(tmp_path / "file.gz", b"contents")
    assert list(tmp_path.iterdir()) == []


def test_fashion_mnist_reads_its_own_files_and_checksums(tmp_path, tiny, monkeypatch, urls):
    """Fashion-MNIST: its folder variable, its own checksums, its error messages."""
    for name, raw in tiny.items():
        (tmp_path / f"{name}.gz").write_bytes(gzip.compress(raw))
        monkeypatch.setitem(data.FASHION_FILES, name, expected(raw))
    monkeypatch.setenv("FALIB_FASHION_MNIST", str(tmp_path))
    assert data.fashion_dir() == tmp_path
    assert data.load_fashion_mnist().y_train.tolist() == [5, 0, 4]
    monkeypatch.setitem(data.FASHION_FILES, TRAIN_IMAGES, data.Expected(len(tiny[TRAIN_IMAGES]), "0" * 64))
    with pytest.raises(data.MnistError, match="corrupt"):
        data.load_fashion_mnist()
    (tmp_path / f"{TRAIN_IMAGES}.gz").unlink()
    with pytest.raises(data.MnistError, match="Fashion-MNIST files missing.*FALIB_FASHION_MNIST"):
        data.load_fashion_mnist(download=False)


def test_fashion_mnist_default_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("FALIB_FASHION_MNIST", raising=False)
    monkeypatch.setattr(data, "DEBIAN_FASHION", tmp_path / "debian")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data.fashion_dir() == tmp_path / "cache" / "falib" / "fashion-mnist"
    (tmp_path / "debian").mkdir()
    for name in data.FASHION_FILES:
        (tmp_path / "debian" / f"{name}.gz").write_bytes(b"")
    assert data.fashion_dir() == tmp_path / "debian"
