"""The experiments behind the book's figures, each at two scales (profiles)."""
from __future__ import annotations

import importlib
import os
import pkgutil
import platform
import time
from dataclasses import dataclass
from typing import Callable, Sequence

from ..backend import Backend
from ..claims import Claims
from ..results import Results, ResultsError, find, results_dir

PROFILES = ("quick", "paper")


@dataclass(frozen=True)
class Experiment:
    """A named computation (one figure) with its configuration at each profile.

    ``compute(config, backend, runs)`` returns plain NumPy arrays; ``claims(results)`` turns
    the paper's statements into checks on them; `order` places it in listings (the paper's order).
    """

    name: str
    title: str
    profiles: dict[str, dict]
    compute: Callable[[dict, Backend, Sequence[int]], dict]
    claims: Callable[[Results], Claims]
    order: int = 0
    backend: Backend = Backend()

    def config(self, profile: str) -> dict:
        return dict(self.profiles[check_profile(profile)])

    def run(self, profile: str, backend: Backend | None = None, config: dict | None = None,
            runs: Sequence[int] | None = None) -> Results:
        """Compute afresh (nothing is read or written). `runs` picks a subset of the replicas."""
        config = config or self.config(profile)
        backend = backend or Backend(self.backend.name, self.backend.device, config["dtype"])
        runs = list(range(config["runs"])) if runs is None else list(runs)
        start = time.perf_counter()
        arrays = self.compute(config, backend, runs)
        meta = {"backend": backend.name, "device": backend.device, "runs": runs,
                "seconds": round(time.perf_counter() - start, 2),
                "machine": f"{platform.machine()}, {os.cpu_count()} CPU threads",
                "created": time.strftime("%Y-%m-%d")}
        return Results(self.name, profile, config, arrays, meta)


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
    results = experiment.run(profile, backend)
    results.save(folder or results_dir(profile))
    return results
