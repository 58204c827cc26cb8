"""Regression tasks of the paper: data streams shared by every run and every rule."""
from __future__ import annotations

import numpy as np

from .backend import Backend
from .networks import Network, activation


def columns(X: np.ndarray, backend: Backend):
    """Host examples ``(n, features)`` as a backend array ``(1, features, n)``: one column each."""
    return backend.asarray(X.T[None])


def minibatches(X, Y, batch: int):
    """``batch(t)``: the t-th minibatch of the column arrays X, Y, cycling through them in order."""
    n = X.shape[-1]
    if batch < 1 or batch > n:
        raise ValueError(f"batch size must be between 1 and the {n} examples, got {batch}")
    per_pass = n // batch

    def get(t: int):
        i = (t % per_pass) * batch
        return X[..., i:i + batch], Y[..., i:i + batch]

    return get


def linear_target(rng: np.random.Generator, n_out: int, n_in: int, scale: float = 1.0) -> np.ndarray:
    """The paper's target matrix ``T`` (Fig. 2): entries uniform in [-scale, scale]."""
    return rng.uniform(-scale, scale, size=(n_out, n_in))


def network_target(rng: np.random.Generator, sizes, scale: float = 0.5) -> Network:
    """Fig. 3d's target: a fixed tanh network, linear output, no biases, weights uniform in [-scale, scale]."""
    W = [rng.uniform(-scale, scale, size=(1, m, n)) for n, m in zip(sizes, sizes[1:])]
    return Network(W, None, [activation("tanh")] * (len(W) - 1) + [activation("linear")])


def quadratic_target(rng: np.random.Generator, n_out: int, n_in: int, scale: float = 0.5) -> np.ndarray:
    """Fig. 5's matrices ``Q_k``, k = 1..n_out, as ``(n_out, n_in, n_in)``, entries uniform in [-scale, scale]."""
    return rng.uniform(-scale, scale, size=(n_out, n_in, n_in))


def quadratic(Q: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``y*_k = x^T Q_k x`` for every example (row) of X: shape ``(n, n_out)`` (Fig. 5)."""
    return np.einsum("ni,kij,nj->nk", X, Q, X)
