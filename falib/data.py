"""MNIST and Fashion-MNIST, read from the four standard IDX files and verified by SHA-256.

MNIST's files live in :func:`mnist_dir`, gzipped (``.gz``) or plain. A file that is absent there is
downloaded from the public mirrors in :data:`MIRRORS`, tried in turn; every file, local or
downloaded, is checked against the size and SHA-256 of its uncompressed contents in
:data:`FILES` before it is used. Fashion-MNIST (Xiao, Rasul & Vollgraf 2017: clothing, the same
format) is read the same way from :func:`fashion_dir` (Debian's ``dataset-fashion-mnist`` package
puts it in ``/usr/share/datasets/fashion-mnist``), checked against :data:`FASHION_FILES`.

Any data set, images or drawn, reaches a network as columns (:func:`columns`), in minibatches
(:func:`minibatches`).
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

FASHION_FILES = {
    "train-images-idx3-ubyte": Expected(
        47040016, "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    "train-labels-idx1-ubyte": Expected(
        60008, "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    "t10k-images-idx3-ubyte": Expected(
        7840016, "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    "t10k-labels-idx1-ubyte": Expected(
        10008, "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
}

FASHION_MIRRORS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")

TIMEOUT_S = 30
CHUNK = 1 << 16


class MnistError(RuntimeError):
    """An MNIST (or Fashion-MNIST) file is missing, truncated or corrupt, or could not be downloaded."""


class Source(NamedTuple):
    """A data set in the MNIST format: its name, the variable naming its folder, files and mirrors."""

    name: str
    variable: str
    files: dict
    mirrors: tuple


@dataclass(frozen=True)
class Mnist:
    """MNIST as arrays: images float32 in [0, 1], one row of 784 pixels each; labels int64.

    The arrays are shared by every caller (see :func:`load_mnist`) and are read-only.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def _cache(name: str) -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "falib" / name


def mnist_dir() -> Path:
    """The MNIST folder: ``$FALIB_MNIST`` if set, else ``$XDG_CACHE_HOME/falib/mnist``
    (``~/.cache/falib/mnist`` by default)."""
    if os.environ.get("FALIB_MNIST"):
        return Path(os.environ["FALIB_MNIST"]).expanduser()
    return _cache("mnist")


def fashion_dir() -> Path:
    """The Fashion-MNIST folder: ``$FALIB_FASHION_MNIST`` if set, else Debian's
    ``/usr/share/datasets/fashion-mnist`` if it holds the files, else ``$XDG_CACHE_HOME/falib/fashion-mnist``."""
    if os.environ.get("FALIB_FASHION_MNIST"):
        return Path(os.environ["FALIB_FASHION_MNIST"]).expanduser()
    if all(_local(DEBIAN_FASHION, name) for name in FASHION_FILES):
        return DEBIAN_FASHION
    return _cache("fashion-mnist")


def load_mnist(folder: str | os.PathLike | None = None, download: bool = True) -> Mnist:
    """The MNIST training and test sets from `folder` (default :func:`mnist_dir`).

    Files absent from the folder are downloaded into it when `download` is true. The decoded
    arrays are cached for the life of the process, per folder.
    """
    folder = Path(folder).expanduser() if folder is not None else mnist_dir()
    return _load(folder.resolve(), download, Source("MNIST", "FALIB_MNIST", FILES, MIRRORS))


def load_fashion_mnist(folder: str | os.PathLike | None = None, download: bool = True) -> Mnist:
    """Fashion-MNIST's training and test sets (ten kinds of clothing, same format as MNIST) from
    `folder` (default :func:`fashion_dir`), verified by SHA-256; as :func:`load_mnist`."""
    folder = Path(folder).expanduser() if folder is not None else fashion_dir()
    source = Source("Fashion-MNIST", "FALIB_FASHION_MNIST", FASHION_FILES, FASHION_MIRRORS)
    return _load(folder.resolve(), download, source)


def _load(folder: Path, download: bool, source: Source) -> Mnist:
    return _decode(folder, download, source.name, source.variable, tuple(source.files.items()), source.mirrors)


@functools.lru_cache(maxsize=None)
def _decode(folder: Path, download: bool, name: str, variable: str, files: tuple, mirrors: tuple) -> Mnist:
    source = Source(name, variable, dict(files), mirrors)
    _ensure(folder, download, source)
    raw = {name: _read(folder, name, source) for name in source.files}
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


def _read(folder: Path, name: str, source: Source) -> bytes:
    """The verified, uncompressed contents of the file `name` in `folder`."""
    path = _local(folder, name)
    try:
        blob = path.read_bytes()
    except OSError as err:
        raise MnistError(f"cannot read {path} ({err.strerror or err}); make it readable (chmod a+r), or set "
                         f"{source.variable} to a folder that holds readable copies") from err
    try:
        return _verified(name, blob, path.suffix == ".gz", source.files)
    except ValueError as err:
        raise MnistError(f"{path} {err}; delete it so that it is downloaded again") from err


def _verified(name: str, blob: bytes, gzipped: bool, files: dict) -> bytes:
    """The uncompressed contents of `blob`, checked against ``files[name]``.

    Raises ValueError, whose message completes a sentence that starts with the file's name.
    """
    if gzipped:
        try:
            blob = gzip.decompress(blob)
        except (EOFError, OSError, zlib.error) as err:
            raise ValueError(f"is truncated or corrupt: it does not decompress ({err})") from err
    size, sha256 = files[name]
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


def _ensure(folder: Path, download: bool, source: Source) -> None:
    """Download into `folder` the files absent from it, or raise MnistError naming them."""
    missing = [name for name in source.files if _local(folder, name) is None]
    if missing and not download:
        raise MnistError(_missing_message(folder, missing, [], source))
    for i, name in enumerate(missing):
        if failures := _download(folder, name, source):
            raise MnistError(_missing_message(folder, missing[i:], failures, source))


def _missing_message(folder: Path, names: list[str], failures: list[str], source: Source) -> str:
    tried = (f"Downloading {names[0]} failed from every mirror:\n  " + "\n  ".join(failures)
             if failures else "No download was tried (download=False).")
    return (f"{source.name} files missing from {folder}: {', '.join(names)}. Put them in that folder, "
            f"gzipped (.gz) or plain, or set the environment variable {source.variable} to a folder "
            f"that holds them. {tried}")


def _download(folder: Path, name: str, source: Source) -> list[str]:
    """Download `name` into `folder` from the first mirror that serves it intact.

    Returns the reason each mirror failed: an empty list means success.
    """
    failures = []
    for mirror in source.mirrors:
        url = f"{mirror}{name}.gz"
        try:
            blob = _fetch(url)
            _verified(name, blob, True, source.files)
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


def columns(X: np.ndarray, backend):
    """Host examples ``(n, features)`` as a backend array ``(1, features, n)``: one column each."""
    return backend.asarray(X.T[None])


def minibatches(X, Y, batch: int):
    """``batch(t)``: the t-th minibatch of the column arrays X, Y, cycling through them in order."""
    n = X.shape[-1]
    if batch < 1 or batch > n:
        raise ValueError(f"batch size must be between 1 and the {n} examples, got {batch}")
    per_pass = n // batch

    def get(t: int):
        i = (t % per_pass) * batch
        return X[..., i:i + batch], Y[..., i:i + batch]

    return get
