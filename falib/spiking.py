"""Fig. 4: leaky, stochastically spiking units whose forward and feedback pathways run together.

Row-vector convention: every state is ``(R, M, n)``, R independent networks (runs) each driven by
M parallel image streams, and ``WT[l]`` (``(R, n_l, n_{l+1})``) is the transpose of the paper's
forward matrix, so that the outgoing synapses of one presynaptic unit are one contiguous row.
With ``f = tau`` (the paper's integration constant, 0.9) each step is, for every stream,

    s[0] ~ Bernoulli(min(x, 0.95))                                    input spikes
    v[l] <- v[l] + f (s[l-1] @ WT[l] + b[l] - v[l]),  s[l] ~ Bernoulli(sigma(v[l]))
    d[L] <- d[L] + f (y* - sigma(v[L]) - d[L])                        error units
    d[l] <- d[l] + f (tanh(d[l+1]) @ BT[l] - d[l])                    feedback units
    WT[l] <- WT[l] + eta (sum_streams s[l-1]^T g[l] - gamma WT[l]),  g[l] = tanh(d[l]) * sigma'(v[l])

(the last line also for ``b[l]`` with ``s`` replaced by 1): presynaptic spike x postsynaptic
``sigma'`` x modulatory signal, at every step. The streams share the weights and their updates
are summed with the paper's eta, so every image contributes exactly the paper's update; M = 1 is
the paper's protocol. ``BT[l]`` is the transpose of the paper's ``B``.

Two exact ways to apply the plasticity: ``naive`` updates every weight at every step; ``fast``
(the default) keeps the last ``k`` steps' updates pending (``k M`` rank-1 terms), adds them inside
the forward pass, and folds them into ``WT`` as one matrix product every ``k`` steps.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from array_api_compat import array_namespace

from .backend import Backend, add_product, logistic, replica_rng, spike_matmul, times_slope, to_numpy

WEIGHTS_STREAM, FEEDBACK_STREAM, SPIKE_STREAM = "weights", "feedback", "spikes"   # backend.STREAMS


@dataclass
class Pending:
    """Updates not yet folded into a layer: ``W = scale (W0 + P^T G)`` (rows used: k M)."""

    P: object      # (R, K M, n_in) presynaptic spikes
    G: object      # (R, K M, n_out) eta * c^-j * g: postsynaptic factors, decay folded in
    k: int = 0
    scale: float = 1.0


class SpikingNetwork:
    """R independent spiking networks of sizes ``sizes`` (input, hidden..., output), M streams each."""

    def __init__(self, sizes, *, eta=1e-3, gamma=1e-8, tau=0.9, forward_scale=0.05,
                 feedback_scale=0.1, seed=0, runs=(0,), backend=Backend(), path="fast", flush_every=32,
                 streams=1):
        if path not in ("fast", "naive"):
            raise ValueError(f"unknown update path {path!r}; choose one of: fast, naive")
        if len(sizes) < 3 or sizes[-1] % 10:
            raise ValueError(f"sizes must list input, at least one hidden layer and output (a multiple of "
                             f"10: one group of units per digit), got {list(sizes)}")
        if streams < 1 or flush_every < 1:
            raise ValueError(f"streams and flush_every must be at least 1, got {streams} and {flush_every}")
        self.sizes, self.eta, self.gamma, self.tau = list(sizes), eta, gamma, tau
        self.path, self.K, self.backend, self.R, self.M = path, flush_every, backend, len(runs), streams
        w_rngs = [replica_rng(seed, r, WEIGHTS_STREAM) for r in runs]
        b_rngs = [replica_rng(seed, r, FEEDBACK_STREAM) for r in runs]
        self.rngs = [replica_rng(seed, r, SPIKE_STREAM) for r in runs]
        pairs = list(zip(sizes, sizes[1:]))
        self.WT = [backend.asarray([g.uniform(-forward_scale, forward_scale, (n, m)) for g in w_rngs])
                   for n, m in pairs]
        self.BT = [backend.asarray([g.uniform(-feedback_scale, feedback_scale, (m, n)) for g in b_rngs])
                   for n, m in pairs[1:]]
        xp = self.xp = backend.xp
        zeros = lambda rows, n: xp.zeros((self.R, rows, n), dtype=self.WT[0].dtype)
        self.b = [zeros(1, m) for _, m in pairs]
        self.v = [zeros(streams, m) for _, m in pairs]
        self.d = [zeros(streams, m) for _, m in pairs]
        self.p = [zeros(streams, m) + 0.5 for _, m in pairs]   # firing probabilities sigma(v)
        self.pending = [Pending(zeros(self.K * streams, n), zeros(self.K * streams, m)) for n, m in pairs]

    # --- one time step -------------------------------------------------------------------
    def uniforms(self):
        """One uniform number per unit per stream per run for this step (input and every layer)."""
        u = self.backend.asarray([g.random((self.M, sum(self.sizes))) for g in self.rngs])
        edges = np.cumsum([0] + self.sizes)
        return [u[..., a:b] for a, b in zip(edges, edges[1:])]

    def rescale(self, a, scale: float):
        """``scale * a``, skipped when `scale` rounds to exactly 1 in a's float type (a no-op then)."""
        return a if np.asarray(scale, dtype=self.backend.dtype) == 1 else scale * a

    def drive(self, l, s):
        """The input ``s @ WT[l]`` to layer l, pending updates included.

        Each stream reads only the weight rows of inputs that spiked when spikes are sparse: always
        for one stream, and for the input layer (MNIST pixels spike about an eighth of the time);
        the hidden layers of M streams together spike on nearly every unit, and a dense product
        is faster there.
        """
        p, rows = self.pending[l], self.pending[l].k * self.M
        out = spike_matmul(s, self.WT[l]) if self.M == 1 or l == 0 else s @ self.WT[l]
        if rows:
            out = out + (s @ p.P[:, :rows].mT) @ p.G[:, :rows]
        return self.rescale(out, p.scale)

    def step(self, x, target=None, learn=True):
        """Advance one step on input probabilities ``x`` (1 or R, M, n_in).

        With a `target` the feedback pathway runs, and the weights learn unless `learn` is False.
        """
        xp, f, u = self.xp, self.tau, self.uniforms()
        s = [xp.astype(u[0] < xp.clip(x, 0.0, 0.95), x.dtype)]
        for l in range(len(self.WT)):
            self.v[l] = self.v[l] + f * (self.drive(l, s[-1]) + self.b[l] - self.v[l])
            self.p[l] = logistic(self.v[l])
            s.append(xp.astype(u[l + 1] < self.p[l], x.dtype))
        if target is not None:
            self.feedback(target)
            if learn:
                self.learn(s)
        return s

    def feedback(self, target):
        f = self.tau
        self.d[-1] = self.d[-1] + f * (target - self.p[-1] - self.d[-1])
        for l in reversed(range(len(self.BT))):
            self.d[l] = self.d[l] + f * (self.xp.tanh(self.d[l + 1]) @ self.BT[l] - self.d[l])

    def modulated(self, l):
        """``g[l] = tanh(d[l]) * sigma'(v[l])``: modulatory signal times the postsynaptic factor."""
        return times_slope("logistic", self.xp.tanh(self.d[l]), self.p[l])

    def learn(self, s):
        c = 1.0 - self.eta * self.gamma
        for l in range(len(self.WT)):
            g = self.modulated(l)
            self.b[l] = c * self.b[l] + self.eta * self.xp.sum(g, axis=1, keepdims=True)
            if self.path == "naive":
                self.WT[l] = c * self.WT[l] + self.eta * (s[l].mT @ g)
            else:
                self.defer(l, s[l], g, c)

    def defer(self, l, s, g, c):
        p, M = self.pending[l], self.M
        p.scale *= c
        p.P[:, p.k * M:(p.k + 1) * M, :] = s
        p.G[:, p.k * M:(p.k + 1) * M, :] = (self.eta / p.scale) * g
        p.k += 1
        if p.k == self.K:
            self.flush(l)

    def flush(self, l=None):
        """Fold pending updates into the weights (every layer if `l` is None)."""
        for l in range(len(self.WT)) if l is None else [l]:
            p, rows = self.pending[l], self.pending[l].k * self.M
            if rows:
                self.WT[l] = add_product(self.WT[l], p.P[:, :rows].mT, p.G[:, :rows])
            self.WT[l] = self.rescale(self.WT[l], p.scale)
            p.k, p.scale = 0, 1.0

    # --- state ---------------------------------------------------------------------------
    def state(self):
        """The dynamic state of every stream (potentials, feedback, firing probabilities)."""
        return [list(self.v), list(self.d), list(self.p)]

    def restore(self, state):
        self.v, self.d, self.p = [list(a) for a in state]

    def arrays(self) -> dict:
        """Everything that evolves, as host arrays (pending updates folded in first), for a checkpoint."""
        self.flush()
        names = {"WT": self.WT, "b": self.b, "v": self.v, "d": self.d, "p": self.p}
        out = {f"{k}{l}": to_numpy(a) for k, layers in names.items() for l, a in enumerate(layers)}
        out["rngs"] = np.asarray(json.dumps([g.bit_generator.state for g in self.rngs]))
        return out

    def load(self, arrays: dict):
        """Continue from :meth:`arrays`: the same weights, streams and random numbers."""
        for k in ("WT", "b", "v", "d", "p"):
            setattr(self, k, [self.backend.asarray(arrays[f"{k}{l}"]) for l in range(len(self.WT))])
        for g, state in zip(self.rngs, json.loads(str(arrays["rngs"]))):
            g.bit_generator.state = state


def class_targets(labels, n_out, backend):
    """Target rows ``(n, 1, n_out)``: 1 for the ``n_out/10`` units of the labelled class, else 0."""
    per = n_out // 10
    y = np.zeros((len(labels), 1, n_out))
    for c in range(10):
        y[np.asarray(labels) == c, 0, c * per:(c + 1) * per] = 1.0
    return backend.asarray(y)


def classify(counts):
    """The class whose group of output units spiked most: ``counts`` (..., n_out) -> (...)."""
    xp = array_namespace(counts)
    groups = xp.reshape(counts, tuple(counts.shape[:-1]) + (10, counts.shape[-1] // 10))
    return xp.argmax(xp.sum(groups, axis=-1), axis=-1)


def present(net, images, targets=None, steps=5, record=None, learn=True):
    """Show each slot of images (``images``: (n, M, n_in), one image per stream) for `steps` steps.

    No reset between images. Runs the feedback pathway when `targets` is given (n, M, n_out), and
    learns then unless `learn` is False. Returns the output spike counts per slot,
    (n, R, M, n_out). ``record(net, s)``, if given, is called after every step.
    """
    xp = net.xp
    counts = []
    for i in range(images.shape[0]):
        total = 0
        for _ in range(steps):
            s = net.step(images[i], None if targets is None else targets[i], learn)
            total = total + s[-1]
            if record is not None:
                record(net, s)
        counts.append(total)
    return xp.stack(counts)
