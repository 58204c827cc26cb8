"""Each rule's learning rate at each depth of ``beyond``'s depth sweep, chosen on validation data.

The sweep trains every rule on the teacher task in networks of 1 to 6 hidden tanh layers. At one
rate for every depth, a rule's standing at a depth says as much about that rate as about the rule.
Here each rule tries a grid of rates at each depth, on runs of its own (not the sweep's), scored by
the validation NSE at the end of the sweep's training; ``beyond``'s configuration holds the rates
this search chose (a test checks them against the stored search).
"""
from __future__ import annotations

import numpy as np

from .. import tasks
from ..cells import Cell
from ..claims import Claims
from ..data import minibatches
from ..plots import looks
from ..rules import make_rule
from ..training import schedule
from . import Experiment
from . import beyond

PAPER = {
    "teacher": dict(beyond.PAPER["teacher"], valid_size=5000),   # the sweep's task, budget and rules
    "depths": beyond.PAPER["depths"],
    "eta": [0.01, 0.03, 0.1, 0.3, 1.0],       # ours: rates tried, factors of about 3 around the sweep's 0.1
    "np_eta": [3e-4, 1e-3, 3e-3, 1e-2, 3e-2],  # ours: node perturbation's, around its 3e-3
    "runs": 2, "first_run": 100,               # runs of their own, not those of the sweep (0-2)
    "seed": beyond.PAPER["seed"],
    "dtype": beyond.PAPER["dtype"],
}
QUICK = dict(PAPER, teacher=dict(PAPER["teacher"], steps=200, record_every=50), depths=[1, 6],
             eta=[0.03, 0.3], np_eta=[1e-3, 1e-2])


def rates(config, name: str) -> list[float]:
    """The rates rule `name` tries: node perturbation's grid for a stochastic rule, else the common one."""
    return config["np_eta"] if make_rule(config["teacher"]["rules"][name]).stochastic else config["eta"]


def valid_curve(config, sets, depth: int, name: str, eta: float, backend, runs) -> np.ndarray:
    """Rule `name`'s validation NSE per record, at `depth` hidden layers and rate `eta` (R, records)."""
    c = config["teacher"]
    (X, Y), valid = sets["train"], sets["valid"]
    net = beyond.student(config, [c["target_sizes"][0]] + [c["width"]] * depth + [c["target_sizes"][-1]], backend, runs)
    return beyond.fit(net, make_rule(c["rules"][name]).bind(net), minibatches(X, Y, c["batch"]), c["steps"], eta,
                      c["record_every"], "teacher", valid, desc=f"beyond-search: depth {depth}, {name}, η = {eta:g}")["error"]


def compute(config, backend, runs):
    """``{rule}/valid``: each rule's validation NSE per record, (runs, depths, rates, records), NaN
    throughout where it diverged; ``step``: the examples seen at each record."""
    c, runs = config["teacher"], [config["first_run"] + r for r in runs]
    sets = tasks.task("teacher").data(dict(c, seed=config["seed"], dtype=config["dtype"]), backend,
                                      sets=("train", "valid"))
    out = {"step": np.asarray(schedule(c["steps"], c["record_every"])) * c["batch"]}
    for name in c["rules"]:
        out[f"{name}/valid"] = np.stack([np.stack([valid_curve(config, sets, d, name, eta, backend, runs)
                                                   for eta in rates(config, name)], axis=1)
                                         for d in config["depths"]], axis=1)
    return out


def grid(config) -> list[Cell]:
    """A cell per rule."""
    return [Cell({"rule": name}, dict(config, teacher=dict(config["teacher"], rules={name: spec})), compute,
                 (f"{name}/", "step")) for name, spec in config["teacher"]["rules"].items()]


def choice(res) -> dict[str, dict[str, float]]:
    """Per rule, per depth (a string, as configurations store keys), the rate with the lowest mean
    validation NSE over runs; a rate at which any run diverged is never chosen (if all did, the lowest rate)."""
    out = {}
    for name in res.config["teacher"]["rules"]:
        mean = np.nan_to_num(res[f"{name}/valid"][..., -1].mean(axis=0), nan=np.inf)
        out[name] = {str(d): rates(res.config, name)[int(np.argmin(m))] for d, m in zip(res.config["depths"], mean)}
    return out


def at_edge(res) -> list[tuple[str, int]]:
    """The (rule, depth) pairs whose chosen rate is the grid's lowest or highest: the best may lie beyond it."""
    pick = choice(res)
    return [(name, int(d)) for name, by_depth in pick.items() for d, eta in by_depth.items()
            if eta in (rates(res.config, name)[0], rates(res.config, name)[-1])]


def table(res):
    """The chosen rate and its mean validation NSE per rule (rows) and depth (columns) (Markdown)."""
    from IPython.display import Markdown

    depths, pick, look = res.config["depths"], choice(res), looks(res.config["teacher"]["rules"])
    rows = ["| rule | " + " | ".join(f"{d} hidden" for d in depths) + " |", "|---" * (1 + len(depths)) + "|"]
    for name in res.config["teacher"]["rules"]:
        mean = res[f"{name}/valid"][..., -1].mean(axis=0)
        cells = [f"η = {pick[name][str(d)]:g}: " + (f"{mean[i, rates(res.config, name).index(pick[name][str(d)])]:.1e}"
                                                     if np.isfinite(mean[i]).any() else "all diverged")
                 for i, d in enumerate(depths)]
        rows.append(f"| {look[name].label} | " + " | ".join(cells) + " |")
    return Markdown("\n".join(rows))


def numbers(res) -> dict[str, str]:
    """The search's outline, for the chapter's prose."""
    edge = at_edge(res)
    return {"search_runs": str(len(res.meta["runs"])), "search_etas": ", ".join(f"{e:g}" for e in res.config["eta"]),
            "search_np_etas": ", ".join(f"{e:g}" for e in res.config["np_eta"]),
            "search_edge": f"{len(edge)} of {len(res.config['teacher']['rules']) * len(res.config['depths'])}"}


EXPERIMENT = Experiment("beyond-search", "Beyond's depth sweep: each rule's rate at each depth, on validation data",
                        {"quick": QUICK, "paper": PAPER}, compute, lambda res: Claims([]), order=7,
                        backend=beyond.EXPERIMENT.backend, chunk=2, grid=grid, shared=("step",),
                        start={"config": {"teacher": {"steps": 4 * PAPER["teacher"]["record_every"]}}, "run": 1,
                               "rtol": 1e-5})
