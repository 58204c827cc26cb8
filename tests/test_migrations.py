"""Migrations carry committed results over a change of configuration form, keeping every array;
the stored-run tests (test_linear, test_mnist, test_mechanics) check the migrated files against
the current code. Restamping carries them over a change of code that changes no number, once a
short re-run with today's code reproduces their start, and refuses one that does."""
import dataclasses
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import falib
from falib.experiments import deep, linear, mechanics, mnist
from falib.migrations import Refused, compared, main, migrate, migrated, paper_file, restamp, schedules
from falib.results import REPO_RESULTS, Results, digest, plain

from .test_cells import edited


def old_form(name, config):
    """The configuration as it was stored before rules became specs."""
    config = plain(config)
    if name == "mechanics":
        lin = {k: v for k, v in config["linear"].items() if k != "rule"}
        lin["feedback_scale"] = config["linear"]["rule"]["scale"]
        return {k: v for k, v in config.items() if k != "rule"} | {"feedback_scale": config["rule"]["scale"],
                                                                   "linear": lin}
    rules, base = config["rules"], {k: v for k, v in config.items() if k != "rules"}
    if name == "deep":
        return base | {"feedback_scale": rules["feedback_alignment"]["scale"],
                       "tuned": {"eta": config["tuned"]["eta"], "feedback_scale": config["tuned"]["rule"]["scale"]}}
    if name == "linear":
        return base | {"feedback_scale": rules["feedback_alignment"]["scale"],
                       "sigma": rules["node_perturbation"]["sigma"]}
    return base | {"feedback_scale": rules["feedback_alignment"]["scale"],
                   "density": rules[mnist.SPARSE]["density"]}


def test_old_configurations_become_the_current_ones(tmp_path):
    for module in (linear, mnist, mechanics, deep):
        name, config = module.EXPERIMENT.name, module.EXPERIMENT.config("paper")
        meta = {"backend": "numpy", "device": "cpu", "dtype": config["dtype"], "runs": [0]}
        old = Results(name, "paper", old_form(name, config), {"epoch": np.arange(3.0)}, meta)
        old.save(tmp_path)
        assert migrated(Results.load(old.path(tmp_path))).config == plain(config)
    done = migrate(tmp_path)
    assert len(done) == 4 and len(list(tmp_path.glob("*.npz"))) == 4
    for _, new in done:
        res = Results.load(tmp_path / new)
        assert np.array_equal(res["epoch"], np.arange(3.0)) and res.meta["migrated"][0]["from"]
        assert migrated(res) is None and migrate(tmp_path) == []


def test_an_earlier_note_is_kept_as_one_step():
    """Files migrated before steps were a list hold one note (a string): it stays one entry."""
    config = linear.EXPERIMENT.config("paper")
    meta = {"backend": "numpy", "device": "cpu", "dtype": config["dtype"], "runs": [0], "migrated": "format 1 to 2"}
    res = migrated(Results("linear", "paper", old_form("linear", config), {"x": np.arange(3.0)}, meta))
    assert res.meta["migrated"][0] == "format 1 to 2" and res.meta["migrated"][1]["by"] == "rules_as_specs"
    assert res.meta["migrated"][2]["by"] == "into_cells" and len(res.meta["migrated"]) == 3


def test_cells_of_a_run_timed_whole_have_unknown_seconds():
    """The migration into cells makes up no per-cell time: several cells are listed with None and
    the run's measured total stays; a single cell is the whole run; a spiking run says its time
    may miss earlier sessions."""
    from falib.experiments import spiking

    for module, cells in ((mnist, 4), (linear, 1), (spiking, 1)):
        config = module.EXPERIMENT.config("paper")
        meta = {"backend": "numpy", "device": "cpu", "dtype": config["dtype"], "runs": [0], "seconds": 120.0}
        res = migrated(Results(module.EXPERIMENT.name, "paper", config, {}, meta))
        assert len(res.meta["cells"]) == cells and res.meta["seconds"] == 120.0
        assert [c["seconds"] for c in res.meta["cells"]] == ([None] * cells if cells > 1 else [120.0])
        assert ("seconds_note" in res.meta) == (module is spiking)


@pytest.fixture
def stored(tmp_path):
    """A results folder holding a copy of the committed linear paper results."""
    folder = tmp_path / "results"
    folder.mkdir()
    return Path(shutil.copy(REPO_RESULTS / paper_file(linear.EXPERIMENT), folder))


def test_a_refactor_is_restamped_and_the_arrays_kept(stored, monkeypatch, tmp_path):
    """A renamed local variable stales the cell; restamp checks its start and records today's code."""
    before = Results.load(stored)
    edited(monkeypatch, tmp_path, "experiments/linear.py", "whose", "owner")
    assert linear.EXPERIMENT.stale(before) == [{}]
    [entry] = restamp("linear", stored.parent)
    after = Results.load(stored)
    assert linear.EXPERIMENT.stale(after) == [] and after.file_name == before.file_name
    assert after.meta["restamped"] == before.meta.get("restamped", []) + [entry]
    assert entry["run"] == linear.EXPERIMENT.start["run"]
    assert (entry["from_code"], entry["to_code"]) == (before.meta["cells"][0]["code"], after.meta["cells"][0]["code"])
    assert entry["records"]["feedback_alignment/angle"] == 5 and entry["largest_difference"] == 0.0
    assert "shallow/limit" in entry["unchecked"] and not entry["whole"]
    assert {k: digest(a) for k, a in after.arrays.items()} == {k: digest(a) for k, a in before.arrays.items()}
    assert {k: v for k, v in after.meta.items() if k not in ("cells", "restamped")} == \
        {k: v for k, v in before.meta.items() if k not in ("cells", "restamped")}
    assert restamp("linear", stored.parent) == []   # current now: nothing left to do


def test_a_change_of_numbers_is_refused_and_nothing_written(stored, monkeypatch, tmp_path):
    """The test error scaled by 1.001, in the source (the fingerprint) and in the code that runs."""
    contents, want = stored.read_bytes(), Results.load(stored)["backprop/nse"][3, 0]
    edited(monkeypatch, tmp_path, "experiments/linear.py", "normalized_squared_error(Yt, net.forward(Xt).y)",
           "1.001 * normalized_squared_error(Yt, net.forward(Xt).y)")
    nse = linear.normalized_squared_error
    monkeypatch.setattr(linear, "normalized_squared_error", lambda *a: 1.001 * nse(*a))
    with pytest.raises(Refused, match=re.escape("linear cell (the only one): today's code does not reproduce "
                                                f"backprop/nse of run 3 at record 0 (index [0]): {1.001 * want:.9g} "
                                                f"today, {want:.9g} stored")):
        restamp("linear", stored.parent)
    assert stored.read_bytes() == contents


def test_the_command_restamps_a_float32_cell(monkeypatch, tmp_path, capsys):
    """Mechanics (float32: today's rounding against float64 sets the tolerance), from the command line."""
    folder = tmp_path / "results"
    folder.mkdir()
    shutil.copy(REPO_RESULTS / paper_file(mechanics.EXPERIMENT), folder)
    edited(monkeypatch, tmp_path, "experiments/mechanics.py", 'length = config["phase_steps"] * batch',
           'length = batch * config["phase_steps"]')
    assert main(["restamp", "mechanics", "--results", str(folder)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("mechanics: restamped its cell (") and "of run 5 agree" in out
    res = Results.load(folder / paper_file(mechanics.EXPERIMENT))
    entry = res.meta["restamped"][-1]
    assert entry["records"]["fa/unit_angles"] == 5 and "phase2/nse" in entry["unchecked"]
    assert 0 < entry["largest_difference"] < 1e-3 and mechanics.EXPERIMENT.stale(res) == []


def test_the_command_refuses_in_one_line(stored, monkeypatch, tmp_path, capsys):
    """An unknown experiment, a missing folder, an experiment that cannot be re-run short: exit 2;
    nothing stale: exit 0."""
    folder = str(stored.parent)
    assert main(["restamp", "linear", "--results", folder]) == 0
    assert capsys.readouterr().out == "linear: no stale cell, nothing to restamp\n"
    assert main(["restamp", "nope", "--results", folder]) == 2
    assert capsys.readouterr().err.startswith("error: unknown experiment 'nope'; choose one of: linear")
    assert main(["restamp", "--results", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err == f"error: no results folder {tmp_path / 'none'}; name one with --results\n"
    unshortened = dataclasses.replace(linear.EXPERIMENT, start=None)
    monkeypatch.setattr(falib.experiments, "get", lambda name: unshortened)
    edited(monkeypatch, tmp_path, "experiments/linear.py", "whose", "owner")
    contents = stored.read_bytes()
    assert main(["restamp", "linear", "--results", folder]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: linear cannot be re-run short") and err.count("\n") == 1
    assert stored.read_bytes() == contents
    monkeypatch.setattr(falib.migrations, "restamp", lambda *a: (_ for _ in ()).throw(ValueError("records drift")))
    assert main(["restamp", "linear", "--results", folder]) == 2   # a configuration today's code refuses
    assert capsys.readouterr().err == ("error: linear cannot be re-run as stored (records drift); recompute it: "
                                       "python -m falib reproduce linear --profile paper\n")


def test_a_short_run_is_compared_where_its_records_fall_at_the_stored_points():
    """A short run also records its last step: 1 epoch of 3 half-epoch records ends at step 3, which
    the stored run (records every 2 steps) does not hold; only the records at steps 0 and 2 count."""
    fresh = {"step": np.array([0, 2, 3]), "error": np.array([[0.9, 0.5, 0.4]]), "fields": np.ones((1, 4))}
    stored = {"error": np.array([[0.9, 0.5, 0.3, 0.2]]), "fields": np.zeros((1, 4))}   # run 0's, step aside
    schedule = schedules(fresh, {"step": np.array([0, 2, 4, 6])}, ())
    assert schedule == {3: 2}
    assert compared(fresh, stored, 0, False, (), schedule) == {"error": 2}   # fields: a final value
    assert compared(fresh, stored, 0, True, (), {}) == {"fields": 4}         # a whole run: every shape that matches
