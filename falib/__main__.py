"""Command line: ``python -m falib reproduce <experiment>`` and ``python -m falib claims <experiment>``."""
from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

from .backend import BACKENDS, DEVICES, DTYPES, Backend
from .data import MnistError
from .engines import EngineError, executor
from .experiments import PROFILES, ChoiceError, get, names, reproduce
from .results import ResultsError, cache_dir
from .training import DivergenceError

CLAIM_FAILED, CANNOT_RUN, INTERRUPTED = 1, 2, 130
# falib's own errors (OS errors that falib checked arrive rewritten as one of them): one line each.
# Any other exception, a ValueError or OSError from inside the computation too, is unexpected.
EXPECTED = (ChoiceError, ResultsError, EngineError, MnistError, DivergenceError)
EXIT_CODES = f"""exit codes:
  0  every claim is as expected (a declared known gap that still fails counts as expected)
  {CLAIM_FAILED}  a claim is not as expected
  {CANNOT_RUN}  could not run: bad arguments, missing or unreadable data or results, an output
     or cache folder that cannot be written, a Dask scheduler that cannot be reached or a worker
     that runs other code, training that diverged or stalled, or any unexpected error (its
     traceback is saved in a log file that the message names; --debug prints every error's)
  {INTERRUPTED}  interrupted (Ctrl-C): the same command resumes the run"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m falib", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Reproduce Lillicrap et al. (2016), 'Random synaptic feedback weights support "
                    "error backpropagation for deep learning'.",
        epilog="experiments: " + ", ".join(f"{n} ({get(n).title})" for n in names()) + "\n\n" + EXIT_CODES)
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("reproduce", help="compute an experiment's results and store them",
                         formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXIT_CODES)
    check = sub.add_parser("claims", help=f"print an experiment's claims table; exit {CLAIM_FAILED} if "
                           "one is not as expected", formatter_class=argparse.RawDescriptionHelpFormatter,
                           epilog=EXIT_CODES)
    for s in (run, check):
        s.add_argument("experiment", help=", ".join(names()))
        s.add_argument("--profile", default="quick", help=" or ".join(PROFILES) + " (default quick)")
        s.add_argument("--out", default=None, help="results folder (default: results/ for paper, a cache otherwise)")
        s.add_argument("--backend", default=None, help=" or ".join(BACKENDS) + " (default: the experiment's)")
        s.add_argument("--device", default="cpu", help=" or ".join(DEVICES))
        s.add_argument("--dtype", default=None, help=" or ".join(DTYPES) + " (default: the profile's)")
        s.add_argument("--debug", action="store_true", help="print the traceback of any error")
    run.add_argument("--jobs", type=int, default=1,
                     help="compute the run's chunks on a pool of this many local processes (default 1: here)")
    run.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                     help="compute the chunks on the Dask cluster of this scheduler instead")
    return p


def main(argv=None) -> int:
    """Run the command line: every outcome is one of the exit codes above, and a failure is one
    line on stderr. A SIGTERM exits through the clean-ups (no temporary files left)."""
    for stream in (sys.stdout, sys.stderr):   # any terminal encoding: what it cannot show is escaped
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = parser().parse_args(argv)
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        return command(args)
    except KeyboardInterrupt:
        print("interrupted; run the same command again to resume (finished chunks are kept)", file=sys.stderr)
        return INTERRUPTED
    except EXPECTED as err:
        if args.debug:
            traceback.print_exception(err, file=sys.stderr)
        print(f"error: {err}", file=sys.stderr)
        return CANNOT_RUN
    except Exception as err:
        what = " ".join(str(err).split())
        print(f"error: unexpected {type(err).__name__} ({what}) at {where(err)}; {report(err, args.debug)}",
              file=sys.stderr)
        return CANNOT_RUN
    finally:
        signal.signal(signal.SIGTERM, previous)


def command(args) -> int:
    experiment = get(args.experiment)
    config = experiment.config(args.profile)
    recompute = args.command == "reproduce"
    backend = chosen(Backend, args.backend or experiment.backend.name, args.device, args.dtype or config["dtype"])
    if recompute:
        chosen(lambda: backend.xp)   # its array library is installed
    with executor(args.jobs if recompute else 1, args.scheduler if recompute else None) as chunks:
        results = reproduce(args.experiment, args.profile, backend=backend, folder=args.out,
                            recompute=recompute, executor=chunks)
    if recompute:
        untimed = results.meta.get("untimed_cells")
        left_out = f" (not counting {untimed} cells reused untimed)" if untimed else ""
        print(f"{experiment.title}: {results.meta['seconds']} s{left_out} on {backend.name}/{backend.device} "
              f"({backend.dtype}); saved {results.file_name}")
    stale = experiment.stale(results)
    if stale:
        print(f"note: {len(stale)} of the {len(experiment.cells(results.config))} cells were computed by other code "
              f"than today's ({', '.join('.'.join(c.values()) or 'all' for c in stale[:4])}"
              f"{', ...' if len(stale) > 4 else ''}); `python -m falib reproduce {args.experiment} --profile "
              f"{args.profile}` recomputes them", file=sys.stderr)
    ok = show(experiment, results, args.profile)
    for name in experiment.companions:   # the same figure under another protocol: its stored results
        ok &= show(get(name), reproduce(name, args.profile, backend=backend, folder=args.out), args.profile)
    return 0 if ok else CLAIM_FAILED


def show(experiment, results, profile: str) -> bool:
    """Print the experiment's claims table; whether every claim is as expected."""
    claims = experiment.claims(results)
    print(f"{experiment.title} [{profile}]")
    print(claims)
    return claims.ok


def chosen(make, *args):
    """``make(*args)``, whose errors all say that a backend, device or float type cannot be used."""
    try:
        return make(*args)
    except (ValueError, ImportError, RuntimeError) as err:
        raise ChoiceError(str(err)) from err


def where(err: BaseException) -> str:
    """The file and line where `err` was raised (unknown for an exception never raised)."""
    frames = traceback.extract_tb(err.__traceback__)
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "an unknown place"


def report(err: BaseException, debug: bool) -> str:
    """Print the traceback of `err` (with `debug`), or save it in a log file; says which."""
    text = "".join(traceback.format_exception(err))
    if debug:
        print(text, file=sys.stderr, end="")
        return "the traceback is above"
    for folder in (lambda: cache_dir() / "logs", lambda: Path(tempfile.gettempdir()) / "falib-logs"):
        try:
            log = folder() / f"error-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(text)
            return f"the full traceback is in {log} (or run again with --debug)"
        except (OSError, ResultsError):
            continue
    return "run again with --debug to see the full traceback"


if __name__ == "__main__":
    sys.exit(main())
