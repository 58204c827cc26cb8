"""Multilayer perceptrons with a leading replica axis.

Layer l maps activity ``h[l]`` (shape ``(R, n_l, batch)``) to ``h[l+1] = f_l(a[l])`` with
``a[l] = W[l] @ h[l] + b[l]``; ``W[l]`` has shape ``(R, n_{l+1}, n_l)``. The paper's symbols
map as ``W0 = W[0]`` and, in a three-layer network, ``W = W[1]``. Each of the ``R`` replicas is an
independent run with its own initial weights; inputs may be shared (leading axis 1) or not.
The network carries its replica context: the `seed` and the run indices (`replicas`) its random
draws came from, and its backend (read off its arrays), so that a rule bound to it draws one
feedback matrix per run on the right backend.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from array_api_compat import array_namespace

from .backend import Backend, add_product, backend_of, logistic, replica_rng, times_slope


@dataclass(frozen=True)
class Activation:
    """A unit type: its function ``f(a)``, and how an error signal crosses it (``backward``)."""

    name: str

    def f(self, a):
        if self.name == "tanh":
            return array_namespace(a).tanh(a)
        if self.name == "logistic":
            return logistic(a)
        return a

    def backward(self, signal, h):
        """``signal * f'(a)``, from the layer's output ``h = f(a)``."""
        return signal if self.name == "linear" else times_slope(self.name, signal, h)


UNITS = ("linear", "tanh", "logistic")


def activation(name: str) -> Activation:
    if name not in UNITS:
        raise ValueError(f"unknown unit type {name!r}; choose one of: {', '.join(UNITS)}")
    return Activation(name)


@dataclass
class Pass:
    """One forward pass: pre-activations ``a[l]`` and activities ``h[l]`` (``h[0]`` is the input)."""

    a: list
    h: list

    @property
    def y(self):
        return self.h[-1]


@dataclass
class Network:
    """Weights ``W[l]``, biases ``b[l]`` (or None), unit types ``f[l]`` and connectivity masks.

    Layers whose index is in `frozen` keep their weights and biases (Supplementary Fig. 6, Fig. 5c).
    `seed` and `replicas` (default: runs 0 to R-1) say which random streams the runs drew from.
    """

    W: list
    b: list | None
    f: list[Activation]
    mask: list | None = field(default=None)
    frozen: set[int] = field(default_factory=set)
    seed: int = 0
    replicas: tuple[int, ...] | None = None

    def __post_init__(self):
        self.replicas = tuple(range(self.runs)) if self.replicas is None else tuple(int(r) for r in self.replicas)
        if len(self.replicas) != self.runs:
            raise ValueError(f"replicas {list(self.replicas)} name {len(self.replicas)} runs, but the weights "
                             f"hold {self.runs}: give one run index per replica")

    @classmethod
    def init(cls, sizes: Sequence[int], units: str | Sequence[str], scale: float | Sequence[float],
             *, bias: bool = True, bias_scale: float = 0.0, seed: int = 0, runs: Sequence[int] = (0,),
             backend: Backend = Backend(), density: float = 1.0) -> "Network":
        """Weights uniform in [-scale, scale], biases in [-bias_scale, bias_scale]: one draw per run in `runs`.

        `units` is one unit type for every layer or one per layer (the last is the output's);
        with ``density < 1`` each run keeps a random fraction `density` of the connections of
        its last layer (the paper's sparse W), the rest stay zero for ever.
        """
        L = len(sizes) - 1
        if not 0 < density <= 1:
            raise ValueError(f"density must be in (0, 1] (the fraction of connections kept), got {density}")
        if L < 1 or any(int(n) < 1 for n in sizes):
            raise ValueError(f"sizes must list at least two positive layer sizes, got {list(sizes)}")
        units = [units] * L if isinstance(units, str) else list(units)
        scale = [scale] * L if isinstance(scale, (int, float)) else list(scale)
        if len(units) != L or len(scale) != L:
            raise ValueError(f"expected {L} unit types and {L} weight scales for sizes {list(sizes)}")
        rngs = [replica_rng(seed, r, "weights") for r in runs]
        shapes = [(sizes[l + 1], sizes[l]) for l in range(L)]
        W = [backend.asarray([g.uniform(-s, s, size=shape) for g in rngs])
             for shape, s in zip(shapes, scale)]
        b = [backend.asarray([g.uniform(-bias_scale, bias_scale, size=(n, 1)) for g in rngs]) if bias_scale
             else backend.xp.zeros((len(rngs), n, 1), dtype=W[0].dtype) for n in sizes[1:]] if bias else None
        net = cls(W, b, [activation(u) for u in units], seed=seed, replicas=tuple(runs))
        if density < 1:
            keep = backend.asarray([g.random(size=shapes[-1]) < density for g in rngs])
            net.mask = [None] * (L - 1) + [keep]
            net.W[-1] = net.W[-1] * keep
        return net

    @property
    def sizes(self) -> list[int]:
        return [self.W[0].shape[-1]] + [W.shape[-2] for W in self.W]

    @property
    def runs(self) -> int:
        """The number of runs R (the replica axis)."""
        return self.W[0].shape[0]

    @property
    def backend(self) -> Backend:
        """The backend the weights live on."""
        return backend_of(self.W[0])

    def check_input(self, x, name: str = "input x"):
        shape = tuple(x.shape)
        if len(shape) != 3 or shape[0] not in (1, self.runs) or shape[1] != self.sizes[0]:
            raise ValueError(
                f"{name} has shape {shape}; expected (runs, {self.sizes[0]}, batch) with runs "
                f"1 or {self.runs}: one column per example, inputs of size {self.sizes[0]}")

    def forward(self, x, noise: Sequence[Any] | None = None) -> Pass:
        """Run the network on ``x``; `noise[l]`, if given, is added to ``a[l]`` (perturbation)."""
        self.check_input(x)
        a, h = [], [x]
        for l, (W, f) in enumerate(zip(self.W, self.f)):
            a_l = W @ h[-1]   # a fresh array: the additions below may work in place
            if self.b is not None:
                a_l += self.b[l]
            if noise is not None:
                a_l += noise[l]
            a.append(a_l)
            h.append(f.f(a_l))
        return Pass(a, h)

    def update(self, l: int, delta, h, eta: float, decay: float = 0.0):
        """``W[l] += eta (delta h^T / batch - decay W[l])`` and the same for ``b[l]``, in place.

        The product is added to ``W[l]`` without a temporary where the backend allows
        (:func:`~falib.backend.add_product`); weights outside the mask are zeroed again. Layers
        in ``frozen`` do not change.
        """
        if l in self.frozen:
            return
        xp = array_namespace(delta)
        rate = eta / delta.shape[-1]
        add_product(self.W[l], delta, h.mT, beta=1 - eta * decay, alpha=rate)
        if self.mask is not None and self.mask[l] is not None:
            self.W[l] *= self.mask[l]
        if self.b is not None:
            if decay:
                self.b[l] *= 1 - eta * decay
            self.b[l] += rate * xp.sum(delta, axis=-1, keepdims=True)
