"""Cells: the units an experiment's grid is computed, stored, checked and resumed in.

A cell is one point of the grid (``{"task": "mnist", "rule": "backprop"}``) with its own
configuration and the function that computes it. A results file records, for each cell, a key
(a hash of its labels, configuration, function and origin) and the fingerprint of the code that
computed it, so that each cell is reused, recomputed or flagged stale on its own.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from . import provenance
from .results import config_hash, plain


@dataclass(frozen=True)
class Cell:
    """One cell: `labels` name it, ``compute(config, backend, runs)`` computes it from `config`
    alone, and it owns the arrays whose names start with one of `owns`."""

    labels: dict
    config: dict
    compute: Callable
    owns: tuple[str, ...] = ("",)
    target: str = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "target", provenance.target(self.compute))

    @property
    def name(self) -> str:
        return ".".join(self.labels.values())

    @property
    def record(self) -> dict:
        """What the cell's results are filed under: its labels and configuration."""
        return plain({"cell": self.labels, "config": self.config})

    def key(self, experiment: str, origin: dict) -> str:
        return config_hash(experiment, {**self.record, "compute": self.target}, origin)

    def code(self) -> str:
        return provenance.code(self.target)

    def holds(self, array: str) -> bool:
        return array.startswith(self.owns)

    def entry(self, experiment: str, origin: dict, code: str, seconds: float) -> dict:
        """The cell as a results file lists it in ``meta["cells"]``."""
        return {"labels": self.labels, "key": self.key(experiment, origin), "code": code, "seconds": seconds}
