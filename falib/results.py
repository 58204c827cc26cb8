"""Results as plain files: one ``.npz`` per (experiment, profile, configuration, origin), written atomically.

A file is named ``<experiment>-<profile>-<backend>-<device>-<dtype>-<key>.npz``: its *origin*
(the array library, the device class and the float type, everything besides the configuration
that changes the numbers) in words, then a key, a hash of the experiment's name, configuration
and origin. Results computed elsewhere are never mistaken for, nor written over, each other.
Arrays are stored without pickle; the configuration and provenance (library versions, the code
fingerprint, the git commit) travel inside the same file as a JSON string. A SHA-256 digest of
every array, stored in the header, catches truncation and corruption, and loading compares the
file's own name, configuration and origin with those asked for: a mismatch is reported, never
silently used.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

FORMAT = 2
ORIGIN = ("backend", "device", "dtype")
HEADER = ("name", "profile", "config", "meta", "format", "hash", "digests")
REPO_RESULTS = Path(__file__).resolve().parent.parent / "results"
TMP = ".tmp-"


class ResultsError(RuntimeError):
    """Results are missing, stale or unreadable, or cannot be written."""


class MissingArray(ResultsError, KeyError):
    """Results lack an array that was asked for."""

    def __str__(self) -> str:
        return self.args[0]


def env(name: str) -> str | None:
    """The environment variable `name`; an empty one counts as unset."""
    return os.environ.get(name) or None


def plain(config: dict) -> dict:
    """`config` as it reads back from JSON (tuples become lists)."""
    return json.loads(json.dumps(config))


def config_hash(name: str, config: dict, origin: dict) -> str:
    """A short, stable hash of an experiment's name, configuration and origin."""
    text = json.dumps({"experiment": name, "config": config, "origin": origin, "format": FORMAT},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def file_name(name: str, profile: str, config: dict, origin: dict) -> str:
    tag = "-".join(origin[k] for k in ORIGIN)
    return f"{name}-{profile}-{tag}-{config_hash(name, config, origin)}.npz"


def digest(a: np.ndarray) -> str:
    """SHA-256 of an array's dtype, shape and contents."""
    a = np.ascontiguousarray(a)
    return hashlib.sha256(f"{a.dtype.str}{a.shape}".encode() + a.tobytes()).hexdigest()


def cache_dir() -> Path:
    """The cache for results that are not committed: ``FALIB_CACHE``, else the user's cache folder.
    A cache inside the folder of committed results is refused (quick files would sit among them)."""
    default = Path(env("XDG_CACHE_HOME") or Path.home() / ".cache") / "falib" / "results"
    cache = Path(env("FALIB_CACHE") or default).expanduser()
    for committed in dict.fromkeys((REPO_RESULTS, results_dir("paper"))):
        if inside(cache, committed):
            raise ResultsError(f"the results cache {cache} (FALIB_CACHE) is inside {committed}, the folder of "
                               "committed paper results; point FALIB_CACHE to a folder outside it, or unset it")
    return cache


@contextmanager
def scratch_cache(prefix: str = "falib-"):
    """A temporary results cache (``FALIB_CACHE``) while the block runs: a run that saves its state
    there (spiking) resumes from nothing in the user's cache and leaves nothing behind."""
    before = os.environ.get("FALIB_CACHE")
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        os.environ["FALIB_CACHE"] = folder
        try:
            yield
        finally:
            if before is None:
                os.environ.pop("FALIB_CACHE", None)
            else:
                os.environ["FALIB_CACHE"] = before


def results_dir(profile: str) -> Path:
    """Where results of `profile` live: ``results/`` in the repository for ``paper`` (or the folder
    ``FALIB_RESULTS`` names), else the cache."""
    return Path(env("FALIB_RESULTS") or REPO_RESULTS).expanduser() if profile == "paper" else cache_dir()


def inside(path: Path, folder: Path) -> bool:
    """Whether `path`, links followed, is `folder` or lies within it."""
    return Path(path).resolve().is_relative_to(Path(folder).resolve())


def writable(folder: Path, what: str, fix: str) -> Path:
    """Create `folder` if needed and check that files can be written there; else a ResultsError
    that names it, says what it is for (`what`) and how to choose another (`fix`)."""
    folder = Path(folder)
    try:
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(20, "it is a file, not a folder", str(folder))
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as err:
        raise ResultsError(f"cannot write the {what} in {folder}: {err.strerror or err}; "
                           f"make it a writable folder, or {fix}") from err
    return folder


def remove_orphans(folder: Path) -> None:
    """Delete the temporary files that saves killed before they could clean up left in `folder`
    (their name carries the process id; those of live processes are kept)."""
    for path in Path(folder).glob(f"{TMP}*.npz"):
        pid = path.name[len(TMP):].split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if os.name == "nt":   # no harmless probe there: keep the file
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # alive, and another user's
        pass
    return True


def write(path: Path, header: dict, arrays: dict, compress: bool = True) -> Path:
    """Write `arrays` and a JSON `header` (plus a SHA-256 of every array) to the ``.npz`` file `path`
    atomically (temporary file, then rename): never a half-written file, and no temporary file left
    behind, even by a save that was killed (see :func:`remove_orphans`)."""
    path = Path(path)
    header = dict(header, digests={k: digest(v) for k, v in arrays.items()})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_orphans(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{TMP}{os.getpid()}-", suffix=".npz")
    except OSError as err:
        raise ResultsError(f"cannot write {path} ({err.strerror or err}); make its folder writable, or "
                           "choose another (--out, FALIB_CACHE)") from err
    try:
        os.chmod(tmp, 0o644)
        with os.fdopen(fd, "wb") as fh:
            (np.savez_compressed if compress else np.savez)(
                fh, __header__=np.asarray(json.dumps(header, sort_keys=True)), **arrays)
        os.replace(tmp, path)
    except OSError as err:
        fix = ("move the folder that is in its place" if path.is_dir() else
               "free space or choose another folder (--out)")
        raise ResultsError(f"cannot write {path} ({err.strerror or err}); {fix}, then run the same command "
                           "again: finished chunks are kept as checkpoints") from err
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def read(path: Path, what: str, fix: str) -> tuple[dict, dict]:
    """The header and the arrays of a file made by :func:`write`, checked against its checksums.

    Anything else raises ``ResultsError``: its message names `what` the file is (``"results
    file"``), the problem, and `fix` (what to do about a damaged file)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if "__header__" not in z.files:
                raise ResultsError(f"{what} {path} has no header: it is not a falib file; {fix}")
            text, arrays = z["__header__"], {k: z[k] for k in z.files if k != "__header__"}
    except ResultsError:
        raise
    except PermissionError as err:
        raise ResultsError(f"cannot read {what} {path} (permission denied); make it readable "
                           f"(chmod u+r), then run the same command again") from err
    except IsADirectoryError as err:
        raise ResultsError(f"{path} is a folder where a {what} should be; move it away, then run the same "
                           "command again") from err
    except Exception as err:   # anything that the zip, NPY or JSON parsers make of a damaged file
        raise ResultsError(f"{what} {path} is unreadable, truncated or corrupt ({type(err).__name__}: "
                           f"{err}); {fix}") from err
    header = _header(text, path, what, fix)
    listed = header["digests"]
    if arrays.keys() != listed.keys():
        lost, extra = sorted(listed.keys() - arrays.keys()), sorted(arrays.keys() - listed.keys())
        raise ResultsError(f"{what} {path} is truncated or altered: " + "; ".join(
            s for s in (lost and f"it lacks the arrays {', '.join(lost)} that its header lists",
                        extra and f"it holds arrays {', '.join(extra)} that its header does not list") if s)
            + f"; {fix}")
    damaged = sorted(k for k, v in arrays.items() if listed[k] != digest(v))
    if damaged:
        raise ResultsError(f"{what} {path} is corrupt (the arrays {', '.join(damaged)} do not match the "
                           f"checksums they were written with); {fix}")
    return header, arrays


def _header(text: np.ndarray, path: Path, what: str, fix: str) -> dict:
    """The JSON header `text` of `path` as a dict with a ``digests`` table, or a ResultsError."""
    if text.dtype.kind != "U" or text.ndim:
        raise ResultsError(f"{what} {path} has a header that is not text (an array of {text.dtype}); {fix}")
    try:
        header = json.loads(str(text))
    except (ValueError, RecursionError) as err:
        raise ResultsError(f"{what} {path} has a header that is not JSON ({err}); {fix}") from err
    if not isinstance(header, dict):
        raise ResultsError(f"{what} {path} has a header that is a JSON {type(header).__name__}, not an "
                           f"object: it is not a falib file; {fix}")
    digests = header.get("digests")
    if not isinstance(digests, dict) or not all(isinstance(v, str) for v in digests.values()):
        raise ResultsError(f"{what} {path} is not a falib file of format {FORMAT} (its header lacks "
                           f"digests, the checksums of its arrays); {fix}")
    return header


def _check(header: dict, path: Path, fix: str) -> None:
    """Check the fields of a results file's header (see :data:`HEADER`), each with its own message."""
    def refuse(problem):
        raise ResultsError(f"results file {path} {problem}; {fix}")

    missing = [k for k in HEADER if k not in header]
    if missing:
        refuse(f"is not a falib results file of format {FORMAT} (its header lacks {', '.join(missing)})")
    if header["format"] != FORMAT:
        refuse(f"is of format {header['format']!r}; this falib reads format {FORMAT} (recompute it, or read "
               "it with the falib that wrote it)")
    for key, kind, word in (("name", str, "a string"), ("profile", str, "a string"), ("hash", str, "a string"),
                            ("config", dict, "an object"), ("meta", dict, "an object")):
        if not isinstance(header[key], kind):
            refuse(f"has a header whose {key} is a JSON {type(header[key]).__name__}, not {word}")
    odd = [k for k in ORIGIN if not isinstance(header["meta"].get(k), str)]
    if odd:
        refuse(f"does not record its origin ({', '.join(odd)}: {[header['meta'].get(k) for k in odd]})")
    runs = header["meta"].get("runs", [])
    if not (isinstance(runs, list) and all(type(r) is int for r in runs)):
        refuse(f"records runs {runs!r}, not a list of run numbers")
    seconds = header["meta"].get("seconds", 0)
    if type(seconds) not in (int, float):
        refuse(f"records {seconds!r} seconds, not a number")


@dataclass
class Results:
    """The arrays an experiment computed, with its configuration and provenance.

    ``meta`` holds the origin (``backend``, ``device``, ``dtype``) and the provenance: ``runs``,
    ``seconds``, ``machine``, ``numpy`` and ``torch`` versions, ``code`` (the fingerprint of
    the code that computed them) and ``git`` (the commit, when known). ``source`` is the file
    they were read from, if any.
    """

    name: str
    profile: str
    config: dict
    arrays: dict[str, np.ndarray]
    meta: dict
    source: Path | None = field(default=None, compare=False, repr=False)

    @property
    def origin(self) -> dict:
        missing = [k for k in ORIGIN if k not in self.meta]
        if missing:
            raise ResultsError(f"{self.name} results do not record their {', '.join(missing)}")
        return {k: self.meta[k] for k in ORIGIN}

    @property
    def hash(self) -> str:
        return config_hash(self.name, self.config, self.origin)

    @property
    def file_name(self) -> str:
        return file_name(self.name, self.profile, self.config, self.origin)

    def __getitem__(self, key: str) -> np.ndarray:
        try:
            return self.arrays[key]
        except KeyError:
            where = f" in {self.source}" if self.source else ""
            raise MissingArray(f"the {self.name} results{where} hold no {key!r} (they hold: "
                               f"{', '.join(sorted(self.arrays))}); they were written by other code or "
                               f"altered: recompute them with python -m falib reproduce {self.name} "
                               f"--profile {self.profile}") from None

    def path(self, folder: Path) -> Path:
        return Path(folder) / self.file_name

    def save(self, folder: Path) -> Path:
        """Write atomically (see :func:`write`)."""
        header = {"name": self.name, "profile": self.profile, "config": self.config,
                  "meta": self.meta, "format": FORMAT, "hash": self.hash}
        return write(self.path(folder), header, self.arrays)

    @classmethod
    def load(cls, path: Path) -> "Results":
        """Read and verify a results file; a damaged, altered or renamed one raises ``ResultsError``."""
        redo = "delete it and recompute it with `python -m falib reproduce ...`"
        header, arrays = read(path, "results file", redo)
        _check(header, path, redo)
        res = cls(header["name"], header["profile"], header["config"], arrays, header["meta"], Path(path))
        if res.hash != header["hash"]:
            raise ResultsError(f"results file {path} is altered (its configuration and origin do not match "
                               f"the hash it was written with); {redo}")
        if Path(path).name != res.file_name:
            raise ResultsError(f"results file {path} was renamed: its contents are those of "
                               f"{res.file_name}; give it back its name, or {redo}")
        return res


def find(name: str, profile: str, config: dict, origin: dict, folder: Path | None = None,
         code: str | None = None) -> Results | None:
    """The stored results for exactly this configuration and origin, or None if there are none.

    With `code` (a code fingerprint), results computed by other code count as absent: that is
    how the quick cache notices an edit. Raises ``ResultsError`` if the file found holds another
    configuration or origin, or if the only paper results of this origin are stale.
    """
    folder = Path(folder) if folder is not None else results_dir(profile)
    config = plain(config)
    path = folder / file_name(name, profile, config, origin)
    if path.exists():
        res = Results.load(path)
        if (res.name, res.profile, res.config, res.origin) != (name, profile, config, origin):
            raise ResultsError(f"results file {path} holds {res.name} {res.profile} results computed with "
                               f"another configuration or origin than asked for; delete it and regenerate "
                               f"it: python -m falib reproduce {name} --profile {profile}")
        return res if code is None or res.meta.get("code") == code else None
    tag = "-".join(origin[k] for k in ORIGIN)
    stale = sorted(folder.glob(f"{name}-{profile}-{tag}-*.npz"))
    if stale and profile == "paper":
        raise ResultsError(
            f"the stored {profile} results for {name!r} ({', '.join(p.name for p in stale)}) were computed "
            f"with another configuration; regenerate them: python -m falib reproduce {name} --profile {profile}")
    return None
