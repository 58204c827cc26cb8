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
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FORMAT = 2
ORIGIN = ("backend", "device", "dtype")
HEADER = ("name", "profile", "config", "meta", "format", "hash", "digests")
REPO_RESULTS = Path(__file__).resolve().parent.parent / "results"
TMP = ".tmp-"


class ResultsError(RuntimeError):
    """Results are missing, stale or unreadable, or cannot be written."""


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
    """The cache for results that are not committed: ``FALIB_CACHE``, else the user's cache folder."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "falib" / "results"
    return Path(os.environ.get("FALIB_CACHE", default))


def results_dir(profile: str) -> Path:
    """Where results of `profile` live: ``results/`` in the repository for ``paper`` (or the folder
    ``FALIB_RESULTS`` names), else the cache."""
    return Path(os.environ.get("FALIB_RESULTS", REPO_RESULTS)) if profile == "paper" else cache_dir()


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


@dataclass
class Results:
    """The arrays an experiment computed, with its configuration and provenance.

    ``meta`` holds the origin (``backend``, ``device``, ``dtype``) and the provenance: ``runs``,
    ``seconds``, ``machine``, ``numpy`` and ``torch`` versions, ``code`` (the fingerprint of
    the code that computed them) and ``git`` (the commit, when known).
    """

    name: str
    profile: str
    config: dict
    arrays: dict[str, np.ndarray]
    meta: dict

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
            raise KeyError(f"{self.name} results hold no {key!r}; they hold: {', '.join(sorted(self.arrays))}") from None

    def path(self, folder: Path) -> Path:
        return Path(folder) / self.file_name

    def save(self, folder: Path) -> Path:
        """Write atomically (temporary file, then rename): never a half-written file, and no
        temporary file left behind, even by a save that was killed (see :func:`remove_orphans`)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        remove_orphans(folder)
        header = {"name": self.name, "profile": self.profile, "config": self.config,
                  "meta": self.meta, "format": FORMAT, "hash": self.hash,
                  "digests": {k: digest(v) for k, v in self.arrays.items()}}
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f"{TMP}{os.getpid()}-", suffix=".npz")
        try:
            os.chmod(tmp, 0o644)
            with os.fdopen(fd, "wb") as fh:
                np.savez_compressed(fh, __header__=np.asarray(json.dumps(header, sort_keys=True)),
                                    **self.arrays)
            os.replace(tmp, self.path(folder))
        except OSError as err:
            raise ResultsError(f"cannot write {self.path(folder)} ({err.strerror or err}); free space or "
                               "choose another folder (--out), then run the same command again: finished "
                               "chunks are kept as checkpoints") from err
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return self.path(folder)

    @classmethod
    def load(cls, path: Path) -> "Results":
        """Read and verify a results file; a damaged or renamed one raises ``ResultsError``."""
        redo = "delete it and recompute it with `python -m falib reproduce ...`"
        try:
            with np.load(path, allow_pickle=False) as z:
                header = json.loads(str(z["__header__"]))
                arrays = {k: z[k] for k in z.files if k != "__header__"}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, json.JSONDecodeError) as err:
            raise ResultsError(f"results file {path} is unreadable, truncated or corrupt ({err}); {redo}") from err
        missing = [k for k in HEADER if k not in header]
        if missing or header["format"] != FORMAT:
            raise ResultsError(f"results file {path} is not a falib results file of format {FORMAT} "
                               f"(its header lacks {', '.join(missing) or 'nothing'}, format "
                               f"{header.get('format')}); {redo}")
        res = cls(header["name"], header["profile"], header["config"], arrays, header["meta"])
        damaged = [k for k, v in arrays.items() if header["digests"].get(k) != digest(v)]
        if res.hash != header["hash"] or damaged or arrays.keys() != header["digests"].keys():
            raise ResultsError(f"results file {path} is corrupt (its contents do not match the checksums "
                               f"it was written with); {redo}")
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
