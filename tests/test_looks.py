"""How figures show rules: every rule declares its own label and colour, the curves of one figure
never look alike, a rule without a colour is refused by name, and what a figure needs to know of
a rule it asks the rule, never its name."""
import ast
import dataclasses
from pathlib import Path

import matplotlib
import numpy as np
import pytest

import falib
from falib import make_rule
from falib.experiments import beyond, deep, linear, mechanics, mnist, spiking, spiking_streams
from falib.plots import VARIANT_COLORS, Look, look, looks, traits
from falib.rules import RULES, FeedbackAlignment, Rule

from .test_cells import codes, edited

matplotlib.use("Agg")

PACKAGE = Path(falib.__file__).parent


def test_every_rule_has_a_label_and_a_colour_of_its_own():
    shown = [look(rule) for rule in RULES.values()]
    for field in ("label", "color"):
        values = [getattr(s, field) for s in shown]
        assert len(set(values)) == len(values), f"two rules share a {field}: {values}"
    assert not {s.color for s in shown} & set(VARIANT_COLORS), "a rule takes a colour kept for variants"


def test_the_figures_keep_their_colours():
    """Readers know them: the colours the figures gave these rules before rules declared them."""
    assert {name: look(name).color for name in RULES} == {
        "backprop": "#1f77b4", "feedback_alignment": "#d62728", "direct_feedback_alignment": "#9467bd",
        "sign_symmetry": "#8c564b", "kolen_pollack": "#17becf", "shallow": "#7f7f7f", "node_perturbation": "#2ca02c"}
    shown = mnist.shown(mnist.PAPER)
    assert shown[mnist.SPARSE] == Look("sparse feedback alignment", "#ff7f0e")


def test_a_rule_without_a_colour_is_refused_by_name():
    class Hebbian(Rule):
        name = "hebbian"
        label = "Hebbian"

    class Renamed(FeedbackAlignment):   # a new rule: its parent's look is not its own
        name = "renamed"

    for rule in (Hebbian(), Renamed()):
        with pytest.raises(ValueError, match=f"the rule '{rule.name}' has no label and colour of its own: give "
                                             f"its class {type(rule).__name__} a `label`.*and a `color`"):
            looks({rule.name: rule})

    class Tweaked(FeedbackAlignment):   # the same rule (its name), changed: shown as it
        pass

    class SignSymmetry(Rule):           # a registered rule written anew (the linear chapter's exercise)
        name = "sign_symmetry"

    assert look(Tweaked()) == look("feedback_alignment") and look(SignSymmetry()) == look("sign_symmetry")


def test_variants_are_shown_by_their_names_in_colours_of_their_own():
    fa = {"rule": "feedback_alignment", "scale": 0.5}
    shown = looks({"feedback_alignment": fa, "fa_large": dict(fa, scale=5.0), "backprop": {"rule": "backprop"},
                   "fa_small": dict(fa, scale=0.05)})
    assert shown["feedback_alignment"] == look("feedback_alignment") and shown["backprop"] == look("backprop")
    assert shown["fa_large"] == Look("fa large", VARIANT_COLORS[0]) and shown["fa_small"].color == VARIANT_COLORS[1]


def test_two_curves_that_would_look_alike_are_refused():
    class Teal(Rule):
        name, label, color = "teal", "teal", look("kolen_pollack").color

    with pytest.raises(ValueError, match="the curves 'kolen_pollack' and 'teal' would share the color"):
        looks({"kolen_pollack": make_rule("kolen_pollack"), "teal": Teal()})
    with pytest.raises(ValueError, match="only 6 colours"):
        looks({f"fa_{i}": {"rule": "feedback_alignment", "scale": i + 1} for i in range(7)})


def rule_specs(config: dict) -> dict:
    """Every curve that names a rule in `config`, at any depth: ``{name: spec}``."""
    found = {}
    for key, value in config.items():
        if key == "rules":
            found |= value
        elif isinstance(value, dict):
            found |= rule_specs(value)
    return found


@pytest.mark.parametrize("module", [linear, mnist, deep, beyond], ids=lambda m: m.__name__.split(".")[-1])
@pytest.mark.parametrize("profile", ["quick", "paper"])
def test_each_experiment_shows_every_curve_its_own_way(module, profile):
    config = module.EXPERIMENT.config(profile)
    shown = module.shown(config)   # raises if two would look alike
    assert set(rule_specs(config)) <= set(shown)


def test_a_new_variant_in_beyond_gets_a_colour_and_a_legend_entry_of_its_own():
    """The case that once drew a new rule in Kolen-Pollack's colour: B at another scale, on every task."""
    res = falib.reproduce("beyond", "paper")
    config = {k: dict(v, rules=dict(v["rules"], fa_half=dict(v["rules"]["feedback_alignment"], scale=1.0)))
              if isinstance(v, dict) and "rules" in v else v for k, v in res.config.items()}
    arrays = {k.replace("/feedback_alignment/", "/fa_half/"): v for k, v in res.arrays.items()
              if "/feedback_alignment/" in k}
    res = dataclasses.replace(res, config=config, arrays=res.arrays | arrays)
    assert beyond.shown(config)["fa_half"] == Look("fa half", VARIANT_COLORS[0])
    for figure in (beyond.figure, beyond.sweep_figure):
        assert ("fa half", VARIANT_COLORS[0], "-") in legend_entries(figure(res))


def legend_entries(fig) -> list[tuple[str, str, str]]:
    """(label, colour, line style) of every legend entry of `fig`; each legend's entries are told
    apart by their labels, and by their colours where the line styles agree."""
    out = []
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None:
            continue
        entries = []
        for handle, text in zip(legend.legend_handles, legend.get_texts()):
            if isinstance(handle, matplotlib.lines.Line2D):
                color, style = handle.get_color(), handle.get_linestyle()
            else:   # an errorbar's bars
                color, style = handle.get_color()[0], type(handle).__name__
            entries.append((text.get_text(), matplotlib.colors.to_hex(color), style))
        labels, looks_alike = [e[0] for e in entries], [e[1:] for e in entries]
        assert len(set(labels)) == len(labels), f"two legend entries share a label: {labels}"
        assert len(set(looks_alike)) == len(looks_alike), f"two legend entries look alike: {entries}"
        out += entries
    matplotlib.pyplot.close(fig)
    return out


FIGURES = [(linear, "figure"), (linear, "search_figure"), (mnist, "figure"), (deep, "figure"),
           (mechanics, "figure"), (mechanics, "pinv_figure"), (spiking, "figure"), (spiking_streams, "figure"),
           (beyond, "figure"), (beyond, "sweep_figure")]


@pytest.mark.parametrize("module,name", FIGURES, ids=[f"{m.__name__.split('.')[-1]}.{n}" for m, n in FIGURES])
def test_no_two_curves_of_a_paper_figure_look_alike(module, name):
    assert legend_entries(getattr(module, name)(falib.reproduce(module.EXPERIMENT.name, "paper")))


@pytest.mark.parametrize("name,learns_hidden,feedback,backprop", [
    ("backprop", True, False, True), ("feedback_alignment", True, True, False),
    ("direct_feedback_alignment", True, True, False), ("sign_symmetry", True, True, False),
    ("kolen_pollack", True, True, False), ("shallow", False, False, False), ("node_perturbation", True, False, False)])
def test_a_rule_says_what_it_does(name, learns_hidden, feedback, backprop):
    assert traits(name) == falib.plots.Traits(learns_hidden, feedback, backprop)


def test_asking_a_rule_changes_nothing():
    net = falib.Network.init([5, 4, 3], "tanh", 0.5, runs=[0, 1])
    rule = make_rule("feedback_alignment").bind(net)
    B = rule.B[0].copy()
    assert traits(rule).feedback and rule.B[0].shape == (2, 4, 3) and np.array_equal(rule.B[0], B)
    assert traits({"rule": "feedback_alignment", "scale": [2.0, 2.0]}).feedback   # deep's tuned spec: two B's




def by_name() -> set[tuple[str, str]]:
    """The (module, definition) pairs that compare something with a registered rule's name."""
    def named(node):
        items = node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else [node]
        return any(isinstance(i, ast.Constant) and i.value in RULES for i in items)

    found = set()
    for path in sorted(PACKAGE.glob("experiments/*.py")) + [PACKAGE / "explorers.py", PACKAGE / "plots.py"]:
        for top in ast.parse(path.read_text()).body:
            if any(isinstance(n, ast.Compare) and any(map(named, [n.left, *n.comparators])) for n in ast.walk(top)):
                found.add((str(path.relative_to(PACKAGE)), getattr(top, "name", "")))
    return found


def test_no_experiment_tests_a_rule_by_name():
    """Computation, figures, claims and prose ask a rule what it does (learns, has a B), never its name."""
    assert by_name() == set()


def test_a_rules_label_and_colour_stale_no_cell(monkeypatch, tmp_path):
    before = codes("mnist")
    edited(monkeypatch, tmp_path, "rules.py", '    label = "backprop"\n    color = "#1f77b4"\n',
           '    label = "BP"\n    color = "#000000"\n')
    assert codes("mnist") == before


def test_a_rules_name_is_computation(monkeypatch, tmp_path):
    before = codes("mnist")
    edited(monkeypatch, tmp_path, "rules.py", '    name = "backprop"\n', '    name = "bp"\n')
    after = codes("mnist")
    assert before.keys() == after.keys() and all(before[k] != after[k] for k in before)
