"""The task registry: what a network learns, each task declared once.

A :class:`Task` declares its data (drawn from the shared random streams of
:data:`falib.backend.SHARED_STREAMS`, or read from files), the shape of one input, its number of
classes (None for regression), its score and the score's units. Experiments look a task up by
name (:func:`task`), and ask it, never its name, what to do.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Callable

import numpy as np

from .backend import Backend, shared_rng
from .data import columns, load_fashion_mnist, load_mnist
from .metrics import classification_error, normalized_squared_error
from .networks import Network, activation


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


def linear_data(config, backend: Backend):
    """Fig. 2's task, ``y* = T x`` with x standard normal: the training stream and the test set as
    ``X, Y, Xt, Yt``, one column per example, the same for every rule and run."""
    n_in, n_out = config["sizes"][0], config["sizes"][-1]
    T = linear_target(shared_rng(config["seed"], "task"), n_out, n_in, config["target_scale"])
    X = shared_rng(config["seed"], "train").standard_normal((config["steps"] * config["batch"], n_in))
    Xt = shared_rng(config["seed"], "test").standard_normal((config["test_size"], n_in))
    return [columns(A, backend) for A in (X, X @ T.T, Xt, Xt @ T.T)]


def teacher_data(config, backend: Backend, sets=("train", "valid", "test"), chunk: int = 100_000) -> dict:
    """Fig. 3d's task, a fixed random tanh network (:func:`network_target`) of standard normal inputs:
    ``{name: (x, y*)}`` for each of `sets` (the training stream, validation and test sets), one
    column per example.

    Drawn and passed through the target `chunk` examples at a time (the same numbers as all at
    once), so that the paper's 4,000,000 examples need no more memory than their float32 copy.
    """
    n_in = config["target_sizes"][0]
    target = network_target(shared_rng(config["seed"], "task"), config["target_sizes"], config["target_scale"])
    out = {}
    for name in sets:
        n = config["steps"] * config["batch"] if name == "train" else config[f"{name}_size"]
        rng, X, Y = shared_rng(config["seed"], name), [], []
        for m in [chunk] * (n // chunk) + [n % chunk] * bool(n % chunk):
            x = rng.standard_normal((m, n_in))
            X.append(x.astype(config["dtype"]))
            Y.append(target.forward(x.T[None]).y[0].T.astype(config["dtype"]))
        out[name] = (columns(np.concatenate(X), backend), columns(np.concatenate(Y), backend))
    return out


def quadratic_data(config, backend: Backend):
    """Fig. 5's task, ``y*_k = x^T Q_k x`` with x uniform in [-input_range, input_range]: the training
    stream (enough for the longest training or the three phases) and the test set as ``X, Y, Xt, Yt``."""
    n_in, n_out = config["sizes"][0], config["sizes"][-1]
    Q = quadratic_target(shared_rng(config["seed"], "task"), n_out, n_in, config["target_scale"])
    r = config["input_range"]
    n_train = max(config["steps"], 3 * config["phase_steps"]) * config["batch"]
    X = shared_rng(config["seed"], "train").uniform(-r, r, (n_train, n_in))
    Xt = shared_rng(config["seed"], "test").uniform(-r, r, (config["test_size"], n_in))
    return (columns(X, backend), columns(quadratic(Q, X), backend),
            columns(Xt, backend), columns(quadratic(Q, Xt), backend))


def one_hot(labels, classes: int) -> np.ndarray:
    """Targets: 1 for the labelled class, 0 for the others, ``(examples, classes)``."""
    return np.eye(classes, dtype=np.float32)[labels]


@dataclass(frozen=True)
class Task:
    """A task: its data (``data(config, backend)``), the shape of one input (None: a vector of
    ``config["sizes"][0]`` numbers), its classes (None: regression), its score
    (``score(target or labels, y)``, one value per run) and the score's units."""

    name: str
    data: Callable
    shape: tuple[int, ...] | None
    classes: int | None
    score: Callable
    units: str
    load: Callable | None = None   # the data set of an image task


def images(name: str, config):
    """The first ``train_size`` training and ``test_size`` test images of image task `name`, and
    their labels, as host arrays ``x, y, xt, yt``; the network's input must fit one image."""
    t = task(name)
    if t.load is None:
        raise ValueError(f"task {name!r} has no images; the image tasks: {', '.join(IMAGE_TASKS)}")
    if "sizes" in config and config["sizes"][0] != prod(t.shape):
        raise ValueError(f"{name}'s images have {prod(t.shape)} pixels; the network takes {config['sizes'][0]} inputs")
    d = t.load()
    n, m = config["train_size"], config["test_size"]
    return d.x_train[:n], d.y_train[:n], d.x_test[:m], d.y_test[:m]


def _images_of(name: str) -> Callable:
    return lambda config, backend=None: images(name, config)


TASKS = {t.name: t for t in (
    Task("linear", linear_data, None, None, normalized_squared_error, "NSE"),
    Task("teacher", teacher_data, None, None, normalized_squared_error, "NSE"),
    Task("quadratic", quadratic_data, None, None, normalized_squared_error, "NSE"),
    Task("mnist", _images_of("mnist"), (28, 28), 10, classification_error, "%", load_mnist),
    Task("fashion", _images_of("fashion"), (28, 28), 10, classification_error, "%", load_fashion_mnist),
)}
IMAGE_TASKS = tuple(name for name, t in TASKS.items() if t.load is not None)


def task(name: str) -> Task:
    """The task registered as `name`; an unknown name is refused, never replaced by another task."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of: {', '.join(TASKS)}")
    return TASKS[name]
