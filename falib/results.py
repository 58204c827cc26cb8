"""Results as plain files: one ``.npz`` per (experiment, profile, configuration), written atomically.

The file name carries a hash of the configuration, so results computed under other settings
are never mistaken for current ones. Arrays are stored without pickle; the configuration and
provenance travel inside the same file as a JSON string. A SHA-256 digest of every array, stored
in the header, catches truncation and corruption: they are reported, never silently used.
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

FORMAT = 1
REPO_RESULTS = Path(__file__).resolve().parent.parent / "results"


class ResultsError(RuntimeError):
    """Results are missing, stale or unreadable."""


def config_hash(name: str, config: dict) -> str:
    """A short, stable hash of an experiment's configuration."""
    text = json.dumps({"experiment": name, "config": config, "format": FORMAT}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


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


@dataclass
class Results:
    """The arrays an experiment computed, with its configuration and provenance."""

    name: str
    profile: str
    config: dict
    arrays: dict[str, np.ndarray]
    meta: dict

    @property
    def hash(self) -> str:
        return config_hash(self.name, self.config)

    def __getitem__(self, key: str) -> np.ndarray:
        try:
            return self.arrays[key]
        except KeyError:
            raise KeyError(f"{self.name} results hold no {key!r}; they hold: {', '.join(sorted(self.arrays))}") from None

    def path(self, folder: Path) -> Path:
        return Path(folder) / f"{self.name}-{self.profile}-{self.hash}.npz"

    def save(self, folder: Path) -> Path:
        """Write atomically (temporary file, then rename): never a half-written file."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        header = {"name": self.name, "profile": self.profile, "config": self.config,
                  "meta": self.meta, "format": FORMAT, "hash": self.hash,
                  "digests": {k: digest(v) for k, v in self.arrays.items()}}
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npz")
        os.chmod(tmp, 0o644)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez_compressed(fh, __header__=np.asarray(json.dumps(header, sort_keys=True)),
                                    **self.arrays)
            os.replace(tmp, self.path(folder))
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return self.path(folder)

    @classmethod
    def load(cls, path: Path) -> "Results":
        """Read and verify a results file; a damaged one raises ``ResultsError``."""
        try:
            with np.load(path, allow_pickle=False) as z:
                header = json.loads(str(z["__header__"]))
                arrays = {k: z[k] for k in z.files if k != "__header__"}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, json.JSONDecodeError) as err:
            raise ResultsError(f"results file {path} is truncated or corrupt ({err}); delete it and "
                               "recompute it with `python -m falib reproduce ...`") from err
        res = cls(header["name"], header["profile"], header["config"], arrays, header["meta"])
        damaged = [k for k, v in arrays.items() if header["digests"].get(k) != digest(v)]
        if res.hash != header["hash"] or damaged or arrays.keys() != header["digests"].keys():
            raise ResultsError(f"results file {path} is corrupt (its contents do not match the checksums "
                               "it was written with); delete it and recompute it with `python -m falib reproduce ...`")
        return res


def find(name: str, profile: str, config: dict, folder: Path | None = None) -> Results | None:
    """The stored results for exactly this configuration, or None if there are none.

    Raises ``ResultsError`` if the only results stored were computed with another configuration.
    """
    folder = Path(folder) if folder is not None else results_dir(profile)
    path = folder / f"{name}-{profile}-{config_hash(name, config)}.npz"
    if path.exists():
        return Results.load(path)
    stale = sorted(folder.glob(f"{name}-{profile}-*.npz"))
    if stale and profile == "paper":
        raise ResultsError(
            f"the stored {profile} results for {name!r} ({', '.join(p.name for p in stale)}) were computed "
            f"with another configuration; regenerate them: python -m falib reproduce {name} --profile {profile}")
    return None
