"""Command line: ``python -m falib reproduce <experiment>`` and ``python -m falib claims <experiment>``."""
from __future__ import annotations

import argparse
import sys

from .backend import BACKENDS, DEVICES, DTYPES, Backend
from .experiments import PROFILES, get, names, reproduce
from .training import DivergenceError


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m falib",
        description="Reproduce Lillicrap et al. (2016), 'Random synaptic feedback weights support "
                    "error backpropagation for deep learning'.",
        epilog="experiments: " + ", ".join(f"{n} ({get(n).title})" for n in names()))
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("reproduce", help="compute an experiment's results and store them")
    check = sub.add_parser("claims", help="print an experiment's claims table; exit 1 if any fails")
    for s in (run, check):
        s.add_argument("experiment", help=", ".join(names()))
        s.add_argument("--profile", default="quick", help=" or ".join(PROFILES) + " (default quick)")
        s.add_argument("--out", default=None, help="results folder (default: results/ for paper, a cache otherwise)")
    run.add_argument("--backend", default=None, help=" or ".join(BACKENDS))
    run.add_argument("--device", default="cpu", help=" or ".join(DEVICES))
    run.add_argument("--dtype", default=None, help=" or ".join(DTYPES) + " (default: the profile's)")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        experiment = get(args.experiment)
        if args.command == "reproduce":
            config = experiment.config(args.profile)
            backend = Backend(args.backend or experiment.backend.name, args.device,
                              args.dtype or config["dtype"])
            results = reproduce(args.experiment, args.profile, backend=backend, folder=args.out,
                                recompute=True)
            print(f"{experiment.title}: {results.meta['seconds']} s on {backend.name}/{backend.device}; "
                  f"saved {results.path(args.out) if args.out else results.hash}")
            claims = experiment.claims(results)
        else:
            claims = experiment.claims(reproduce(args.experiment, args.profile, folder=args.out))
    except (ValueError, ImportError, RuntimeError, DivergenceError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{experiment.title} [{args.profile}]")
    print(claims)
    return 0 if claims.ok else 1


if __name__ == "__main__":
    sys.exit(main())
