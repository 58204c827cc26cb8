"""One training loop for every rule: online or minibatch, metrics on a schedule, divergence checks."""
from __future__ import annotations

import os
from typing import Callable

import numpy as np
from array_api_compat import array_namespace

from .backend import to_numpy
from .networks import Network
from .rules import Rule


class DivergenceError(FloatingPointError):
    """Training produced NaN or inf, or stalled with every unit of a hidden layer saturated."""


SATURATED = 1e-6   # a unit whose slope f'(a) is below this on every example passes no error back


def _bad_data(batch, start: int, stop: int) -> str | None:
    """The first step in [start, stop) whose input or target holds NaN or inf, described; else None."""
    for s in range(start, stop):
        for name, a in zip(("input x", "target"), batch(s)):
            if not np.all(np.isfinite(to_numpy(a))):
                return f"the {name} of training step {s + 1} contains NaN or inf"
    return None


def saturated(net: Network, p) -> list[tuple[int, list[int]]]:
    """``(layer, runs)`` for each hidden layer all of whose units are saturated (slope below
    :data:`SATURATED`) on every example of the pass `p`, in those runs."""
    found = []
    for l, f in enumerate(net.f[:-1]):
        if f.name == "linear":
            continue
        h = p.h[l + 1]
        xp = array_namespace(h)
        dead = to_numpy(xp.all(f.backward(xp.ones_like(h), h) < SATURATED, axis=(-2, -1)))
        if dead.any():
            found.append((l + 1, np.flatnonzero(dead).tolist()))
    return found


def progress_bar(total: int, desc: str):
    """A tqdm bar (a widget in notebooks), silent under CI or with FALIB_PROGRESS=0."""
    from tqdm.auto import tqdm

    quiet = os.environ.get("CI") or os.environ.get("FALIB_PROGRESS", "1") == "0"
    return tqdm(total=total, desc=desc, disable=bool(quiet), leave=False, mininterval=0.5)


def schedule(steps: int, every: int, window: int = 0) -> list[int]:
    """The steps after which metrics are recorded: 0, every, 2 every, ..., the last, and each of
    the last `window` steps (so that a score can average over them)."""
    if steps < 1 or every < 1 or window < 0:
        raise ValueError(f"steps and record_every must be positive and window not negative, got {steps}, {every} "
                         f"and {window}")
    return sorted(set(range(0, steps + 1, every)) | set(range(max(steps - window + 1, 0), steps + 1)))


def step_decay(eta: float, drops, factor: float) -> Callable[[int], float]:
    """A learning rate that starts at `eta` and is multiplied by `factor` at each step in `drops`."""
    return lambda t: eta * factor ** sum(t >= d for d in drops)


DIVERGED = ("raise", "nan", "keep")
"""What :func:`train` does when a run diverges or stalls: raise the ``DivergenceError``; return
every curve NaN at every record (a sweep that scores a diverged setting as failed); or return
the curves up to and including the bad record, with the error's message (an explorer)."""


def train(net: Network, rule: Rule, batch: Callable[[int], tuple], *, steps: int,
          eta: float | Callable[[int], float],
          decay: float = 0.0, record_every: int = 100, window: int = 0,
          evaluate: Callable[[Network, Rule], dict] = lambda net, rule: {},
          desc: str | None = None, diverged: str = "raise") -> dict[str, np.ndarray]:
    """Train `net` in place with `rule` for `steps` steps of ``batch(t) -> (x, target)``.

    `eta` is the learning rate, or a function of the step ``t`` (0, 1, ...) that gives it (see
    :func:`step_decay`). Metrics are recorded at the steps of :func:`schedule`. Returns the recorded curves: ``"step"`` (records,) and one
    ``(R, records)`` array per metric that ``evaluate(net, rule)`` returns (one value per run).
    A ``DivergenceError`` names the step, rule and learning rate if any run's error or metric
    stops being finite (or names the bad data, if an input or target was NaN or inf), or if at a
    record every unit of a hidden layer is saturated in some run; `diverged` (one of
    :data:`DIVERGED`) says what happens then: ``"raise"`` it; ``"nan"``: every curve is NaN
    throughout; ``"keep"``: the curves end at the bad record and ``"diverged"`` holds the
    error's message (None if the run did not diverge). Under ``"nan"`` and ``"keep"`` NumPy's
    overflow warnings are silenced: the divergence is the report.
    """
    if diverged not in DIVERGED:
        raise ValueError(f"unknown divergence policy {diverged!r}; choose one of: {', '.join(DIVERGED)}")
    record = schedule(steps, record_every, window)
    curves: dict[str, list] = {}
    try:
        with np.errstate(**({} if diverged == "raise" else {"all": "ignore"})):
            _run(net, rule, batch, steps, eta, decay, record, evaluate, desc, curves)
    except DivergenceError as err:
        if diverged == "raise":
            raise
        if diverged == "nan":
            return {k: np.full(v[0].shape + (len(record),), np.nan, dtype=v[0].dtype) for k, v in curves.items()} \
                | {"step": np.asarray(record)}
        return {k: np.stack(v, axis=-1) for k, v in curves.items()} \
            | {"step": np.asarray(record[:len(next(iter(curves.values()), []))]), "diverged": str(err)}
    out = {k: np.stack(v, axis=-1) for k, v in curves.items()}
    out["step"] = np.asarray(record)
    return out | ({"diverged": None} if diverged == "keep" else {})


def _run(net, rule, batch, steps, eta, decay, record, evaluate, desc, curves):
    """:func:`train`'s loop: appends each record's metrics to `curves` (the bad one too) before checking them."""
    rate = eta if callable(eta) else lambda t: eta
    recorded = set(record)
    last_ok = 0

    def log(t, e=None):
        nonlocal last_ok
        values = {k: to_numpy(v) for k, v in evaluate(net, rule).items()}
        for k, v in values.items():
            curves.setdefault(k, []).append(v)
        bad = [k for k, v in values.items() if not np.all(np.isfinite(v))]
        if e is not None and not bool(array_namespace(e).all(array_namespace(e).isfinite(e))):
            bad.insert(0, "training error e")
        if bad and t == 0:
            raise DivergenceError(f"{', '.join(bad)} is NaN or inf before any training: the evaluation "
                                  "data (or the initial weights) contain NaN or inf; clean them")
        if bad and (data := _bad_data(batch, last_ok, t)):
            raise DivergenceError(f"{rule.name}: {', '.join(bad)} became NaN or inf because {data}; "
                                  "the data are bad (not the learning rate): remove or replace those values")
        if bad:
            raise DivergenceError(
                f"{rule.name} diverged: {', '.join(bad)} became NaN or inf between step {last_ok} and "
                f"step {t} (learning rate eta={rate(t - 1):g}); lower eta or the initial/feedback weight scales")
        last_ok = t

    log(0)
    with progress_bar(steps, desc or rule.name) as bar:
        for t in range(1, steps + 1):
            x, target = batch(t - 1)
            p = net.forward(x)
            if target.shape[-2:] != p.y.shape[-2:]:
                raise ValueError(f"target has shape {tuple(target.shape)}; expected (runs, "
                                 f"{p.y.shape[-2]}, {p.y.shape[-1]}) to match the network's output")
            deltas = rule.deltas(net, p, target, rule.noise(net, p.y.shape[-1]))
            for l, delta in enumerate(deltas):
                if delta is not None:
                    net.update(l, delta, p.h[l], rate(t - 1), decay)
            rule.learn(net, p, deltas, rate(t - 1), decay)
            if t in recorded:
                log(t, target - p.y)
                if stalled := saturated(net, p):
                    raise DivergenceError(
                        f"{rule.name} stalled at step {t}: every unit of hidden layer "
                        + "; ".join(f"{l} in run(s) {runs}" for l, runs in stalled)
                        + f" is saturated (slope f'(a) < {SATURATED:g} on every example), so no error "
                        f"reaches the layers below (learning rate eta={rate(t - 1):g}); lower eta or the "
                        "initial/feedback weight scales")
                bar.update(t - bar.n)
