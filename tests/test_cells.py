"""Experiments as grids of cells: only new or stale cells are computed, a claim's wording stales
none, and the committed results carried into cells keep every claim's number."""
import dataclasses
import os

import numpy as np
import pytest

import falib
from falib import provenance, tasks
from falib.__main__ import main
from falib.data import load_mnist
from falib.experiments import beyond, get, mnist, names
from falib.migrations import migrated
from falib.results import REPO_RESULTS, Results, file_name

needs_mnist = pytest.mark.skipif(not os.environ.get("FALIB_MNIST"), reason="FALIB_MNIST is not set")
TINY_MNIST = dict(mnist.QUICK, train_size=200, test_size=100, batch=20, epochs=1, eta_drops=[], angle_size=50,
                  fields=4, records_per_epoch=1, runs=1)
TINY_IMAGES = dict(beyond.QUICK_IMAGES, train_size=64, test_size=32, records_per_epoch=1, angle_size=16)
TINY_BEYOND = dict(beyond.QUICK, linear=dict(beyond.QUICK["linear"], steps=20, record_every=10),
                   teacher=dict(beyond.QUICK["teacher"], steps=20, record_every=10), depths=[1], widths=[2],
                   mnist=TINY_IMAGES, fashion=TINY_IMAGES, runs=1,
                   scales={"values": [2.0], "train_size": 64, "test_size": 32})


@pytest.fixture
def computed(monkeypatch):
    """The chunks computed, as (the function's name, the rules it was given, the runs)."""
    chunk, calls = falib.experiments.compute_chunk, []

    def counted(compute, config, backend, runs):
        rules = next((c["rules"] for c in [config, *config.values()] if isinstance(c, dict) and "rules" in c), {})
        calls.append((compute.__name__, tuple(rules), tuple(runs)))
        return chunk(compute, config, backend, runs)

    monkeypatch.setattr(falib.experiments, "compute_chunk", counted)
    return calls


def use(monkeypatch, experiment, config):
    changed = dataclasses.replace(experiment, profiles={"quick": config, "paper": config})
    monkeypatch.setattr(falib.experiments.store, "get", lambda name: changed)
    return changed


def digests(res: Results, keys) -> dict:
    return {k: falib.results.digest(res[k]) for k in keys}


@needs_mnist
def test_more_mnist_runs_compute_only_the_new_runs(monkeypatch, tmp_path, computed):
    use(monkeypatch, mnist.EXPERIMENT, TINY_MNIST)
    first = falib.reproduce("mnist", "paper", folder=tmp_path, recompute=True)
    assert sorted(computed) == sorted(("compute", (r,), (0,)) for r in mnist.VARIANTS)
    computed.clear()
    use(monkeypatch, mnist.EXPERIMENT, dict(TINY_MNIST, runs=3))
    more = falib.reproduce("mnist", "paper", folder=tmp_path, recompute=True)
    assert sorted(computed) == sorted(("compute", (r,), (n,)) for r in mnist.VARIANTS for n in (1, 2))
    assert more.meta["runs"] == [0, 1, 2] and [p.name for p in tmp_path.glob("*.npz")] == [more.file_name]
    for k, a in first.arrays.items():   # the first run's cells are untouched, bit for bit
        assert falib.results.digest(more[k] if k == "epoch" else more[k][:1]) == falib.results.digest(a), k


@needs_mnist
def test_a_new_rule_in_beyond_computes_only_its_cells(monkeypatch, tmp_path, computed):
    fashion = dataclasses.replace(tasks.TASKS["fashion"], load=load_mnist)   # no Fashion-MNIST needed to count cells
    monkeypatch.setitem(tasks.TASKS, "fashion", fashion)
    use(monkeypatch, beyond.EXPERIMENT, TINY_BEYOND)
    first = falib.reproduce("beyond", "quick", folder=tmp_path)
    per_rule = len(beyond.trained(TINY_BEYOND)) + 1   # a cell per task, and the teacher's depth sweep
    assert len(computed) == per_rule * len(TINY_BEYOND["linear"]["rules"]) + 1   # and the β sweep
    computed.clear()
    rule = {"rule": "feedback_alignment", "scale": 1.0}
    config = dict(TINY_BEYOND, **{t: dict(TINY_BEYOND[t], rules=dict(TINY_BEYOND[t]["rules"], fa_half=rule))
                                  for t in ("linear", "teacher", "mnist", "fashion")})
    use(monkeypatch, beyond.EXPERIMENT, config)
    more = falib.reproduce("beyond", "quick", folder=tmp_path)
    assert sorted(computed) == sorted([("linear_task", ("fa_half",), (0,)), ("teacher_task", ("fa_half",), (0,)),
                                       ("depth_task", ("fa_half",), (0,)), ("image_task", ("fa_half",), (0,)),
                                       ("image_task", ("fa_half",), (0,))])
    assert digests(more, first.arrays) == digests(first, first.arrays)   # the other cells untouched
    assert "mnist/fa_half/error" in more.arrays and len(list(tmp_path.glob("*.npz"))) == 1


def test_checkpoints_of_a_superseded_configuration_are_cleared(monkeypatch, tmp_path):
    from .test_results import toy

    use(monkeypatch, toy([], fail=[2]), {"runs": 4, "dtype": "float64"})
    with pytest.raises(RuntimeError, match="interrupted"):
        falib.reproduce("toy", "quick", folder=tmp_path)
    checkpoints = falib.results.cache_dir() / "checkpoints"
    assert len(list(checkpoints.rglob("*.npz"))) == 2
    use(monkeypatch, toy([]), {"runs": 4, "dtype": "float64", "longer": True})
    falib.reproduce("toy", "quick", folder=tmp_path)
    assert not list(checkpoints.rglob("*.npz"))


def edited(monkeypatch, tmp_path, module: str, old: str, new: str):
    """A copy of falib in which `old` is replaced by `new` in `module`, used for fingerprints."""
    package = tmp_path / "falib"
    for path in provenance.PACKAGE.rglob("*.py"):
        (package / path.relative_to(provenance.PACKAGE)).parent.mkdir(parents=True, exist_ok=True)
        (package / path.relative_to(provenance.PACKAGE)).write_bytes(path.read_bytes())
    source = package / module
    assert old in source.read_text()
    source.write_text(source.read_text().replace(old, new))
    monkeypatch.setattr(provenance, "PACKAGE", package)


def codes(name: str) -> dict[str, str]:
    """Each paper cell's code fingerprint, by its labels."""
    experiment = get(name)
    return {".".join(c.labels.values()): c.code() for c in experiment.cells(experiment.config("paper"))}


def test_editing_a_computation_stales_exactly_its_cells(monkeypatch, tmp_path, capsys):
    before = codes("beyond")
    edited(monkeypatch, tmp_path, "experiments/beyond.py", "test_batch=len(data[2])",
           "test_batch=int(len(data[2]))")   # in image_fit
    after = codes("beyond")
    changed = {k for k in before if before[k] != after[k]}
    images = {"mnist", "fashion"}   # the tasks image_fit trains every rule on; and the β sweep
    rules = beyond.EXPERIMENT.config("paper")["mnist"]["rules"]
    assert {k.split(".")[0] for k in changed} == images | {"scale"} and len(changed) == len(images) * len(rules) + 1
    res = falib.reproduce("beyond", "paper")   # paper cells are still served, and flagged
    assert {".".join(c.values()) for c in beyond.EXPERIMENT.stale(res)} == changed
    assert main(["claims", "beyond", "--profile", "paper"]) == 0
    assert f"of the {len(before)} cells were computed by other code than today's" in capsys.readouterr().err


@pytest.mark.parametrize("statement", ['RESUMABLE += ("eta",)', "np.seterr(all='raise')",
                                       "if True:\n    RESUMABLE = ()"])
def test_editing_any_other_top_level_statement_stales_every_cell(statement, monkeypatch, tmp_path):
    """A top-level statement that is neither a definition nor an import (an augmented assignment,
    a bare call, an ``if`` block) may change what any definition computes."""
    before = codes("spiking")
    edited(monkeypatch, tmp_path, "experiments/spiking.py", "\ndef check(config):", f"\n{statement}\n\n\ndef check(config):")
    after = codes("spiking")
    assert before.keys() == after.keys() and all(before[k] != after[k] for k in before)


@pytest.mark.parametrize("module,old", [
    ("experiments/mnist.py", "Shallow learning is clearly worse"),
    ("experiments/beyond.py", "Fashion-MNIST is harder than MNIST"),
    ("experiments/spiking.py", "Feedback alignment trains the spiking network"),
])
def test_editing_a_claim_or_its_prose_stales_no_cell(module, old, monkeypatch, tmp_path):
    name = module.split("/")[1][:-3]
    before = codes(name)
    edited(monkeypatch, tmp_path, module, old, old.upper())
    assert codes(name) == before


def test_the_migration_into_cells_keeps_every_claims_number():
    """Undo the migration of each committed file (its cells unlisted), redo it: the arrays and
    every claim's number are those of the file before."""
    for path in sorted(REPO_RESULTS.glob("*.npz")):
        stored = Results.load(path)
        if "migrated" not in stored.meta:   # computed as cells: nothing was migrated
            continue
        steps = [s for s in stored.meta["migrated"] if not (isinstance(s, dict) and s["by"] == "into_cells")]
        meta = {k: v for k, v in stored.meta.items() if k != "cells"} | {"migrated": steps}
        before = Results(stored.name, stored.profile, stored.config, stored.arrays, meta)
        after = migrated(before)
        assert after.meta["cells"] == stored.meta["cells"] and after.arrays is before.arrays
        claims = get(stored.name).claims
        assert [(c.key, c.ours, c.status) for c in claims(after)] == [(c.key, c.ours, c.status) for c in claims(before)]


def test_results_hold_one_current_file_per_experiment():
    """An orphan (a file no experiment's paper profile reads today) fails this test."""
    current = set()
    for name in names():
        experiment = get(name)
        config = experiment.config("paper")
        current.add(file_name(name, "paper", config, falib.experiments.origin(experiment.default_backend(config))))
    assert {p.name for p in REPO_RESULTS.iterdir()} <= current


def test_an_array_without_a_run_axis_must_be_declared_shared():
    """A record schedule the experiment forgot to declare shared is refused, not sliced per run."""
    from .test_results import toy

    forgetful = dataclasses.replace(toy([]), shared=())
    with pytest.raises(falib.results.ResultsError, match=r"step.*`shared`"):
        forgetful.run("quick", runs=[0, 1])
