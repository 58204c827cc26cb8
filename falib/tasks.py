"""Regression tasks of the paper: data streams shared by every run and every rule."""
from __future__ import annotations

import numpy as np

from .backend import Backend

TASK_STREAM, TRAIN_STREAM, TEST_STREAM = 0, 1, 2


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
