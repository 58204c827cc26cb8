import numpy as np
import pytest

from falib import Backend

torch = pytest.importorskip("torch")

BACKENDS = [Backend("numpy", "cpu", "float64"), Backend("torch", "cpu", "float64")]


@pytest.fixture(params=BACKENDS, ids=lambda b: b.name)
def backend(request):
    return request.param


@pytest.fixture(autouse=True)
def quiet(monkeypatch, tmp_path):
    """No progress bars, and a private results cache for every test."""
    monkeypatch.setenv("FALIB_PROGRESS", "0")
    monkeypatch.setenv("FALIB_CACHE", str(tmp_path / "cache"))


def as_numpy(a):
    return np.asarray(a.cpu()) if hasattr(a, "cpu") else np.asarray(a)
