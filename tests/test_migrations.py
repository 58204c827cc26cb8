"""Migrations carry committed results over a change of configuration form, keeping every array;
the stored-run tests (test_linear, test_mnist, test_mechanics) check the migrated files against
the current code."""
import numpy as np

from falib.experiments import deep, linear, mechanics, mnist
from falib.migrations import migrate, migrated
from falib.results import Results, plain


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
