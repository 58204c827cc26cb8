"""Carry stored results over a change of configuration *form* that cannot change their numbers.

Results are filed under a hash of their configuration (:mod:`falib.results`), so renaming a
setting orphans results that cost CPU-hours. A migration rewrites a stored configuration into the
current form; the arrays are kept bit for bit and the file is saved under its new name, with the
hash it came from recorded in ``meta["migrated"]``. It is checked, not trusted: the stored-run
tests (``tests/conftest.py: assert_paper_start``) recompute the first records of every migrated
file with the current code and must match them.

Run ``python -m falib.migrations [folder]`` (default: ``results/``) once after such a change.
"""
from __future__ import annotations

import sys
from pathlib import Path

from .results import REPO_RESULTS, Results


def rules_as_specs(config: dict) -> dict | None:
    """Linear and MNIST: rule names with per-name parameters became one spec per curve (``rules``)."""
    if "rules" in config or "feedback_scale" not in config:
        return None
    if "sigma" in config:   # linear
        rules = {"shallow": {"rule": "shallow"},
                 "node_perturbation": {"rule": "node_perturbation", "sigma": config["sigma"]},
                 "backprop": {"rule": "backprop"},
                 "feedback_alignment": {"rule": "feedback_alignment", "scale": config["feedback_scale"]}}
        drop = ("feedback_scale", "sigma")
    else:                   # MNIST
        fa = {"rule": "feedback_alignment", "scale": config["feedback_scale"]}
        rules = {"shallow": {"rule": "shallow"}, "backprop": {"rule": "backprop"}, "feedback_alignment": fa,
                 "sparse_feedback_alignment": dict(fa, density=config["density"])}
        drop = ("feedback_scale", "density")
    return {k: v for k, v in config.items() if k not in drop} | {"rules": rules}


def rule_as_spec(config: dict) -> dict | None:
    """Mechanics: ``feedback_scale`` (here and in the linear case) became a feedback-alignment spec."""
    if "rule" in config or "feedback_scale" not in config:
        return None
    spec = {"rule": "feedback_alignment", "scale": config["feedback_scale"]}
    lin = {k: v for k, v in config["linear"].items() if k != "feedback_scale"}
    lin["rule"] = {"rule": "feedback_alignment", "scale": config["linear"]["feedback_scale"]}
    return {k: v for k, v in config.items() if k != "feedback_scale"} | {"rule": spec, "linear": lin}


def deep_rules_as_specs(config: dict) -> dict | None:
    """Deep: ``feedback_scale`` and the tuned ``feedback_scale`` became feedback-alignment specs."""
    if "rules" in config:
        return None
    fa = {"rule": "feedback_alignment"}
    rules = {"backprop": {"rule": "backprop"}, "feedback_alignment": dict(fa, scale=config["feedback_scale"])}
    tuned = {"eta": config["tuned"]["eta"], "rule": dict(fa, scale=config["tuned"]["feedback_scale"])}
    return {k: v for k, v in config.items() if k != "feedback_scale"} | {"rules": rules, "tuned": tuned}


MIGRATIONS = {"linear": rules_as_specs, "mnist": rules_as_specs, "mechanics": rule_as_spec,
              "deep": deep_rules_as_specs}


def migrated(res: Results) -> Results | None:
    """`res` with its configuration in the current form, or None if it needs no migration."""
    change = MIGRATIONS.get(res.name)
    config = change(res.config) if change else None
    if config is None:
        return None
    before = res.meta.get("migrated", [])   # a list of steps; older files hold one note (a string)
    steps = [before] if isinstance(before, str) else list(before)
    meta = dict(res.meta, migrated=[*steps, {"from": res.hash, "by": change.__name__}])
    return Results(res.name, res.profile, config, res.arrays, meta)


def migrate(folder: Path = REPO_RESULTS) -> list[tuple[str, str]]:
    """Migrate every results file in `folder` that needs it; returns the (old, new) file names."""
    done = []
    for path in sorted(Path(folder).glob("*.npz")):
        new = migrated(Results.load(path))
        if new is not None:
            new.save(folder)
            path.unlink()
            done.append((path.name, new.file_name))
    return done


if __name__ == "__main__":
    for old, new in migrate(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO_RESULTS):
        print(f"{old} -> {new}")
