"""Student and instructor notebooks from the one source (falib.course).

The instructor notebooks are the chapters (nbval runs them in full); here every student notebook
runs its exercises up to the stubs: each stub raises NotImplementedError (or defines something
that does), and every check fails on the stub. That the checks pass on the solutions is shown by
the chapters' own run (nbval), where each check cell follows its solution.
"""
import ast
from pathlib import Path

import matplotlib
import nbformat
import pytest

from falib import course

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
WITH_EXERCISES = [p for p in CHAPTERS if any(course.role(c) == "check" for c in nbformat.read(p, 4).cells)]


def exercise_cells(nb):
    """The cells from the first exercise on."""
    first = next(i for i, c in enumerate(nb["cells"]) if "{exercise}" in "".join(c["source"]))
    return nb["cells"][first:]


def test_generate_writes_both_versions(tmp_path):
    written = course.generate(tmp_path)
    for kind in ("student", "instructor"):
        assert sorted(p.name for p in (tmp_path / kind).iterdir()) == [p.name for p in CHAPTERS]
    assert len(written) == 2 * len(CHAPTERS)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_instructor_notebook_is_the_chapter(path):
    nb = nbformat.read(path, 4)
    mine = course.instructor(nb)
    assert [c["source"] for c in mine["cells"]] == [c["source"] for c in nb.cells]
    assert all(not c.get("outputs") for c in mine["cells"])


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_student_notebook_hides_every_solution(path):
    nb = nbformat.read(path, 4)
    solutions = [c["source"] for c in nb.cells if course.role(c) == "solution"]
    student = course.student(nb)
    text = "\n".join(c["source"] for c in student["cells"])
    assert not any(s in text for s in solutions)
    assert "{solution-start}" not in text and "{solution-end}" not in text
    assert sum(course.role(c) == "check" for c in student["cells"]) == sum(course.role(c) == "check" for c in nb.cells)


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.stem)
def test_every_exercise_has_a_starter_and_a_check(path):
    cells = exercise_cells(nbformat.read(path, 4))
    labels = [c["source"] for c in cells if "{exercise}" in c["source"]]
    solutions = [c for c in cells if course.role(c) == "solution"]
    checks = [c for c in cells if course.role(c) == "check"]
    assert len(labels) == len(checks) and solutions, f"{path.name}: each exercise needs a solution and a check"
    for c in solutions:
        course.starter(c)   # raises if the starter is missing or does not raise NotImplementedError


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.stem)
def test_student_stubs_raise_and_their_checks_fail(path, monkeypatch, tmp_path):
    """Run the student notebook's exercises: a stub may raise only NotImplementedError, and each
    check must fail after its stub; every other cell must run."""
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    failed = []
    for cell in exercise_cells(course.student(nbformat.read(path, 4))):
        if cell["cell_type"] != "code":
            continue
        kind = course.role(cell)
        try:
            exec(compile(cell["source"], f"<{path.stem} {kind or 'cell'}>", "exec"), namespace)
        except Exception as err:   # noqa: BLE001 - a check must fail, whatever the way
            if kind == "check":
                failed.append(cell["source"])
                continue
            assert kind == "solution" and isinstance(err, NotImplementedError), \
                f"{path.name}: a {kind or 'plain'} cell failed: {err!r}"
            continue
        assert kind != "check", f"{path.name}: this check passed on the stub:\n{cell['source']}"
    assert failed



def answer_parts(solution: str, starter: str) -> list[str]:
    """The statements and calls of `solution`, at any depth (imports, definitions and docstrings
    left out), that the starter's own code does not already hold: what the student is to write."""
    given = {ast.unparse(node) for node in ast.walk(ast.parse(starter))}
    found = []
    for node in ast.walk(ast.parse(solution)):
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or (
                isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            continue
        if isinstance(node, (ast.stmt, ast.Call)) and ast.unparse(node) not in given:
            found += [ast.get_source_segment(solution, node), ast.unparse(node)]
    return [s for s in found if len(s) > 12]


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.stem)
def test_starters_point_the_way_without_the_answer(path):
    """No statement or call of a solution, beyond what its starter's code holds, appears in the
    starter's comments or messages (the hint names the tools, not the calls)."""
    for cell in nbformat.read(path, 4).cells:
        if course.role(cell) == "solution":
            stub = course.starter(cell)
            given = sorted({s for s in answer_parts(cell["source"], stub) if s in stub})
            assert not given, f"{path.name}: the starter holds parts of the solution: {given}"
