"""Carry stored results over a change that cannot change their numbers, checked, not trusted.

Results are filed under a hash of their configuration (:mod:`falib.results`), so renaming a
setting orphans results that cost CPU-hours. A migration rewrites a stored configuration into the
current form; the arrays are kept bit for bit and the file is saved under its new name, with the
hash it came from recorded in ``meta["migrated"]``. It is checked, not trusted: the stored-run
tests (``tests/conftest.py: assert_paper_start``) recompute the first records of every migrated
file with the current code and must match them.

The last step, :func:`into_cells`, lists the cells of results computed before experiments were
grids of cells (:mod:`falib.cells`), so that each cell is reused and checked on its own.

Run ``python -m falib.migrations [folder]`` (default: ``results/``) once after such a change.

A refactor that changes no number (a function moved, code shared) changes the code fingerprint
of the cells it reaches, and their committed results then count as computed by other code than
today's. :func:`restamp` re-runs the start of one stored run of each such cell with today's code
(the experiment's short configuration, ``Experiment.start``), compares it with the stored records
(:func:`check_start`, the rule of the stored-run tests) and, if every cell agrees, records today's
fingerprint for them, with what was compared in ``meta["restamped"]``; the arrays are kept bit for
bit. If one cell differs, it refuses and writes nothing. Run
``python -m falib.migrations restamp [experiment ...]`` (default: every experiment with committed
paper results).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from . import experiments
from .backend import Backend
from .cells import Cell
from .data import MnistError
from .results import REPO_RESULTS, Results, ResultsError, file_name, results_dir, scratch_cache
from .training import DivergenceError

REFUSED, CANNOT_RUN = 1, 2   # exit codes of ``restamp`` (0: every stale cell restamped, or none stale)


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
    cells = experiments.get(res.name).cells(res.config)
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


class Refused(ResultsError):
    """Today's code does not reproduce the start of a stored run: nothing is restamped."""


def merged(config: dict, changes: dict) -> dict:
    """`config` with `changes`, nested settings merged (``{"linear": {"steps": 40}}`` changes one
    setting of ``linear``)."""
    return config | {k: merged(config[k], v) if isinstance(v, dict) and isinstance(config.get(k), dict) else v
                     for k, v in changes.items()}


def within(got, want, exact, rtol: float) -> np.ndarray:
    """Where today's records `got` reproduce the stored ones, `want`.

    float32 sums are ordered differently by different processors' matrix kernels (AVX2, AVX-512,
    AMX), and training amplifies the difference: allow twice the rounding effect that today's run
    shows against the same run in float64 (`exact`; `got` itself for a float64 run), never less
    than `rtol` relatively. NaN agrees with NaN.
    """
    got, want = np.asarray(got), np.asarray(want)
    rounding = 2 * np.abs(got - np.asarray(exact, dtype=got.dtype))
    return (np.abs(got - want) < np.fmax(rtol * np.abs(want), rounding) + 1e-30) | (np.isnan(got) & np.isnan(want))


def rerun(cell: Cell, config: dict, backend: Backend, run: int) -> dict[str, np.ndarray]:
    """`cell`'s arrays at `config` for run `run` alone, computed with today's code (a training that
    diverges is part of what is compared, not a warning)."""
    with scratch_cache("falib-restamp-"), np.errstate(all="ignore"):
        return {k: np.asarray(v) for k, v in cell.compute(config, backend, [run]).items()}


def schedules(fresh: dict, stored: dict, skip: tuple[str, ...]) -> dict[int, int]:
    """For each length of a record schedule of a short run (its arrays of steps, epochs or images,
    shared by every run), how many of its first records the stored run holds at the same points:
    a short run also records its last step (:func:`falib.training.schedule`), which may fall
    between two stored records."""
    out = {}
    for k in fresh.keys() & stored.keys():
        short, long = np.atleast_1d(fresh[k]), np.atleast_1d(stored[k])
        if not k.startswith(skip) and short.ndim == long.ndim == 1 and len(short) < len(long):
            same = short == long[:len(short)]
            out[len(short)] = min(out.get(len(short), len(short)), len(short) if same.all() else int(np.argmin(same)))
    return out


def compared(fresh: dict, stored: dict, row: int, whole: bool, skip: tuple[str, ...],
             schedule: dict[int, int]) -> dict[str, int]:
    """The arrays of which a run of one cell reproduces the stored records (of run `row`), with how
    many (along the last axis): of a whole run, every array of the stored shape; of a short run,
    those whose records it cuts short (but those in `skip`), as far as its `schedule` agrees."""
    out = {}
    for k in sorted(fresh.keys() & stored.keys()):
        got, want = np.atleast_1d(fresh[k][0]), np.atleast_1d(stored[k][row])
        if whole and got.shape == want.shape:
            out[k] = got.shape[-1]
        elif not (whole or k.startswith(skip)) and got.shape[:-1] == want.shape[:-1] and got.shape[-1] < want.shape[-1]:
            out[k] = schedule.get(got.shape[-1], got.shape[-1])
    return {k: n for k, n in out.items() if n}


def check_start(experiment: experiments.Experiment, res: Results, cell: Cell) -> dict:
    """Re-run the start of one stored run of `cell` of the results `res` with today's code, and
    compare it with the stored records (:func:`within`), as ``experiment.start`` says: its run
    ``run``, at ``rtol``.

    The run is the cell of the experiment's short configuration (``config``), compared where its
    records fall at the same steps as the stored ones (:func:`schedules`); a cell that it does not
    change, or of which it cuts no curve (all its arrays are final values, as a sweep's), is
    computed whole for that run. A record stored as NaN is compared only in a whole run: a
    training that failed later is stored as NaN throughout. Returns what was compared: ``run``,
    ``whole``, ``records`` (each array compared and how many of its first records), ``unchecked``
    (the cell's arrays that were not: values at the end of a run that a short run does not reach)
    and the largest relative difference. Raises :class:`Refused` naming the cell, the array, the
    record and both values where they differ.
    """
    what = f"{experiment.name} cell {'.'.join(cell.labels.values()) or '(the only one)'}"
    if experiment.start is None:
        raise ResultsError(f"{experiment.name} cannot be re-run short (its experiment declares no `start`); recompute "
                           f"its stale cells: python -m falib reproduce {experiment.name} --profile {res.profile}")
    run = experiment.start["run"]
    if run not in res.meta["runs"]:
        raise ResultsError(f"{experiment.name} results hold no run {run}, the run its `start` re-runs "
                           f"(they hold runs {res.meta['runs']})")
    row = res.meta["runs"].index(run)
    stored = {k: a for k, a in res.arrays.items() if cell.holds(k) and k not in experiment.shared}
    short = next(c for c in experiment.cells(merged(res.config, experiment.start["config"])) if c.labels == cell.labels)
    backend = Backend(res.meta["backend"], res.meta["device"], res.meta["dtype"])
    skip = tuple(experiment.start.get("skip", ()))
    tries = [(short.config, False)] if short.config != cell.config else []
    for config, whole in tries + [(cell.config, True)]:
        fresh = rerun(cell, config, backend, run)
        shared = {k: a for k, a in res.arrays.items() if k in experiment.shared and cell.holds(k)}
        records = compared(fresh, stored, row, whole, skip, schedules(fresh, shared, skip))
        if records:
            break
    else:
        raise Refused(f"{what}: today's code computes none of its stored arrays ({', '.join(sorted(stored))})")
    exact = fresh if backend.dtype == "float64" else rerun(cell, config, Backend(backend.name, backend.device), run)
    largest = 0.0
    for k, n in records.items():
        got, want, near = (np.atleast_1d(a)[..., :n] for a in (fresh[k][0], stored[k][row], exact[k][0]))
        # a training that failed later is stored as NaN throughout (deep's and beyond's `fit`)
        ok = within(got, want, near, experiment.start["rtol"]) | (np.isnan(want) & (not whole))
        if not ok.all():
            i = tuple(int(j) for j in np.argwhere(~ok)[0])
            raise Refused(f"{what}: today's code does not reproduce {k} of run {run} at record {i[-1]} "
                          f"(index {list(i)}): {got[i]:.9g} today, {want[i]:.9g} stored")
        held = np.isfinite(want) & (want != 0)
        largest = max(largest, float(np.max(np.abs(got - want)[held] / np.abs(want[held]), initial=0.0)))
    unchecked = sorted(stored.keys() - records.keys())
    return {"run": run, "whole": whole, "records": records, "unchecked": unchecked, "largest_difference": largest}


def restamp(name: str, folder: Path | None = None) -> list[dict]:
    """Restamp the cells of `name`'s paper results in `folder` (default: where paper results are
    read) that today's code fingerprints differently: each is checked (:func:`check_start`) and,
    if all agree, the file is saved again with today's fingerprints for them and a
    ``meta["restamped"]`` entry per cell (its labels, both fingerprints and what was compared);
    the arrays, and the rest of the file, are kept bit for bit. Returns the entries, none if no
    cell is stale. Raises :class:`Refused` (nothing written) if a cell differs."""
    experiment = experiments.get(name)
    path = Path(folder if folder is not None else results_dir("paper")) / paper_file(experiment)
    if not path.exists():
        raise ResultsError(f"no paper results of {name} in {path.parent} (no {path.name})")
    res = Results.load(path)
    missing = experiment.missing(res)
    if missing:
        raise ResultsError(f"{path.name} lacks the cells {missing}; compute them: "
                      f"python -m falib reproduce {name} --profile paper")
    listed = {c["key"]: c["code"] for c in res.meta["cells"]}
    stale = [(cell, listed[cell.key(name, res.origin)], cell.code()) for cell in experiment.cells(res.config)
             if listed[cell.key(name, res.origin)] != cell.code()]
    entries = [{"labels": cell.labels, "from_code": old, "to_code": new, **check_start(experiment, res, cell)}
               for cell, old, new in stale]
    if entries:
        codes = {cell.key(name, res.origin): new for cell, _, new in stale}
        cells = [dict(c, code=codes.get(c["key"], c["code"])) for c in res.meta["cells"]]
        meta = dict(res.meta, cells=cells, restamped=res.meta.get("restamped", []) + entries)
        Results(res.name, res.profile, res.config, res.arrays, meta).save(path.parent)
    return entries


def paper_file(experiment) -> str:
    """The name of the results file that `experiment`'s paper profile reads."""
    config = experiment.config("paper")
    return file_name(experiment.name, "paper", config, experiments.origin(experiment.default_backend(config)))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m falib.migrations restamp",
                                description="Restamp committed paper cells computed by other code than today's, "
                                "once a short re-run with today's code reproduces their stored records.")
    p.add_argument("experiments", nargs="*", metavar="experiment",
                   help="default: every experiment with paper results in the folder")
    p.add_argument("--results", type=Path, default=None, help="the folder of paper results (default: results/)")
    return p


def main(argv: list[str]) -> int:
    """``restamp [experiment ...]``: a line per experiment, on stderr for one refused (exit 1: a
    cell differs) or that cannot be restamped (exit 2); else ``[folder]``: :func:`migrate`."""
    if argv[:1] != ["restamp"]:
        for old, new in migrate(Path(argv[0]) if argv else REPO_RESULTS):
            print(f"{old} -> {new}")
        return 0
    args = parser().parse_args(argv[1:])
    folder = args.results or results_dir("paper")
    try:
        if not folder.is_dir():
            raise ResultsError(f"no results folder {folder}; name one with --results")
        chosen = [experiments.get(n) for n in args.experiments] or [
            e for e in map(experiments.get, experiments.names()) if (folder / paper_file(e)).exists()]
    except (experiments.ChoiceError, ResultsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return CANNOT_RUN
    status = 0
    for experiment in chosen:
        try:
            done = restamp(experiment.name, folder)
        except Refused as err:
            print(f"error: {err}; {experiment.name}'s results are left as they were", file=sys.stderr)
            status = max(status, REFUSED)
            continue
        except (ResultsError, MnistError, DivergenceError) as err:
            print(f"error: {err}", file=sys.stderr)
            status = max(status, CANNOT_RUN)
            continue
        except ValueError as err:   # today's code refuses the stored configuration
            print(f"error: {experiment.name} cannot be re-run as stored ({err}); recompute it: python -m falib "
                  f"reproduce {experiment.name} --profile paper", file=sys.stderr)
            status = max(status, CANNOT_RUN)
            continue
        print(f"{experiment.name}: " + ("; ".join(
            f"restamped {'.'.join(e['labels'].values()) or 'its cell'} ({e['from_code']} -> {e['to_code']}: "
            f"{len(e['records'])} arrays of run {e['run']} agree, largest relative difference "
            f"{e['largest_difference']:.2g})" for e in done) or "no stale cell, nothing to restamp"))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
