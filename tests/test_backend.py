"""Backend choices and their errors."""
import sys

import numpy as np
import pytest

from falib import Backend
from falib.backend import to_numpy


def test_same_seed_same_numbers_on_every_backend():
    rng = lambda: np.random.default_rng(7)
    a = Backend("numpy").uniform(rng(), 0.5, (3, 4))
    b = Backend("torch").uniform(rng(), 0.5, (3, 4))
    assert np.array_equal(a, to_numpy(b))


def test_float32_is_honoured():
    assert str(Backend("torch", dtype="float32").asarray([1.0]).dtype) == "torch.float32"
    assert Backend("numpy", dtype="float32").asarray([1.0]).dtype == np.float32


@pytest.mark.parametrize("kwargs,message", [
    ({"name": "jax"}, "unknown backend 'jax'; choose one of: numpy, torch"),
    ({"device": "tpu"}, "unknown device 'tpu'; choose one of: cpu, cuda"),
    ({"dtype": "float16"}, "unknown dtype 'float16'; choose one of: float32, float64"),
    ({"name": "numpy", "device": "cuda"}, "numpy backend runs on the CPU only"),
])
def test_bad_choices(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Backend(**kwargs)


def test_cuda_without_gpu_is_a_clear_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(RuntimeError, match="PyTorch sees no CUDA GPU"):
        Backend("torch", "cuda")


def test_missing_torch_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"needs PyTorch.*pip install"):
        Backend("torch").asarray([1.0])
