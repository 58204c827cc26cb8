"""Backends: which array library, device and float type the algorithms run on.

Every algorithm in falib is written once against the Python array API standard; this module
is the only place that knows about NumPy or PyTorch. All random numbers are drawn by NumPy's
``Generator`` on the host and then moved to the backend, so that the same seed gives the same
initial weights, feedback matrices and data on every backend and device. Every random stream
has a name in :data:`STREAMS` (one per run) or :data:`SHARED_STREAMS` (the same for all runs).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from array_api_compat import array_namespace, is_numpy_array, is_torch_array, to_device

BACKENDS = ("numpy", "torch")
DEVICES = ("cpu", "cuda")
DTYPES = ("float32", "float64")


def _choose(kind: str, value: str, valid: tuple[str, ...]) -> str:
    if value not in valid:
        raise ValueError(f"unknown {kind} {value!r}; choose one of: {', '.join(valid)}")
    return value


def _torch():
    try:
        import torch
    except ImportError as err:
        raise ImportError(
            "the torch backend needs PyTorch, which is not installed: "
            "pip install 'falib[torch]' (or pip install torch)"
        ) from err
    return torch


@dataclass(frozen=True)
class Backend:
    """An array library, a device and a float type: ``Backend("torch", "cuda", "float32")``."""

    name: str = "numpy"
    device: str = "cpu"
    dtype: str = "float64"

    def __post_init__(self):
        _choose("backend", self.name, BACKENDS)
        _choose("device", self.device, DEVICES)
        _choose("dtype", self.dtype, DTYPES)
        if self.name == "numpy" and self.device != "cpu":
            raise ValueError("the numpy backend runs on the CPU only; use backend 'torch' for CUDA")
        if self.name == "torch" and self.device == "cuda" and not _torch().cuda.is_available():
            raise RuntimeError(
                "device 'cuda' was asked for, but PyTorch sees no CUDA GPU on this machine; "
                "use device 'cpu' (or install a CUDA build of torch on a machine with a GPU)"
            )

    @property
    def xp(self) -> Any:
        """The array-API namespace of this backend."""
        return array_namespace(self.asarray(np.zeros(1)))

    def asarray(self, a) -> Any:
        """Move a host array (or scalar) onto this backend, as its float type."""
        if self.name == "numpy":
            return np.asarray(a, dtype=self.dtype)
        return _torch().from_numpy(np.array(a, dtype=self.dtype)).to(self.device)

    def uniform(self, rng: np.random.Generator, scale: float, shape) -> Any:
        """Entries drawn uniformly from [-scale, scale]."""
        return self.asarray(rng.uniform(-scale, scale, size=shape))

    def normal(self, rng: np.random.Generator, shape) -> Any:
        """Entries drawn from the standard normal distribution."""
        return self.asarray(rng.standard_normal(size=shape))


def backend_of(a) -> Backend:
    """The backend an array lives on (array-api-compat's predicates tell the libraries apart)."""
    if is_numpy_array(a):
        return Backend("numpy", "cpu", str(a.dtype))
    if is_torch_array(a):
        return Backend("torch", a.device.type, str(a.dtype).removeprefix("torch."))
    raise TypeError(f"expected a NumPy array or a torch tensor, got {type(a).__name__}")


def to_numpy(a) -> np.ndarray:
    """Copy an array of any backend to a NumPy array on the host."""
    if is_numpy_array(a):
        return a
    return np.from_dlpack(to_device(a, "cpu"))


def add_product(C, A, B, beta: float = 1.0, alpha: float = 1.0):
    """``C = beta C + alpha A @ B`` in place, ``A`` and ``B`` broadcast over the leading axis of ``C``.

    PyTorch does it in one fused call (``baddbmm_``) with no temporary of the size of ``C``; NumPy
    scales the (smaller) ``A``.
    """
    if is_numpy_array(C):
        if beta != 1:
            C *= beta
        C += (alpha * A if alpha != 1 else A) @ B
        return C
    runs = C.shape[0]
    return C.baddbmm_(A.expand(runs, *A.shape[1:]), B.expand(runs, *B.shape[1:]), beta=beta, alpha=alpha)


def logistic(a):
    """``1 / (1 + exp(-a))``: one fused kernel on PyTorch."""
    if is_numpy_array(a):
        e = np.exp(-a)
        e += 1.0
        return 1.0 / e
    return a.sigmoid()


def times_slope(unit: str, signal, h):
    """``signal * f'(a)`` for a ``tanh`` or ``logistic`` unit, from its output ``h = f(a)``.

    This is how an error signal crosses a layer's nonlinearity; PyTorch fuses it into one kernel
    (the ones its autograd uses).
    """
    if is_numpy_array(h):
        return signal * (1.0 - h * h if unit == "tanh" else h * (1.0 - h))
    import torch

    backward = torch.ops.aten.tanh_backward if unit == "tanh" else torch.ops.aten.sigmoid_backward
    return backward(signal, h)


STREAMS = {"weights": 0, "feedback": 1, "noise": 2, "spikes": 3, "test_spikes": 4, "probe_spikes": 5,
           "probe": 6}
"""Random streams of one run: initial weights, feedback matrices (B), node perturbation's noise,
the spiking network's spikes (training, test, probes), and the noise drawn to measure a rule."""
SHARED_STREAMS = {"task": 0, "order": 0, "train": 1, "test": 2, "valid": 3}
"""Random streams shared by all runs: an experiment's task (its target; for the spiking network, the
order of the images), its training, test and validation inputs. This and :data:`STREAMS` are the
one registry of stream names: code names a stream by its key here, and an unknown name is refused."""


def _stream(stream: str | int, registry: dict) -> int:
    if isinstance(stream, int):
        return stream
    if stream not in registry:
        raise ValueError(f"unknown random stream {stream!r}; choose one of: {', '.join(registry)}")
    return registry[stream]


def replica_rng(seed: int, replica: int, stream: str | int) -> np.random.Generator:
    """The random stream `stream` (a name in :data:`STREAMS`) of run `replica`: independent of how
    many runs are batched."""
    return np.random.default_rng((seed, replica, _stream(stream, STREAMS)))


def shared_rng(seed: int, stream: str | int) -> np.random.Generator:
    """A random stream shared by all runs (a name in :data:`SHARED_STREAMS`: the task and the data)."""
    return np.random.default_rng((seed, 2**31, _stream(stream, SHARED_STREAMS)))


def spike_matmul(s, W):
    """``s @ W`` for binary rows ``s`` (R, M, n) and weights ``W`` (R, n, m).

    Only the rows of W whose presynaptic unit spiked contribute; on torch this reads just those
    rows (an embedding-bag sum per row of s) instead of all of W, which is what makes sparsely
    spiking layers cheap.
    """
    if is_numpy_array(s):
        return s @ W
    import torch

    (R, n, m), M = W.shape, s.shape[-2]
    r, i = torch.nonzero(s.reshape(R * M, n) != 0, as_tuple=True)
    offsets = torch.searchsorted(r, torch.arange(R * M, device=r.device))
    out = torch.nn.functional.embedding_bag(r // M * n + i, W.reshape(R * n, m), offsets, mode="sum")
    return out.reshape(R, M, m)
