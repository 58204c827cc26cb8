"""Assignments that grade themselves (falib.assignments, Otter-Grader).

The linear chapter (the cheapest to run) becomes an assignment through ``otter assign``, and Otter's
own autograder (``otter run``, without Docker) grades three submissions: the instructor's solutions
(full marks), one exercise answered with a plausible mistake (partial) and the notebook as students
get it (zero).
"""
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from falib import assignments, course

pytest.importorskip("otter")
ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
WITH_EXERCISES = [p for p in CHAPTERS if any(assignments._label(c) for c in nbformat.read(p, 4).cells)]
LINEAR = nbformat.read(ROOT / "chapters" / "linear.ipynb", 4)

# backprop's W^T where only the signs of W were asked for
WRONG = {"linear-sign-symmetry": '''\
from falib.rules import Rule


class SignSymmetry(Rule):
    name = "sign_symmetry"

    def send(self, net, l, delta):
        return net.W[l + 1].mT @ delta
'''}


def solutions(nb) -> dict[str, list[str]]:
    """Each exercise's solution cells, by its label."""
    found, label = {}, None
    for cell in nb.cells:
        label = assignments._label(cell) or label
        if course.role(cell) == "solution":
            found.setdefault(label, []).append(cell.source)
    return found


def question(cells, i) -> str:
    """The question that cell `i` of a generated notebook belongs to: that of the next cell Otter checks after."""
    return next(c.metadata["otter"]["tests"][0] for c in cells[i:] if "tests" in c.metadata.get("otter", {}))


def submission(student, answers: dict[str, list[str]]):
    """The student notebook with each exercise's answer cells filled in from `answers`."""
    nb = nbformat.from_dict(json.loads(json.dumps(student)))
    left = {k: list(v) for k, v in answers.items()}
    for i, cell in enumerate(nb.cells):
        if "otter_answer_cell" in cell.metadata.get("tags", []) and left.get(question(nb.cells, i)):
            cell.source = left[question(nb.cells, i)].pop(0)
    return nb


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("assignments")
    assert assignments.generate(out, only=["linear"]) == [out / "linear" / "dist" / "autograder" / "autograder.zip"]
    return out / "linear" / "dist"


@pytest.mark.parametrize("kind", ["correct", "one wrong", "blank"])
def test_the_autograder_grades_submissions(dist, kind, tmp_path):
    student = nbformat.read(dist / "student" / "linear.ipynb", 4)
    right = solutions(LINEAR)
    answers = {"correct": right, "one wrong": {**right, **{k: [v] for k, v in WRONG.items()}}, "blank": {}}[kind]
    path = tmp_path / "linear.ipynb"
    nbformat.write(submission(student, answers), path)
    subprocess.run([sys.executable, "-m", "otter", "run", "--no-logo", "-a", dist / "autograder" / "autograder.zip",
                    "-o", tmp_path, path], cwd=tmp_path, check=True)
    scores = {t["name"]: t["score"] for t in json.loads((tmp_path / "results.json").read_text())["tests"]
              if t.get("max_score")}
    assert set(scores) == set(right)
    expected = {q: 0 if kind == "blank" or q in WRONG and kind == "one wrong" else 1 for q in right}
    assert scores == expected


def test_student_notebook_has_no_solution_and_no_hidden_test(dist):
    text = (dist / "student" / "linear.ipynb").read_text()
    nb = nbformat.reads(text, 4)
    for sources in solutions(LINEAR).values():
        assert not any(s in text or json.dumps(s)[1:-1] in text for s in sources)
    hidden = [c.source for i, c in enumerate(LINEAR.cells) if c.cell_type == "markdown" and
              course.role(LINEAR.cells[i - 1]) == "solution"]   # a solution's prose
    assert hidden and not any(json.dumps(h)[1:-1] in text for h in hidden)
    assert "def test_" not in text and "hidden=True" not in text
    assert nb.metadata["otter"]["assignment_name"] == "linear"
    assert [c.source for c in nb.cells if course.role(c) == "check"] == \
        [c.source for c in LINEAR.cells if course.role(c) == "check"]


def test_autograder_holds_a_hidden_test_per_exercise(dist):
    with zipfile.ZipFile(dist / "autograder" / "autograder.zip") as z:
        tests = {Path(n).stem: z.read(n).decode() for n in z.namelist() if n.startswith("tests/")}
        environment = z.read("environment.yml").decode()
    assert set(tests) == set(solutions(LINEAR))
    for label, source in tests.items():
        assert "hidden=True" in source and "points = 1" in source and "checks." in source
    name = re.search(r'^name\s*=\s*"([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.MULTILINE).group(1)
    # the grading image installs this project (with the extras the chapter needs), not the index's falib
    assert re.search(rf"- {re.escape(name)}(\[[\w,]+\])? @ ", environment), environment


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.stem)
def test_every_chapter_makes_an_assignment(path):
    nb = nbformat.read(path, 4)
    master = assignments.master(nb, path.stem)
    names = [c.source.splitlines()[1] for c in master.cells if c.source.startswith("# BEGIN QUESTION")]
    assert names == [f"name: {label}" for label in solutions(nb)]
    assert sum(c.source.startswith("# HIDDEN") for c in master.cells) == len(names)


def test_an_assignment_keeps_only_the_chapter_cells_its_exercises_read():
    setup, a, b, c = (new_code_cell(s) for s in ("import os", "x = 1", "y = x + 1", "z = 3"))
    exercise = [new_markdown_cell("The value {eval}`y`"), new_code_cell("print(os.sep, y)")]
    assert assignments.needed([setup, a, b, c, *exercise], [a, b, c], "toy") == [setup, a, b, *exercise]
    with pytest.raises(ValueError, match=r"\['w'\]"):
        assignments.needed([setup, a, new_code_cell("print(w)")], [a], "toy")


def test_points_come_from_the_check_cell():
    check = new_code_cell("checks.feedback_scales(runs)", metadata={"tags": ["check"]})
    assert assignments._points([check]) == 1
    check.metadata["falib"] = {"points": 3}
    assert assignments._points([new_markdown_cell("box"), check]) == 3
