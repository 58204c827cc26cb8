"""The settings of Fig. 3d, chosen on a validation set: backprop's learning rate, then feedback
alignment's feedback scales (at backprop's rate: the paper's protocol) and its own best rate and
per-layer scales. Separate runs (their own initial weights) from those of ``deep``; the same task,
data, budget and single draw of B1, B2.
"""
from __future__ import annotations

import itertools

import numpy as np

from ..claims import Claims
from . import Experiment
from .deep import BASE, converged, data, fit, stop_index

PAPER = dict(
    BASE,
    eta=[0.1, 0.2, 0.4, 0.8, 1.6],          # learning rates tried, for both rules
    feedback_scale=[0.25, 0.5, 1.0, 2.0],  # scales of B1 and of B2 tried, each with each
    runs=5, first_run=100,                 # 5 runs per setting, not those of `deep` (0-19)
)
QUICK = dict(PAPER, runs=2, steps=300, eta=[0.4, 0.8], feedback_scale=[0.5, 1.0])


def compute(config, backend, runs):
    """Validation NSE curves: ``backprop`` (runs, eta, records), ``feedback_alignment`` (runs, eta, s1, s2, records)."""
    runs, sets = [config["first_run"] + r for r in runs], data(config, backend)
    sets.pop("test")
    etas, scales = config["eta"], config["feedback_scale"]
    bp = [fit(config, backend, runs, sets, "deep", {"rule": "backprop"}, eta) for eta in etas]
    fa = [fit(config, backend, runs, sets, "deep", {"rule": "feedback_alignment", "scale": [s1, s2]}, eta)
          for eta, s1, s2 in itertools.product(etas, scales, scales)]
    records = bp[0]["step"]
    return {"step": records * config["batch"],
            "backprop": np.stack([c["valid"] for c in bp], axis=1),
            "feedback_alignment": np.stack([c["valid"] for c in fa], axis=1).reshape(
                len(runs), len(etas), len(scales), len(scales), len(records))}


def _mean(res, rule):
    return np.mean(res[rule].astype(np.float64), axis=0)


def backprop_stops(res) -> tuple[list[int], np.ndarray]:
    """For each learning rate, where backprop stops improving (record index) and its mean validation NSE there."""
    cfg, bp = res.config, _mean(res, "backprop")
    stops = [stop_index(c, cfg["patience"], cfg["min_improvement"]) for c in bp]
    return stops, np.array([c[i] for c, i in zip(bp, stops)])


def choice(res) -> dict:
    """What the search picks, by mean validation NSE (a failed setting never):

    - ``eta``: backprop's rate, lowest where its runs stop improving (``stop``, a record index);
    - ``feedback_scale``: one scale for B1 and B2 at that rate, lowest at ``stop`` (the paper's protocol);
    - ``tuned``: feedback alignment's own rate and per-layer scales, lowest at ``stop``.
    """
    etas, scales = res.config["eta"], res.config["feedback_scale"]
    stops, at_stop = backprop_stops(res)
    best = int(np.argmin(np.nan_to_num(at_stop, nan=np.inf)))
    fa = _mean(res, "feedback_alignment")[..., stops[best]]
    diagonal = np.nan_to_num(np.diagonal(fa[best]), nan=np.inf)
    e, s1, s2 = np.unravel_index(np.argmin(np.nan_to_num(fa, nan=np.inf)), fa.shape)
    return {"eta": etas[best], "stop": stops[best],
            "feedback_scale": scales[int(np.argmin(diagonal))],
            "tuned": {"eta": etas[e], "feedback_scale": [scales[s1], scales[s2]]}}


def tuned_runs(res) -> np.ndarray:
    """The validation NSE of every run at feedback alignment's chosen own settings, at backprop's stop."""
    cfg, pick = res.config, choice(res)
    e = cfg["eta"].index(pick["tuned"]["eta"])
    s1, s2 = (cfg["feedback_scale"].index(s) for s in pick["tuned"]["feedback_scale"])
    return res["feedback_alignment"][:, e, s1, s2, pick["stop"]].astype(np.float64)


def numbers(res) -> dict[str, str]:
    """The search's choices, formatted for the chapter's prose."""
    pick, scales = choice(res), res.config["feedback_scale"]
    e = res.config["eta"].index(pick["eta"])
    at_rate = np.diagonal(_mean(res, "feedback_alignment")[e, ..., pick["stop"]])
    failed = [f"{s:g}" for s, v in zip(scales, at_rate) if not np.isfinite(v)]
    return {"search_runs": str(len(res.meta["runs"])), "search_eta": f"{pick['eta']:g}",
            "search_scale": f"{pick['feedback_scale']:g}",
            "search_failed_scales": " and ".join(failed) or "none",
            "search_stop_examples": f"{res['step'][pick['stop']]:,}",
            "tuned_eta": f"{pick['tuned']['eta']:g}", "search_tuned_valid": f"{tuned_runs(res).mean():.2g}",
            "search_tuned_converged": converged(tuned_runs(res)),
            "tuned_scales": " and ".join(f"{s:g}" for s in pick["tuned"]["feedback_scale"])}


def table(res):
    """Everything tried: mean validation NSE for every rate (columns) and setting (rows), backprop's where
    it stops improving, feedback alignment's at the chosen backprop rate's stop (Markdown)."""
    from IPython.display import Markdown

    cfg, pick = res.config, choice(res)
    i, etas, scales = pick["stop"], cfg["eta"], cfg["feedback_scale"]
    fmt = lambda v: "failed" if not np.isfinite(v) else f"{v:.2e}"   # diverged or stalled
    bp, fa = backprop_stops(res)[1], _mean(res, "feedback_alignment")[..., i]
    head = "| rule | B₁ scale | B₂ scale | " + " | ".join(f"η = {e:g}" for e in etas) + " |"
    rows = [head, "|---" * (3 + len(etas)) + "|", "| backprop | | | " + " | ".join(map(fmt, bp)) + " |"]
    for (a, s1), (b, s2) in itertools.product(enumerate(scales), repeat=2):
        rows.append(f"| feedback alignment | {s1:g} | {s2:g} | " + " | ".join(fmt(v) for v in fa[:, a, b]) + " |")
    return Markdown("\n".join(rows))


EXPERIMENT = Experiment("deep-search", "Fig. 3d settings: backprop's rate, FA's scales and own rate, on validation data",
                        {"quick": QUICK, "paper": PAPER}, compute, lambda res: Claims([]), order=4,
                        shared=("step",), start={"config": {"steps": 4 * PAPER["record_every"]}, "run": 3, "rtol": 1e-5})
