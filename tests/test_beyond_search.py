"""Beyond's rate search: it picks each rule's lowest validation error at each depth, never a
diverged rate, and the depth sweep runs at the rates the stored search chose."""
import numpy as np
import pytest

import falib
from falib.experiments import beyond, beyond_search
from falib.results import REPO_RESULTS, Results


def search(ends: dict) -> Results:
    """A search whose runs end at `ends` (rule -> (runs, depths, rates)), after a first record of 1."""
    config = dict(beyond_search.QUICK, depths=[1, 3, 6], eta=[0.03, 0.1, 0.3], np_eta=[1e-3, 3e-3, 1e-2],
                  teacher=dict(beyond_search.QUICK["teacher"], rules={k: beyond.PAPER["teacher"]["rules"][k] for k in ends}))
    arrays = {f"{k}/valid": np.stack([np.ones_like(v), v], axis=-1) for k, v in ends.items()}
    return Results("beyond-search", "quick", config, arrays | {"step": np.array([0, 300])}, {"runs": [0, 1]})


def test_search_picks_the_lowest_validation_error_and_never_a_diverged_rate():
    bp = np.array([[[0.3, 0.1, 0.2], [0.5, 0.4, 0.01], [np.nan, 0.2, 0.3]],
                   [[0.3, 0.1, 0.2], [0.5, 0.4, 0.01], [0.001, 0.2, 0.3]]])     # (runs, depths 1, 3, 6, rates)
    np_ = np.full((2, 3, 3), np.nan)                                             # node perturbation: all diverged
    res = search({"backprop": bp, "node_perturbation": np_})
    assert beyond_search.choice(res) == {"backprop": {"1": 0.1, "3": 0.3, "6": 0.1},
                                         "node_perturbation": {"1": 1e-3, "3": 1e-3, "6": 1e-3}}
    assert beyond_search.at_edge(res) == [("backprop", 3)] + [("node_perturbation", d) for d in (1, 3, 6)]
    table = beyond_search.table(res).data
    assert "η = 0.3: 1.0e-02" in table and "all diverged" in table
    assert beyond_search.numbers(res)["search_edge"] == "4 of 6"


@pytest.mark.skipif(not list(REPO_RESULTS.glob("beyond-search-paper-*")), reason="no stored search")
def test_the_depth_sweep_runs_at_the_rates_the_stored_search_chose():
    assert beyond.PAPER["depth_eta"] == beyond_search.choice(falib.reproduce("beyond-search", "paper"))
    assert beyond.QUICK["depth_eta"] == beyond.PAPER["depth_eta"]
