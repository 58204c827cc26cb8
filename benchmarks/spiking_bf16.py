"""Would bfloat16 speed up the spiking paper runs on this CPU? The bound, measured in one run.

The option considered: bfloat16 products of the binary spikes with float32 master weights. In
the full-size network at the paper profile's M = 20 streams, spikes meet weights only in the
forward drive of the hidden and output layers (``s @ W`` and, for the updates still pending,
``s @ P^T``; the input layer reads only the rows of the pixels that spiked). The feedback
pathway multiplies real-valued ``tanh(d)`` and the deferred update multiplies spikes by real
factors, which bfloat16 would round, so they stay float32.

Each round times one fast step of the network (float32, one thread, falib's own code), the spike
products of one step alone at their shapes, and the same products with bfloat16 operands. It
prints the best of `--repeats` interleaved rounds, the share of a step the spike products take,
their bfloat16 speed-up, and what that gives the whole step (Amdahl's bound: the rest unchanged).

    python benchmarks/spiking_bf16.py --repeats 5
"""
from __future__ import annotations

import argparse
import platform
import time

import torch

from falib import Backend
from falib.spiking import SpikingNetwork, present
from spiking_steps import SIZES, inputs

M, K = 20, 8   # the paper profile's streams and flush interval


def spike_products(dtype, pending: int):
    """Operands of one step's spike products (hidden and output layers): (s, W, P) per layer."""
    on = lambda *shape: (torch.rand(*shape) < 0.5).to(dtype)
    return [(on(1, M, n), torch.rand(1, n, m).to(dtype), on(1, pending, n)) for n, m in zip(SIZES[1:-1], SIZES[2:])]


def time_products(operands, steps: int) -> float:
    """Seconds per step of ``s @ W`` and ``s @ P^T`` over every layer."""
    start = time.perf_counter()
    for _ in range(steps):
        for s, W, P in operands:
            s @ W
            s @ P.mT
    return (time.perf_counter() - start) / steps


def time_step(steps: int) -> float:
    """Seconds per step of the full fast path (forward, feedback, deferred plasticity)."""
    backend = Backend("torch", dtype="float32")
    X, T = inputs(steps // 5 + 2, M, backend)
    net = SpikingNetwork(SIZES, backend=backend, streams=M, flush_every=K)
    present(net, X[:2], T[:2])
    start = time.perf_counter()
    present(net, X[2:], T[2:])
    net.flush()
    return (time.perf_counter() - start) / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)
    pending = K * M // 2   # rows of pending updates, on average over a flush interval
    fp32, bf16 = spike_products(torch.float32, pending), spike_products(torch.bfloat16, pending)
    best = {"step": [], "fp32": [], "bf16": []}
    for _ in range(args.repeats):
        best["step"].append(time_step(args.steps))
        best["fp32"].append(time_products(fp32, args.steps))
        best["bf16"].append(time_products(bf16, args.steps))
    step, f, b = (min(v) for v in best.values())
    share, speedup = f / step, f / b
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, one thread; "
          f"best of {args.repeats} rounds of {args.steps} steps, M = {M}")
    print(f"fast step, float32:           {1e3 * step:7.2f} ms")
    print(f"its spike products, float32:  {1e3 * f:7.2f} ms  ({100 * share:.0f}% of the step)")
    print(f"the same products, bfloat16:  {1e3 * b:7.2f} ms  ({speedup:.1f}x)")
    print(f"bound on the step's speed-up: {1 / (1 - share + share / speedup):.2f}x")


if __name__ == "__main__":
    main()
