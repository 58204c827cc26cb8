import os

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


RUN_CACHE = os.environ.get("FALIB_CACHE")   # the test run's own cache (tasks.py test), shared with the notebooks


@pytest.fixture
def run_cache(monkeypatch, tmp_path_factory):
    """The run's shared results cache instead of a private one: a test that only reads an
    experiment's quick results then reuses the chapter's (a lock makes a concurrent twin wait)."""
    monkeypatch.setenv("FALIB_CACHE", RUN_CACHE or str(tmp_path_factory.getbasetemp() / "run-cache"))


def as_numpy(a):
    return np.asarray(a.cpu()) if hasattr(a, "cpu") else np.asarray(a)


def assert_paper_start(module, run: int, rtol: float, skip=(), **short) -> list[str]:
    """Re-running the first steps of run `run` of `module`'s paper profile (config overridden by
    `short`) reproduces the first 5 records of every stored curve (but those starting with `skip`)."""
    from falib import reproduce

    config = module.EXPERIMENT.config("paper")
    stored = reproduce(module.EXPERIMENT.name, "paper")   # raises if there are no current ones
    fresh = module.compute(dict(config, **short), Backend(dtype=config["dtype"]), [run])
    exact = module.compute(dict(config, **short), Backend(dtype="float64"), [run]) \
        if config["dtype"] == "float32" else fresh
    curves = [k for k, v in fresh.items() if v.ndim > 1 and v.shape[-1] >= 5 and not k.startswith(skip)]
    for k in curves:
        got, want = fresh[k][0, ..., :5], stored[k][run, ..., :5]
        # float32 sums are ordered differently by different processors' matrix kernels (AVX2,
        # AVX-512, AMX), and training amplifies the difference: allow twice the rounding effect
        # that today's float32 run shows against float64, never less than rtol
        rounding = 2 * np.abs(got - np.asarray(exact[k][0, ..., :5], dtype=got.dtype))
        np.testing.assert_array_less(np.abs(got - want), np.maximum(rtol * np.abs(want), rounding) + 1e-30,
                                     err_msg=f"{k}: today's code does not reproduce the stored run")
    return curves


def altered(res, **arrays):
    """A copy of results `res` with some arrays replaced: a counterfactual for a claim."""
    from falib.results import Results

    return Results(res.name, res.profile, res.config, {**res.arrays, **arrays}, dict(res.meta))


def assert_claims_can_fail(claims, res, counterfactuals: dict):
    """Every claim of ``claims(res)`` is as expected on `res`, has a counterfactual, and is not as
    expected on it: ``counterfactuals[key](res)`` returns altered results on which claim `key`
    fails (or, for a declared gap, starts to hold)."""
    base = claims(res)
    assert base.ok, str(base)
    assert {c.key for c in base} == set(counterfactuals), "every claim needs exactly one counterfactual"
    for key, change in counterfactuals.items():
        assert not claims(change(res))[key].ok, f"claim {key!r} cannot fail on its counterfactual"
