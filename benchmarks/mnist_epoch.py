"""One MNIST epoch (784-1000-10, batch 128, float32, one thread): falib vs plain PyTorch autograd.

Times one epoch of falib's feedback alignment and backprop (one network, runs=1) and of the same
network trained by plain PyTorch (nn.Linear + sigmoid + MSE, SGD), all on the same data in the
same process, plus the same matmuls alone and a large float32 matmul as the machine's peak.
Prints the best of `--repeats` interleaved rounds (load on a shared machine only ever slows a
round down; the peak is the fastest large matmul seen in any round), the achieved GFLOP/s
(2 m n k per matmul: forward, backward, weight updates) and ratios.

    FALIB_MNIST=/path/to/mnist python benchmarks/mnist_epoch.py
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from falib import Backend, Network, make_rule, train
from falib.data import columns, load_mnist, minibatches

SIZES = (784, 1000, 10)
BATCH, ETA, DECAY, SCALE, BETA = 128, 0.3, 1e-6, 0.3, 2.0


def epoch_flop(n: int) -> float:
    """Matmul FLOPs of one epoch: forward, the hidden delta, and both weight updates."""
    (n0, n1, n2), steps = SIZES, n // BATCH
    forward = n1 * n0 + n2 * n1
    return 2.0 * BATCH * steps * (forward + n1 * n2 + forward)


def sync(device: str) -> None:
    """Wait for the device to finish its queued work (a GPU runs asynchronously)."""
    if device == "cuda":
        torch.cuda.synchronize()


def falib_epoch(rule_name: str, x, y, device: str = "cpu") -> float:
    backend = Backend("torch", device, "float32")
    X, Y = columns(x, backend), columns(y, backend)
    net = Network.init(SIZES, "logistic", SCALE, backend=backend)
    rule = make_rule(rule_name, **({"scale": BETA} if rule_name == "feedback_alignment" else {}))
    rule.bind(net, backend=backend)
    steps = len(x) // BATCH
    start = time.perf_counter()
    train(net, rule, minibatches(X, Y, BATCH), steps=steps, eta=ETA, decay=DECAY, record_every=steps)
    sync(device)
    return time.perf_counter() - start


def torch_epoch(x, y, device: str = "cpu") -> float:
    model = torch.nn.Sequential(torch.nn.Linear(784, 1000), torch.nn.Sigmoid(),
                                torch.nn.Linear(1000, 10), torch.nn.Sigmoid()).to(device)
    # the same loss as falib's: half the squared error summed over outputs, mean over the batch
    opt = torch.optim.SGD(model.parameters(), lr=ETA, weight_decay=DECAY)
    X, Y = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
    sync(device)
    start = time.perf_counter()
    for i in range(0, len(x) - BATCH + 1, BATCH):
        opt.zero_grad()
        loss = 0.5 * ((model(X[i:i + BATCH]) - Y[i:i + BATCH]) ** 2).sum(dim=1).mean()
        loss.backward()
        opt.step()
    sync(device)
    return time.perf_counter() - start


def matmuls_alone(n: int) -> float:
    """The epoch's matmuls at their shapes, nothing else: the floor for any implementation."""
    (n0, n1, n2), steps = SIZES, n // BATCH
    W0, W, B = torch.rand(n1, n0), torch.rand(n2, n1), torch.rand(n1, n2)
    x, e = torch.rand(n0, BATCH), torch.rand(n2, BATCH)
    h, d = torch.rand(n1, BATCH), torch.rand(n1, BATCH)
    start = time.perf_counter()
    for _ in range(steps):
        W0 @ x, W @ h, B @ e, e @ h.T, d @ x.T
    return time.perf_counter() - start


def matmul_peak(n: int = 2048, repeats: int = 10) -> float:
    """GFLOP/s of the fastest of `repeats` n x n x n float32 matmuls."""
    a, b = torch.rand(n, n), torch.rand(n, n)
    a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * n**3 / min(times) / 1e9


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    torch.set_num_threads(1)
    d = load_mnist()
    x, y = np.array(d.x_train), np.eye(10, dtype=np.float32)[d.y_train]   # writable copies
    flop = epoch_flop(len(x))
    runs = {"falib feedback alignment": lambda: falib_epoch("feedback_alignment", x, y),
            "falib backprop": lambda: falib_epoch("backprop", x, y),
            "PyTorch autograd backprop": lambda: torch_epoch(x, y),
            "matmuls alone": lambda: matmuls_alone(len(x))}
    times, peaks = {name: [] for name in runs}, []
    for _ in range(args.repeats):   # interleaved, so that changing load hits every variant alike
        peaks.append(matmul_peak())
        for name, run in runs.items():
            times[name].append(run())
    peak = max(peaks)
    base = min(times["PyTorch autograd backprop"])
    print(f"torch {torch.__version__}, 1 thread; float32 matmul peak {peak:.1f} GFLOP/s; "
          f"{flop / 1e9:.1f} GFLOP per epoch; best of {args.repeats}")
    for name, ts in times.items():
        t = min(ts)
        speed = flop / t / 1e9
        print(f"{name:28s} {t:6.2f} s  {speed:5.1f} GFLOP/s ({100 * speed / peak:3.0f}% of peak)  "
              f"{t / base:.2f}x PyTorch autograd")


if __name__ == "__main__":
    main()
