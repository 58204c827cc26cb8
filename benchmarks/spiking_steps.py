"""Stream-steps per second of the full-size spiking network (Fig. 4), float32, one CPU thread.

One step advances every one of M image streams by one time step (forward spikes, feedback,
plasticity); a stream-step is one stream advanced by one step, so M streams at s steps/s make
M s stream-steps/s. In the same run, interleaved round by round, it times:

- **plain dense, M = 16**: PyTorch written plainly for M streams: dense products and the summed
  update applied to every weight at every step (``baddbmm_``), the strongest simple baseline;
- **falib fast, M = 1**: the paper's protocol, deferred updates and spike-sparse reads;
- **falib fast, M = 16, 32 and 64**: the same code with M streams;
- **matmul peak**: ten 2048 x 2048 x 2048 float32 products, the machine's peak arithmetic rate.

The GFLOP/s column counts the dense arithmetic a stream-step needs whatever the implementation
(forward products, feedback products, weight updates: 2 x 20.4 million multiply-adds), so it is
a speed in a common unit, not the work each path really does. Before timing, it checks in
float64 that the naive and fast paths give the same weights after the same steps and seeds, for
M = 1 and M = 16.

    python benchmarks/spiking_steps.py [--steps 100] [--repeats 3] [--device cpu|cuda]
"""
import argparse
import time

import numpy as np
import torch

from falib import Backend
from falib.spiking import SpikingNetwork, present

SIZES = [784, 1500, 1500, 1500, 1000]
FLOP = 2 * (2 * sum(a * b for a, b in zip(SIZES, SIZES[1:])) + sum(a * b for a, b in zip(SIZES[1:-1], SIZES[2:])))


class Dense(SpikingNetwork):
    """Plain PyTorch: dense products, and every weight updated at every step (``baddbmm_``)."""

    def drive(self, l, s):
        return s @ self.WT[l]

    def learn(self, s):
        c = 1.0 - self.eta * self.gamma
        for l in range(len(self.WT)):
            g = self.modulated(l)
            self.b[l] = c * self.b[l] + self.eta * g.sum(dim=1, keepdim=True)
            self.WT[l].baddbmm_(s[l].mT, g, beta=c, alpha=self.eta)


def inputs(slots, M, backend):
    """MNIST-like input (about a fifth of the pixels on) and one-hot targets, (slots, M, n)."""
    rng = np.random.default_rng(0)
    X = rng.random((slots, M, SIZES[0])) * (rng.random((slots, M, SIZES[0])) < 0.2)
    T = np.eye(10)[rng.integers(0, 10, (slots, M))].repeat(SIZES[-1] // 10, axis=-1)
    return backend.asarray(X), backend.asarray(T)


def check_exact(M, steps=50):
    backend = Backend("torch", dtype="float64")
    X, T = inputs(steps // 5, M, backend)
    nets = [SpikingNetwork(SIZES, gamma=1e-3, backend=backend, path=p, streams=M, flush_every=8)
            for p in ("naive", "fast")]
    for net in nets:
        present(net, X, T)
        net.flush()
    return max(float((a - b).abs().max()) for a, b in zip(nets[0].WT, nets[1].WT))


def rate(make, M, steps, backend):
    """Stream-steps per second of one timed stretch of `steps` steps (after a warm-up)."""
    X, T = inputs(steps // 5 + 2, M, backend)
    net = make(backend, M)
    present(net, X[:2], T[:2])
    sync = torch.cuda.synchronize if backend.device == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    present(net, X[2:], T[2:])
    net.flush()
    sync()
    return M * steps / (time.perf_counter() - start)


def peak(device):
    a = torch.randn(2048, 2048, device=device)
    a @ a
    start = time.perf_counter()
    for _ in range(10):
        a @ a
    if device == "cuda":
        torch.cuda.synchronize()
    return 10 * 2 * 2048 ** 3 / (time.perf_counter() - start)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--device", default="cpu")
    args = p.parse_args()
    torch.set_num_threads(1)
    for M in (1, 16):
        print(f"naive vs fast, float64, M = {M}, 50 steps: max |W_naive - W_fast| = {check_exact(M):.2e}")
    backend = Backend("torch", args.device, "float32")
    fast = lambda b, m: SpikingNetwork(SIZES, backend=b, streams=m, flush_every=32 if m == 1 else max(1, 128 // m))
    variants = {"plain dense, M = 16": (lambda b, m: Dense(SIZES, backend=b, streams=m), 16),
                **{f"falib fast, M = {M}": (fast, M) for M in (1, 16, 32, 64)}}
    best, top = {name: 0.0 for name in variants}, 0.0
    for _ in range(args.repeats):      # interleaved rounds; the best round of each
        for name, (make, M) in variants.items():
            best[name] = max(best[name], rate(make, M, args.steps, backend))
        top = max(top, peak(args.device))
    one = best["falib fast, M = 1"]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread, {args.device}; matmul peak "
          f"{top / 1e9:.1f} GFLOP/s; {FLOP / 1e6:.1f} MFLOP per stream-step; best of {args.repeats} rounds")
    for name, r in best.items():
        print(f"{name:22s} {r:8.0f} stream-steps/s  {r / one:5.2f}x M = 1  {r * FLOP / 1e9:6.1f} GFLOP/s "
              f"({100 * r * FLOP / top:3.0f}% of peak)")


if __name__ == "__main__":
    main()
