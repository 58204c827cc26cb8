"""The settings search's promise, checked: the settings it chose for Fig. 3d, trained again on 20 runs.

``deep_search`` judged every setting on 5 runs. Here backprop's rate, feedback alignment's scale at
that rate and feedback alignment's own settings (those of ``deep``) are trained on 20 runs that begin
with the search's 5 (the same initial weights, so those repeat it), scored as the search scores:
on validation data, where these backprop runs stop improving.
"""
from __future__ import annotations

from ..claims import Claims
from . import Experiment
from . import deep, deep_search

PAPER = dict(
    deep.BASE, eta=deep.PAPER["eta"], rules=deep.PAPER["rules"], tuned=deep.PAPER["tuned"],
    runs=20,                                       # the paper's n, against the search's 5
    first_run=deep_search.PAPER["first_run"],      # runs 100-119: the search's, then 15 more
)
QUICK = dict(PAPER, runs=3, steps=300)


def compute(config, backend, runs):
    """Validation NSE curves of the 4-layer network, ``{rule}/deep/valid`` (runs, records), for every protocol."""
    runs, sets, out = [config["first_run"] + r for r in runs], deep.data(config, backend), {}
    sets.pop("test")
    for rule in deep.DEPTH:
        curves = deep.fit(config, backend, runs, sets, "deep", *deep.settings(config, rule))
        out["step"] = curves["step"] * config["batch"]
        out[f"{rule}/deep/valid"] = curves["valid"]
    return out


def numbers(res) -> dict[str, str]:
    """How many of the check's runs fit the target under each protocol, and feedback alignment's own
    settings' mean validation NSE (the search's promise), formatted for the chapter's prose."""
    final = {rule: deep.final(res, rule, "deep", held_out="valid") for rule in deep.DEPTH}
    return {"check_runs": str(len(res.meta["runs"])), "check_stop_examples": f"{res['step'][deep.stop(res)]:,}",
            "check_bp_converged": deep.converged(final["backprop"]),
            "check_fa_converged": deep.converged(final["feedback_alignment"]),
            "check_tuned_converged": deep.converged(final[deep.TUNED]),
            "check_tuned_valid": f"{final[deep.TUNED].mean():.2g}"}


EXPERIMENT = Experiment("deep-check", "Fig. 3d settings rechecked: the search's choices on 20 runs, on validation data",
                        {"quick": QUICK, "paper": PAPER}, compute, lambda res: Claims([]), order=4,
                        shared=("step",), start={"config": {"steps": 4 * PAPER["record_every"]}, "run": 7, "rtol": 1e-5})
