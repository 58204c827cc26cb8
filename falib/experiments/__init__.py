"""The experiments behind the book's figures, each at two scales (profiles)."""
from __future__ import annotations

import importlib
import os
import pkgutil
import shutil
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..backend import Backend
from ..claims import Claims
from ..results import Results, ResultsError, cache_dir, find, results_dir

PROFILES = ("quick", "paper")


@dataclass(frozen=True)
class Experiment:
    """A named computation (one figure) with its configuration at each profile.

    ``compute(config, backend, runs)`` returns plain NumPy arrays whose leading axis is the run
    axis, except those named in `shared` (the same for every run, e.g. the record schedule);
    ``claims(results)`` turns the paper's statements into checks on them; `order` places it in
    listings (the paper's order). With `chunk`, a CPU computes that many runs at a time, each
    chunk checkpointed, so that a long computation resumes where it stopped.
    """

    name: str
    title: str
    profiles: dict[str, dict]
    compute: Callable[[dict, Backend, Sequence[int]], dict]
    claims: Callable[[Results], Claims]
    order: int = 0
    backend: Backend = Backend()
    chunk: int | None = None
    shared: tuple[str, ...] = ()

    def config(self, profile: str) -> dict:
        return dict(self.profiles[check_profile(profile)])

    def run(self, profile: str, backend: Backend | None = None, config: dict | None = None,
            runs: Sequence[int] | None = None, checkpoints: Path | None = None) -> Results:
        """Compute afresh, chunk by chunk; `runs` picks a subset of the replicas.

        With a `checkpoints` folder, every finished chunk is saved there and a chunk found there
        (same experiment, profile and configuration) is loaded instead of computed.
        """
        config = config or self.config(profile)
        backend = backend or Backend(self.backend.name, self.backend.device, config["dtype"])
        runs = list(range(config["runs"])) if runs is None else list(runs)
        size = self.chunk if self.chunk and backend.device == "cpu" else len(runs)
        parts = [self._chunk(profile, backend, config, runs[i:i + size], checkpoints)
                 for i in range(0, len(runs), size)]
        meta = dict(parts[0].meta, runs=runs, seconds=round(sum(p.meta["seconds"] for p in parts), 2))
        return Results(self.name, profile, config, self._merge(parts), meta)

    def _chunk(self, profile, backend, config, runs, checkpoints) -> Results:
        """The results of `runs`: from a checkpoint if there is one, else computed (and saved)."""
        part = Results(self.name, profile, {k: v for k, v in config.items() if k != "runs"}, {},
                       {"runs": runs})
        path = None if checkpoints is None else part.path(Path(checkpoints) / f"runs-{runs[0]}-{runs[-1]}")
        if path is not None and path.exists():
            part = Results.load(path)
            if part.meta["runs"] == runs:
                return part
        start = time.perf_counter()
        part.arrays = self.compute(config, backend, runs)
        part.meta = {"backend": backend.name, "device": backend.device, "runs": runs,
                     "seconds": round(time.perf_counter() - start, 2),
                     "machine": f"{platform.machine()}, {os.cpu_count()} CPU threads",
                     "created": time.strftime("%Y-%m-%d")}
        if path is not None:
            part.save(path.parent)
        return part

    def _merge(self, parts: list[Results]) -> dict:
        """One set of arrays from chunks: per-run arrays joined along the run axis."""
        first = parts[0].arrays
        for k in self.shared:
            if not all(np.array_equal(first[k], p.arrays[k]) for p in parts):
                raise ResultsError(f"{self.name}: chunks disagree on {k!r}; delete the checkpoints and rerun")
        return {k: v if k in self.shared else np.concatenate([p.arrays[k] for p in parts])
                for k, v in first.items()}


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of: {', '.join(PROFILES)}")
    return profile


def default_profile() -> str:
    """The profile named by ``FALIB_PROFILE`` (default ``quick``)."""
    return check_profile(os.environ.get("FALIB_PROFILE", "quick"))


def _registry() -> dict[str, Experiment]:
    """Every module in this package that defines ``EXPERIMENT``, by name."""
    modules = (importlib.import_module(f"{__name__}.{m.name}") for m in pkgutil.iter_modules(__path__))
    found = [m.EXPERIMENT for m in modules if hasattr(m, "EXPERIMENT")]
    return {e.name: e for e in sorted(found, key=lambda e: e.order)}


def get(name: str) -> Experiment:
    experiments = _registry()
    if name not in experiments:
        raise ValueError(f"unknown experiment {name!r}; choose one of: {', '.join(experiments)}")
    return experiments[name]


def names() -> list[str]:
    return list(_registry())


def reproduce(name: str, profile: str | None = None, *, backend: Backend | None = None,
              folder=None, recompute: bool = False) -> Results:
    """The results of experiment `name` at `profile`: stored ones if current, else computed and saved.

    Paper-profile results are never computed implicitly (they are committed, and may need a
    GPU): if they are missing the error names the command that makes them.
    """
    experiment, profile = get(name), profile or default_profile()
    config = experiment.config(profile)
    if not recompute:
        stored = find(name, profile, config, folder)
        if stored is not None:
            return stored
        if profile == "paper":
            raise ResultsError(
                f"no paper-profile results for {name!r} in {folder or results_dir(profile)}; "
                f"make them with: python -m falib reproduce {name} --profile paper")
    checkpoints = cache_dir() / "checkpoints" / f"{name}-{profile}"
    results = experiment.run(profile, backend, checkpoints=checkpoints)
    results.save(folder or results_dir(profile))
    shutil.rmtree(checkpoints, ignore_errors=True)
    return results
