"""A small chunked experiment for the engine tests, importable by worker processes (falib only)."""
import numpy as np

from falib import Network, make_rule, train
from falib.claims import Claims
from falib.experiments import Experiment
from falib.metrics import normalized_squared_error
from falib.data import columns, minibatches


def learn(config, backend, runs):
    """A real computation: feedback alignment on a 10-8-4 tanh network, each run its own seed."""
    rng = np.random.default_rng(config["seed"])
    X = rng.standard_normal((config["steps"] * 5, 10))
    Y = np.tanh(X @ rng.uniform(-1, 1, (4, 10)).T)
    Xc, Yc = columns(X, backend), columns(Y, backend)
    net = Network.init([10, 8, 4], ["tanh", "linear"], 0.1, seed=config["seed"], runs=runs, backend=backend)
    rule = make_rule("feedback_alignment").bind(net, seed=config["seed"], runs=runs, backend=backend)
    return train(net, rule, minibatches(Xc, Yc, 5), steps=config["steps"], eta=0.05, record_every=10,
                 evaluate=lambda n, r: {"nse": normalized_squared_error(Yc[..., :50], n.forward(Xc[..., :50]).y)})


def fails_on_run_2(config, backend, runs):
    if 2 in runs:
        raise RuntimeError("interrupted")
    return learn(config, backend, runs)


CONFIG = {"runs": 4, "steps": 40, "seed": 7, "dtype": "float64"}
LEARN = Experiment("learn", "a small feedback-alignment run", {"quick": CONFIG, "paper": CONFIG}, learn,
                   lambda res: Claims([]), chunk=1, shared=("step",))
