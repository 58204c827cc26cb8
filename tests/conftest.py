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


RUN_CACHE = os.environ.get("FALIB_CACHE")   # the test run's own cache (make.py test), shared with the notebooks


@pytest.fixture
def run_cache(monkeypatch, tmp_path_factory):
    """The run's shared results cache instead of a private one: a test that only reads an
    experiment's quick results then reuses the chapter's (a lock makes a concurrent twin wait)."""
    monkeypatch.setenv("FALIB_CACHE", RUN_CACHE or str(tmp_path_factory.getbasetemp() / "run-cache"))


def as_numpy(a):
    return np.asarray(a.cpu()) if hasattr(a, "cpu") else np.asarray(a)


def assert_paper_start(module) -> list[str]:
    """Re-running the start of a stored run of every cell of `module`'s paper results with today's
    code (as its experiment's ``start`` says) reproduces their first records
    (:func:`falib.migrations.check_start` raises where they differ); returns the arrays compared."""
    from falib import reproduce
    from falib.migrations import check_start

    experiment = module.EXPERIMENT
    stored = reproduce(experiment.name, "paper")   # raises if there are no current ones
    return sorted(k for cell in experiment.cells(stored.config)
                  for k in check_start(experiment, stored, cell)["records"])


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
