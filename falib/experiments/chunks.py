"""Computing chunks of runs: what one chunk computes with, where it is checkpointed, and how its
time and provenance are recorded."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

from .. import provenance
from ..backend import Backend
from ..cells import Cell


def seconds_note(metas: list[dict], entries: list[dict]) -> dict:
    """What the seconds of merged parts leave out: ``untimed_cells``, how many cells hold runs that
    were timed only as part of a whole run (reused from a migrated file, or some of a cell's runs),
    whose time is not counted; and the parts' ``seconds_note``."""
    notes = list(dict.fromkeys(m["seconds_note"] for m in metas if m.get("seconds_note")))
    untimed = sum(e["seconds"] is None for e in entries)
    return ({"seconds_note": "; ".join(notes)} if notes else {}) | ({"untimed_cells": untimed} if untimed else {})


def origin(backend: Backend) -> dict:
    """What besides the configuration changes the numbers: array library, device class, float type."""
    return {"backend": backend.name, "device": backend.device, "dtype": backend.dtype}


def per_chunk(config: dict) -> dict:
    """The configuration of one chunk: all but the number of runs."""
    return {k: v for k, v in config.items() if k != "runs"}


def chunk_dir(checkpoints: Path, cell: Cell, runs: Sequence[int]) -> Path:
    return Path(checkpoints) / f"{cell.name + '-' if cell.labels else ''}runs-{runs[0]}-{runs[-1]}"


def compute_chunk(compute, config, backend, runs) -> tuple[dict, dict]:
    """``compute(config, backend, runs)``, timed, with the provenance of where it ran: there the
    fingerprint of its code is taken, before computing. The seconds are the sum over sessions: a
    computation that resumed returns arrays whose ``earlier`` attribute holds the seconds its
    earlier sessions spent (a ``Resumed`` result of the spiking experiment)."""
    code, start = provenance.code(provenance.target(compute)), time.perf_counter()
    arrays = compute(config, backend, runs)
    seconds = time.perf_counter() - start + getattr(arrays, "earlier", 0.0)
    meta = {**origin(backend), "runs": list(runs),
            "seconds": round(seconds, 2), "code": code,
            **provenance.machine(backend.device), **provenance.versions()}
    return dict(arrays), meta


def _same(metas: list[dict], key: str):
    """The value of ``meta[key]`` shared by all chunks, or the distinct values joined by " + "."""
    values = []
    for v in (m.get(key) for m in metas):
        values += [v] if v not in values else []
    return values[0] if len(values) == 1 else " + ".join(map(str, values))
