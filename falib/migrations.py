"""Carry stored results over a change of configuration *form* that cannot change their numbers.

Results are filed under a hash of their configuration (:mod:`falib.results`), so renaming a
setting orphans results that cost CPU-hours. A migration rewrites a stored configuration into the
current form; the arrays are kept bit for bit and the file is saved under its new name, with the
hash it came from recorded in ``meta["migrated"]``. It is checked, not trusted: the stored-run
tests (``tests/conftest.py: assert_paper_start``) recompute the first records of every migrated
file with the current code and must match them.

The last step, :func:`into_cells`, lists the cells of results computed before experiments were
grids of cells (:mod:`falib.cells`), so that each cell is reused and checked on its own.

Run ``python -m falib.migrations [folder]`` (default: ``results/``) once after such a change.
"""
from __future__ import annotations

import sys
from pathlib import Path

from .results import REPO_RESULTS, Results, ResultsError


def rules_as_specs(config: dict) -> dict | None:
    """Linear and MNIST: rule names with per-name parameters became one spec per curve (``rules``)."""
    if "rules" in config or "feedback_scale" not in config:
        return None
    if "sigma" in config:   # linear
        rules = {"shallow": {"rule": "shallow"},
                 "node_perturbation": {"rule": "node_perturbation", "sigma": config["sigma"]},
                 "backprop": {"rule": "backprop"},
                 "feedback_alignment": {"rule": "feedback_alignment", "scale": config["feedback_scale"]}}
        drop = ("feedback_scale", "sigma")
    else:                   # MNIST
        fa = {"rule": "feedback_alignment", "scale": config["feedback_scale"]}
        rules = {"shallow": {"rule": "shallow"}, "backprop": {"rule": "backprop"}, "feedback_alignment": fa,
                 "sparse_feedback_alignment": dict(fa, density=config["density"])}
        drop = ("feedback_scale", "density")
    return {k: v for k, v in config.items() if k not in drop} | {"rules": rules}


def rule_as_spec(config: dict) -> dict | None:
    """Mechanics: ``feedback_scale`` (here and in the linear case) became a feedback-alignment spec."""
    if "rule" in config or "feedback_scale" not in config:
        return None
    spec = {"rule": "feedback_alignment", "scale": config["feedback_scale"]}
    lin = {k: v for k, v in config["linear"].items() if k != "feedback_scale"}
    lin["rule"] = {"rule": "feedback_alignment", "scale": config["linear"]["feedback_scale"]}
    return {k: v for k, v in config.items() if k != "feedback_scale"} | {"rule": spec, "linear": lin}


def deep_rules_as_specs(config: dict) -> dict | None:
    """Deep: ``feedback_scale`` and the tuned ``feedback_scale`` became feedback-alignment specs."""
    if "rules" in config:
        return None
    fa = {"rule": "feedback_alignment"}
    rules = {"backprop": {"rule": "backprop"}, "feedback_alignment": dict(fa, scale=config["feedback_scale"])}
    tuned = {"eta": config["tuned"]["eta"], "rule": dict(fa, scale=config["tuned"]["feedback_scale"])}
    return {k: v for k, v in config.items() if k != "feedback_scale"} | {"rules": rules, "tuned": tuned}


MIGRATIONS = {"linear": rules_as_specs, "mnist": rules_as_specs, "mechanics": rule_as_spec,
              "deep": deep_rules_as_specs}


RESUMED = {"spiking", "spiking-streams"}   # runs that may have resumed before a saved state kept their seconds
RESUMED_NOTE = "if a run resumed, its earlier sessions were not timed: the seconds count only the session that finished it"


def into_cells(res: Results) -> dict | None:
    """Every experiment: results computed whole became cells. Each cell is listed with the
    fingerprint of today's code, which the stored-run tests check reproduces it. The whole run
    was timed, not its cells: ``meta["seconds"]`` stays the run's, and a cell's seconds are
    those only if it is the only cell, else unknown (None). Results of an experiment in
    `RESUMED` say that their seconds may miss earlier sessions (``meta["seconds_note"]``)."""
    if "cells" in res.meta:
        return None
    from .experiments import get

    cells = get(res.name).cells(res.config)
    stray = sorted(k for k in res.arrays if not any(cell.holds(k) for cell in cells))
    if stray:
        raise ResultsError(f"{res.name} results hold arrays that no cell owns ({', '.join(stray)}); they were "
                           "computed by other code: recompute them")
    seconds = res.meta.get("seconds") if len(cells) == 1 else None
    note = {"seconds_note": RESUMED_NOTE} if res.name in RESUMED else {}
    return {"cells": [cell.entry(res.name, res.origin, cell.code(), seconds) for cell in cells]} | note


def migrated(res: Results) -> Results | None:
    """`res` with its configuration in the current form and its cells listed, or None if it needs no migration."""
    before = res.meta.get("migrated", [])   # a list of steps; older files hold one note (a string)
    steps = [before] if isinstance(before, str) else list(before)
    change = MIGRATIONS.get(res.name)
    config = change(res.config) if change else None
    if config is not None:
        steps.append({"from": res.hash, "by": change.__name__})
        res = Results(res.name, res.profile, config, res.arrays, dict(res.meta, migrated=steps))
    cells = into_cells(res)
    if cells is not None:
        steps.append({"from": res.hash, "by": into_cells.__name__, "code": res.meta.get("code")})
        res = Results(res.name, res.profile, res.config, res.arrays, dict(res.meta, migrated=steps, **cells))
    return res if config is not None or cells is not None else None


def migrate(folder: Path = REPO_RESULTS) -> list[tuple[str, str]]:
    """Migrate every results file in `folder` that needs it; returns the (old, new) file names."""
    done = []
    for path in sorted(Path(folder).glob("*.npz")):
        new = migrated(Results.load(path))
        if new is not None:
            new.save(folder)
            if path.name != new.file_name:
                path.unlink()
            done.append((path.name, new.file_name))
    return done


if __name__ == "__main__":
    for old, new in migrate(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO_RESULTS):
        print(f"{old} -> {new}")
