"""Command line: ``python -m falib reproduce <experiment>`` and ``python -m falib claims <experiment>``."""
from __future__ import annotations

import argparse
import signal
import sys

from .backend import BACKENDS, DEVICES, DTYPES, Backend
from .engines import executor
from .experiments import PROFILES, get, names, reproduce
from .training import DivergenceError

CLAIM_FAILED, CANNOT_RUN = 1, 2
EXIT_CODES = f"""exit codes:
  0  every claim is as expected (a declared known gap that still fails counts as expected)
  {CLAIM_FAILED}  a claim is not as expected
  {CANNOT_RUN}  could not run: bad arguments, missing or unreadable data or results, an output
     or cache folder that cannot be written, an unreachable Dask scheduler, training that
     diverged or stalled"""


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
    run.add_argument("--jobs", type=int, default=1,
                     help="compute the run's chunks on a pool of this many local processes (default 1: here)")
    run.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                     help="compute the chunks on the Dask cluster of this scheduler instead")
    return p


def main(argv=None) -> int:
    """Run the command line; a SIGTERM exits through the clean-ups (no temporary files left)."""
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        return command(parser().parse_args(argv))
    finally:
        signal.signal(signal.SIGTERM, previous)


def command(args) -> int:
    try:
        experiment = get(args.experiment)
        config = experiment.config(args.profile)
        backend = Backend(args.backend or experiment.backend.name, args.device, args.dtype or config["dtype"])
        recompute = args.command == "reproduce"
        with executor(args.jobs if recompute else 1, args.scheduler if recompute else None) as chunks:
            results = reproduce(args.experiment, args.profile, backend=backend, folder=args.out,
                                recompute=recompute, executor=chunks)
        if args.command == "reproduce":
            print(f"{experiment.title}: {results.meta['seconds']} s on {backend.name}/{backend.device} "
                  f"({backend.dtype}); saved {results.file_name}")
        claims = experiment.claims(results)
    except (ValueError, ImportError, RuntimeError, DivergenceError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return CANNOT_RUN
    print(f"{experiment.title} [{args.profile}]")
    print(claims)
    return 0 if claims.ok else CLAIM_FAILED


if __name__ == "__main__":
    sys.exit(main())
