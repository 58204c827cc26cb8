"""The experiments behind the book's figures, each at two scales (profiles), and their registry.

An experiment computes its cells chunk by chunk (:mod:`.chunks`);
:func:`~falib.experiments.store.reproduce` serves its stored results or computes them (:mod:`.store`),
one run of the same results at a time (:mod:`.locks`). Their public names are importable from here.
"""
from __future__ import annotations

import importlib
import pkgutil
from concurrent.futures import as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .. import provenance
from ..backend import Backend
from ..cells import Cell
from ..claims import Claims
from ..engines import EngineError
from ..results import Results, ResultsError, env, find
from .chunks import _same, chunk_dir, compute_chunk, origin, per_chunk, seconds_note
from .locks import exclusive

PROFILES = ("quick", "paper")


class ChoiceError(ValueError):
    """A choice (experiment, profile, backend, device, float type) that falib does not offer, or
    that this machine cannot run; the message names it and what to choose instead."""


@dataclass(frozen=True)
class Experiment:
    """A named computation (one figure) with its configuration at each profile.

    ``compute(config, backend, runs)`` returns plain NumPy arrays whose leading axis is the run
    axis, except those named in `shared` (the same for every run, e.g. the record schedule);
    ``claims(results)`` turns the paper's statements into checks on them; `order` places it in
    listings (the paper's order). `grid(config)`, if given, lists the experiment's cells
    (:class:`falib.cells.Cell`: a rule on a task, say), each computed, stored and checked on its
    own; without it the experiment is one cell. With `chunk`, a CPU computes that many runs of
    a cell at a time, each chunk checkpointed, so that a long computation resumes where it
    stopped; chunks are independent, so an executor may compute them in parallel.
    `inputs(config)`, if given, reads the data the computation needs, so that a missing or
    unreadable file stops a run before it starts. `companions` names experiments whose claims the
    command line shows with this one's (the same figure under another protocol). `start`, if given, says how to re-run the
    start of a stored paper run cheaply (``falib.migrations.check_start``): ``config``, the
    changes to the configuration (nested settings merged) that make a short run whose records
    are the stored run's first records; ``run``, the stored run re-run; ``rtol``, how closely
    they must agree; ``skip``, the prefixes of arrays that begin later in a short run. `data`
    names the variable that points to the folder `inputs` reads, for the error that cannot read it.
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
    inputs: Callable[[dict], object] | None = None
    grid: Callable[[dict], list[Cell]] | None = None
    companions: tuple[str, ...] = ()
    start: dict | None = None
    data: str = ""

    def config(self, profile: str) -> dict:
        return dict(self.profiles[check_profile(profile)])

    def default_backend(self, config: dict) -> Backend:
        """The backend results are computed and looked up with unless another is asked for."""
        return Backend(self.backend.name, self.backend.device, config["dtype"])

    def code(self) -> str:
        """The fingerprint of the code that computes this experiment (all its cells)."""
        return provenance.code(provenance.target(self.compute))

    def cells(self, config: dict) -> list[Cell]:
        """The cells of the grid at `config` (its runs aside)."""
        return self.grid(config) if self.grid else [Cell({}, per_chunk(config), self.compute)]

    def stale(self, res: Results) -> list[dict]:
        """The labels of the cells of `res` that are missing, were computed with another
        configuration, or by other code than today's."""
        listed = {c["key"]: c["code"] for c in res.meta.get("cells", [])}
        return [cell.labels for cell in self.cells(res.config)
                if listed.get(cell.key(self.name, res.origin)) != cell.code()]

    def missing(self, res: Results) -> list[dict]:
        """The labels of the cells that `res` lacks (or holds for another configuration)."""
        listed = {c["key"] for c in res.meta.get("cells", [])}
        return [cell.labels for cell in self.cells(res.config) if cell.key(self.name, res.origin) not in listed]

    def run(self, profile: str, backend: Backend | None = None, config: dict | None = None,
            runs: Sequence[int] | None = None, checkpoints: Path | None = None,
            executor=None, reuse: Results | None = None) -> Results:
        """Compute the cells afresh, chunk by chunk; `runs` picks a subset of the replicas.

        The configuration recorded is the one computed: its ``dtype`` is the backend's. Runs of
        a cell that `reuse` (earlier results of the same origin) holds, computed with the same
        configuration and code, are taken from it. With a `checkpoints` folder, every finished
        chunk is saved there and a chunk found there (same experiment, profile, cell, origin and
        code: a run never mixes two versions of the code) is loaded instead of computed. With an
        `executor` (``concurrent.futures``-like: a process pool, or a Dask cluster's
        ``falib.engines.Cluster``) the chunks left to compute run on it; checkpoints are
        saved here, as each chunk arrives. A chunk reports the fingerprint of the code that
        computed it, taken where it ran; one that differs from the code here stops the run (a
        cluster's ``check`` asks every worker before any chunk runs).
        """
        config = dict(config or self.config(profile))
        backend = backend or self.default_backend(config)
        config["dtype"] = backend.dtype
        runs = list(range(config["runs"])) if runs is None else list(runs)
        size = self.chunk if self.chunk and backend.device == "cpu" else len(runs)
        cells = self.cells(config)
        codes = [cell.code() for cell in cells]
        kept = {i: self._kept(reuse, cell, backend, codes[i], runs) for i, cell in enumerate(cells)}
        chunks = []
        for i, cell in enumerate(cells):
            left = [r for r in runs if r not in (kept[i].meta["runs"] if kept[i] else [])]
            chunks += [(i, left[j:j + size]) for j in range(0, len(left), size)]
        parts = {n: self._checkpoint(profile, backend, cells[i], c, checkpoints, codes[i])
                 for n, (i, c) in enumerate(chunks)}
        todo = [n for n, part in parts.items() if part is None]
        if executor is None:
            for n in todo:
                i, c = chunks[n]
                parts[n] = self._finish(profile, cells[i], checkpoints, codes[i],
                                        compute_chunk(cells[i].compute, cells[i].config, backend, c))
        else:
            if todo and hasattr(executor, "check"):
                for target in dict.fromkeys(cells[chunks[n][0]].target for n in todo):
                    executor.check(target)
            futures = {executor.submit(compute_chunk, cells[chunks[n][0]].compute, cells[chunks[n][0]].config,
                                       backend, chunks[n][1]): n for n in todo}
            self._collect(futures, parts, profile, [(cells[i], codes[i]) for i, _ in chunks], checkpoints)
        pieces = [[kept[i]] if kept[i] else [] for i in range(len(cells))]
        for n, (i, _) in enumerate(chunks):
            pieces[i].append(parts[n])
        return self._merge(profile, config, backend, runs, cells, codes, pieces)

    def _kept(self, reuse, cell, backend, code, runs) -> Results | None:
        """The runs of `cell` that `reuse` holds with the same key and code, as results of that cell."""
        if reuse is None or reuse.origin != origin(backend):
            return None
        key = cell.key(self.name, reuse.origin)
        entry = next((c for c in reuse.meta.get("cells", []) if c["key"] == key and c["code"] == code), None)
        have = [r for r in reuse.meta["runs"] if r in runs]
        if entry is None or not have:
            return None
        rows = [reuse.meta["runs"].index(r) for r in have]
        arrays = {k: a if k in self.shared else a[rows] for k, a in reuse.arrays.items() if cell.holds(k)}
        seconds = entry["seconds"] if len(have) == len(reuse.meta["runs"]) else None   # a share is unknown
        return Results(self.name, reuse.profile, cell.record, arrays,
                       dict(reuse.meta, runs=have, seconds=seconds, code=code))

    def _collect(self, futures, parts, profile, cells, checkpoints):
        """Save each chunk as it arrives; after a failure, keep the chunks that still finish, then
        raise the first error (a rerun resumes from their checkpoints)."""
        errors = []
        for future in as_completed(futures):
            n = futures[future]
            try:
                parts[n] = self._finish(profile, cells[n][0], checkpoints, cells[n][1], future.result())
            except Exception as err:
                errors.append(err)
        if errors:
            raise errors[0]

    def _checkpoint(self, profile, backend, cell, runs, checkpoints, code) -> Results | None:
        """The checkpoint of `runs` of `cell`, if there is a current one (see :meth:`run`)."""
        if checkpoints is None:
            return None
        found = find(self.name, profile, cell.record, origin(backend), chunk_dir(checkpoints, cell, runs), code)
        if found is None or found.meta.get("runs") != runs:
            return None
        odd = self._without_runs(found.arrays, runs)
        if odd:
            raise ResultsError(f"checkpoint {found.source} is altered: its arrays {', '.join(odd)} do not hold "
                               f"{len(runs)} runs; delete it, then run the same command again")
        return found

    def _finish(self, profile, cell, checkpoints, code, computed) -> Results:
        """A computed chunk as results, saved as a checkpoint if there is a folder for them; a chunk
        computed by other code than `code` (a worker's edited copy) is refused, unsaved, and so is
        one that returns arrays its cell does not own."""
        part = Results(self.name, profile, cell.record, *computed)
        if part.meta["code"] != code:
            raise EngineError(f"runs {part.meta['runs']} of {self.name} were computed by other code (fingerprint "
                              f"{part.meta['code']}, here {code}): a worker runs an edited copy of falib, or the "
                              "code changed during the run; run the same falib everywhere, then the same command again")
        stray = sorted(k for k in part.arrays if not cell.holds(k))
        if stray:
            raise ResultsError(f"the cell {cell.labels} of {self.name} computed arrays it does not own: "
                               f"{', '.join(stray)}; its grid must list them in the cell's `owns`")
        odd = self._without_runs(part.arrays, part.meta["runs"])
        if odd:
            raise ResultsError(f"{self.name} computed arrays that do not hold one entry per run: {', '.join(odd)}; "
                               "an array that is the same for every run must be listed in the experiment's `shared`")
        if checkpoints is not None:
            part.save(own(chunk_dir(checkpoints, cell, part.meta["runs"]), checkpoints))
        return part

    def _without_runs(self, arrays: dict, runs) -> list[str]:
        """The arrays, shared ones aside, whose leading axis does not hold the runs `runs`."""
        return sorted(k for k, a in arrays.items() if k not in self.shared and (a.ndim == 0 or len(a) != len(runs)))

    def _merge(self, profile, config, backend, runs, cells, codes, pieces) -> Results:
        """One set of arrays from the cells' pieces: per-run arrays in the order of `runs`."""
        arrays, shared, entries, metas = {}, {}, [], []
        for cell, code, parts in zip(cells, codes, pieces):
            rows = {}
            for p in parts:
                rows |= {r: (p, i) for i, r in enumerate(p.meta["runs"])}
                for k in self.shared:
                    if k in p.arrays and not np.array_equal(shared.setdefault(k, p.arrays[k]), p.arrays[k]):
                        raise ResultsError(f"{self.name}: cells or chunks disagree on {k!r}; delete the "
                                           "checkpoints and rerun")
            first = parts[0].arrays
            for p in parts[1:]:
                if p.arrays.keys() != first.keys() or any(p.arrays[k].shape[1:] != first[k].shape[1:] for k in first):
                    raise ResultsError(f"{self.name}: chunks disagree on their arrays ({p.source or 'computed'}); "
                                       "delete the checkpoints and rerun")
            for k in first:
                if k not in self.shared:
                    arrays[k] = np.concatenate([rows[r][0].arrays[k][rows[r][1]][None] for r in runs])
            timed = [p.meta["seconds"] for p in parts]
            entries.append(cell.entry(self.name, origin(backend), code,
                                      None if None in timed else round(sum(timed), 2)))
            metas += [p.meta for p in parts]
        meta = {k: _same(metas, k) for k in metas[0]
                if k not in ("runs", "seconds", "seconds_note", "untimed_cells", "cells", "migrated", "restamped")}
        meta |= {"runs": runs, "seconds": round(sum(m["seconds"] for m in metas if m["seconds"] is not None), 2),
                 "cells": entries, "git": provenance.git_commit()}
        restamped = []   # the checks of the reused parts' cells (falib.migrations.restamp), each once
        for e in (e for m in metas for e in m.get("restamped", [])):
            restamped += [] if e in restamped else [e]
        meta |= {"restamped": restamped} if restamped else {}
        return Results(self.name, profile, config, arrays | shared, meta | seconds_note(metas, entries))


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise ChoiceError(f"unknown profile {profile!r}; choose one of: {', '.join(PROFILES)}")
    return profile


def default_profile() -> str:
    """The profile named by ``FALIB_PROFILE`` (default ``quick``)."""
    return check_profile(env("FALIB_PROFILE") or "quick")


def _registry() -> dict[str, Experiment]:
    """Every module in this package that defines ``EXPERIMENT``, by name."""
    modules = (importlib.import_module(f"{__name__}.{m.name}") for m in pkgutil.iter_modules(__path__))
    found = [m.EXPERIMENT for m in modules if hasattr(m, "EXPERIMENT")]
    return {e.name: e for e in sorted(found, key=lambda e: e.order)}


def get(name: str) -> Experiment:
    experiments = _registry()
    if name not in experiments:
        raise ChoiceError(f"unknown experiment {name!r}; choose one of: {', '.join(experiments)}")
    return experiments[name]


def names() -> list[str]:
    return list(_registry())


# the store serves experiments from the registry above, so it is imported once that is defined
from .store import clear, flags, latest, own, prepare, reproduce, versions  # noqa: E402
