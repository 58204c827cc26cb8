"""MNIST, read from the four standard IDX files and verified by SHA-256.

The files live in :func:`mnist_dir`, gzipped (``.gz``) or plain. A file that is absent there is
downloaded from the public mirrors in :data:`MIRRORS`, tried in turn; every file, local or
downloaded, is checked against the size and SHA-256 of its uncompressed contents in
:data:`FILES` before it is used.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import os
import tempfile
import zlib
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from typing import NamedTuple
from urllib.request import urlopen

import numpy as np
from tqdm.auto import tqdm


class Expected(NamedTuple):
    """Size in bytes and SHA-256 of a file's uncompressed contents."""

    size: int
    sha256: str


FILES = {
    "train-images-idx3-ubyte": Expected(
        47040016, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    "train-labels-idx1-ubyte": Expected(
        60008, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    "t10k-images-idx3-ubyte": Expected(
        7840016, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    "t10k-labels-idx1-ubyte": Expected(
        10008, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
}

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

TIMEOUT_S = 30
CHUNK = 1 << 16


class MnistError(RuntimeError):
    """An MNIST file is missing, truncated or corrupt, or could not be downloaded."""


@dataclass(frozen=True)
class Mnist:
    """MNIST as arrays: images float32 in [0, 1], one row of 784 pixels each; labels int64.

    The arrays are shared by every caller (see :func:`load_mnist`) and are read-only.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def mnist_dir() -> Path:
    """The MNIST folder: ``$FALIB_MNIST`` if set, else ``$XDG_CACHE_HOME/falib/mnist``
    (``~/.cache/falib/mnist`` by default)."""
    if os.environ.get("FALIB_MNIST"):
        return Path(os.environ["FALIB_MNIST"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "falib" / "mnist"


def load_mnist(folder: str | os.PathLike | None = None, download: bool = True) -> Mnist:
    """The MNIST training and test sets from `folder` (default :func:`mnist_dir`).

    Files absent from the folder are downloaded into it when `download` is true. The decoded
    arrays are cached for the life of the process, per folder.
    """
    folder = Path(folder).expanduser() if folder is not None else mnist_dir()
    return _load(folder.resolve(), download)


@functools.lru_cache(maxsize=None)
def _load(folder: Path, download: bool) -> Mnist:
    _ensure(folder, download)
    raw = {name: _read(folder, name) for name in FILES}
    data = Mnist(
        x_train=_images(raw["train-images-idx3-ubyte"]),
        y_train=_labels(raw["train-labels-idx1-ubyte"]),
        x_test=_images(raw["t10k-images-idx3-ubyte"]),
        y_test=_labels(raw["t10k-labels-idx1-ubyte"]),
    )
    for array in (data.x_train, data.y_train, data.x_test, data.y_test):
        array.flags.writeable = False
    return data


def _local(folder: Path, name: str) -> Path | None:
    """The file `name` in `folder`, plain or gzipped, or None if it is absent."""
    for path in (folder / name, folder / f"{name}.gz"):
        if path.is_file():
            return path
    return None


def _read(folder: Path, name: str) -> bytes:
    """The verified, uncompressed contents of the file `name` in `folder`."""
    path = _local(folder, name)
    try:
        return _verified(name, path.read_bytes(), gzipped=path.suffix == ".gz")
    except ValueError as err:
        raise MnistError(f"{path} {err}; delete it so that it is downloaded again") from err


def _verified(name: str, blob: bytes, gzipped: bool) -> bytes:
    """The uncompressed contents of `blob`, checked against ``FILES[name]``.

    Raises ValueError, whose message completes a sentence that starts with the file's name.
    """
    if gzipped:
        try:
            blob = gzip.decompress(blob)
        except (EOFError, OSError, zlib.error) as err:
            raise ValueError(f"is truncated or corrupt: it does not decompress ({err})") from err
    size, sha256 = FILES[name]
    if len(blob) != size:
        state = "truncated" if len(blob) < size else "corrupt"
        raise ValueError(f"is {state}: {len(blob)} bytes uncompressed, expected {size}")
    actual = hashlib.sha256(blob).hexdigest()
    if actual != sha256:
        raise ValueError(f"is corrupt: its SHA-256 is {actual}, expected {sha256}")
    _header(name, blob)
    return blob


def _header(name: str, blob: bytes) -> None:
    """Check the IDX header of `blob`: unsigned bytes, and dimensions that fit its length."""
    ndim = 3 if "idx3" in name else 1
    magic = int.from_bytes(blob[:4], "big")
    if magic != 0x0800 + ndim:
        raise ValueError(f"is corrupt: IDX magic number {magic:#010x}, "
                         f"expected {0x0800 + ndim:#010x}")
    dims = tuple(int.from_bytes(blob[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    fits = len(blob) == 4 + 4 * ndim + int(np.prod(dims))
    if not fits or dims[1:] != ((28, 28) if ndim == 3 else ()):
        raise ValueError(f"is corrupt: IDX dimensions {dims} do not fit its {len(blob)} bytes")


def _images(blob: bytes) -> np.ndarray:
    x = np.frombuffer(blob, dtype=np.uint8, offset=16).reshape(-1, 784).astype(np.float32)
    x /= 255
    return x


def _labels(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.uint8, offset=8).astype(np.int64)


def _ensure(folder: Path, download: bool) -> None:
    """Download into `folder` the files absent from it, or raise MnistError naming them."""
    missing = [name for name in FILES if _local(folder, name) is None]
    if missing and not download:
        raise MnistError(_missing_message(folder, missing, []))
    for i, name in enumerate(missing):
        if failures := _download(folder, name):
            raise MnistError(_missing_message(folder, missing[i:], failures))


def _missing_message(folder: Path, names: list[str], failures: list[str]) -> str:
    tried = (f"Downloading {names[0]} failed from every mirror:\n  " + "\n  ".join(failures)
             if failures else "No download was tried (download=False).")
    return (f"MNIST files missing from {folder}: {', '.join(names)}. Put them in that folder, "
            f"gzipped (.gz) or plain, or set the environment variable FALIB_MNIST to a folder "
            f"that holds them. {tried}")


def _download(folder: Path, name: str) -> list[str]:
    """Download `name` into `folder` from the first mirror that serves it intact.

    Returns the reason each mirror failed: an empty list means success.
    """
    failures = []
    for mirror in MIRRORS:
        url = f"{mirror}{name}.gz"
        try:
            blob = _fetch(url)
            _verified(name, blob, gzipped=True)
        except (OSError, ValueError, HTTPException) as err:
            failures.append(f"{url}: {err}")
            continue
        _write(folder / f"{name}.gz", blob)
        return []
    return failures


def _fetch(url: str) -> bytes:
    """The bytes at `url`, with a progress bar unless ``$CI`` is set or ``FALIB_PROGRESS=0``."""
    quiet = bool(os.environ.get("CI")) or os.environ.get("FALIB_PROGRESS") == "0"
    with urlopen(url, timeout=TIMEOUT_S) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        chunks = []
        with tqdm(total=total, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1],
                  disable=quiet) as bar:
            while chunk := response.read(CHUNK):
                chunks.append(chunk)
                bar.update(len(chunk))
    return b"".join(chunks)


def _write(path: Path, blob: bytes) -> None:
    """Write `blob` to `path` atomically: a temporary file in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
