"""The results store's policy: serve stored results while current, else compute and save them
(:func:`reproduce`, falib's main entry point), and the checks and clean-ups around a computation."""
from __future__ import annotations

import shutil
from pathlib import Path

from ..backend import Backend
from ..results import Results, ResultsError, cache_dir, file_name, find, inside, results_dir, writable
from . import Experiment, default_profile, get
from .chunks import origin
from .locks import _try_lock, exclusive


def reproduce(name: str, profile: str | None = None, *, backend: Backend | None = None,
              folder=None, recompute: bool = False, executor=None) -> Results:
    """The results of experiment `name` at `profile`: stored ones if current, else computed and saved.

    `backend` (default: the experiment's, with the profile's dtype) is part of what is looked
    up: results of another backend, device or dtype are neither served nor overwritten. Only the
    cells that are missing or stale are computed; the others are taken from the stored results
    of this origin, which the new ones then replace. Quick cells computed by other code are
    recomputed; paper results are served while every cell is there, even one computed by older
    code (:meth:`~falib.experiments.Experiment.stale` lists them), and computed only with
    `recompute` (the command ``reproduce``): they are committed, and may need a GPU, so if they
    are missing the error names the command that makes them. `executor` runs the chunks (see
    :meth:`~falib.experiments.Experiment.run`).
    """
    experiment, profile = get(name), profile or default_profile()
    config = experiment.config(profile)
    backend = backend or experiment.default_backend(config)
    config["dtype"] = backend.dtype
    where = origin(backend)
    folder = Path(folder) if folder is not None else results_dir(profile)

    def stored():
        exists = (folder / file_name(name, profile, config, where)).exists()
        found = find(name, profile, config, where, folder) if exists or not recompute else None
        if found is None or experiment.missing(found) or (
                (recompute or profile != "paper") and experiment.stale(found)):
            return None
        return found

    if (found := stored()) is not None:
        return found
    if not recompute and profile == "paper":
        raise ResultsError(
            f"no current paper-profile results for {name!r} ({'-'.join(where.values())}) in {folder}; "
            f"make them with: python -m falib reproduce {name} --profile {profile}{flags(experiment, backend)}")
    if hasattr(executor, "check"):   # a cluster's workers run this code: checked before anything is written
        for cell in experiment.cells(config):
            executor.check(cell.target)
    stem = Path(file_name(name, profile, config, where)).stem
    checkpoints = prepare(experiment, config, folder, stem)
    with exclusive(checkpoints.with_suffix(".lock")):
        if (found := stored()) is not None:   # another process just made them
            return found
        results = experiment.run(profile, backend, config, checkpoints=checkpoints, executor=executor,
                                 reuse=latest(name, profile, where, folder))
        saved = results.save(folder)
        for superseded in set(versions(name, profile, where, folder)) - {saved}:
            superseded.unlink()
        shutil.rmtree(checkpoints, ignore_errors=True)
    for lock in set(checkpoints.parent.glob(f"{checkpoints.name.rsplit('-', 1)[0]}-*.lock")) - {
            checkpoints.with_suffix(".lock")}:
        clear(lock)
    return results


def clear(lock: Path) -> None:
    """Delete the checkpoints of `lock`'s run (one of a superseded configuration), unless it is running."""
    with open(lock, "a") as fh:
        if _try_lock(fh):
            shutil.rmtree(lock.with_suffix(""), ignore_errors=True)
            _try_lock(fh, release=True)


def versions(name: str, profile: str, where: dict, folder: Path) -> list[Path]:
    """The results files of `name` at `profile` and origin `where` in `folder`, newest last."""
    return sorted(folder.glob(f"{name}-{profile}-{'-'.join(where.values())}-*.npz"), key=lambda p: p.stat().st_mtime)


def latest(name: str, profile: str, where: dict, folder: Path) -> Results | None:
    """The newest stored results of `name` at `profile` and origin `where`, whatever their configuration."""
    found = versions(name, profile, where, folder)
    return Results.load(found[-1]) if found else None


def flags(experiment: Experiment, backend: Backend) -> str:
    """The command-line options that ask for `backend`, if it is not the experiment's default."""
    if backend == experiment.default_backend(experiment.config("paper")):
        return ""
    return f" --backend {backend.name} --device {backend.device} --dtype {backend.dtype}"


def prepare(experiment: Experiment, config: dict, folder: Path, stem: str) -> Path:
    """Before computing: check that the results file `stem` and the checkpoints can be written and
    that the inputs can be read (an error names the path and the fix); returns the run's
    checkpoints folder."""
    writable(folder, "results", "choose another with --out (or the FALIB_RESULTS / FALIB_CACHE variables)")
    target = Path(folder) / f"{stem}.npz"
    if target.exists() and not target.is_file():
        raise ResultsError(f"{target} is a folder (not a file) where the results file goes; move it away, "
                           "then run the same command again")
    cache = writable(cache_dir() / "checkpoints", "checkpoints", "point the FALIB_CACHE variable to a writable folder")
    checkpoints = own(cache / stem, cache)
    own(checkpoints.with_suffix(".lock"), cache)
    if experiment.inputs is not None:
        try:
            experiment.inputs(config)
        except OSError as err:
            elsewhere = f", or point {experiment.data} to a folder that holds readable copies" \
                if experiment.data else ""
            raise ResultsError(f"cannot read {err.filename or 'the input data'} ({err.strerror or err}), which "
                               f"{experiment.name} needs; make it readable{elsewhere}") from err
    return checkpoints


def own(path: Path, cache: Path) -> Path:
    """`path`, unless it is a symbolic link or leads out of `cache` (falib writes only inside it)."""
    if path.is_symlink() or not inside(path, cache):
        raise ResultsError(f"{path} is a symbolic link to {path.resolve()}, which falib would write through; "
                           "falib writes only inside its cache: remove the link, then run the same command again")
    return path
