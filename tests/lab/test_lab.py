"""Every chapter in a real JupyterLab with jupyterlab-myst (as on Binder), run top to bottom in
headless Chromium: its prose shows the numbers, cross-references, citations and exercise boxes,
and no raw MyST markup (`python3 make.py lab`).

Needs FALIB_LAB=1 (skipped otherwise), JupyterLab with jupyterlab-myst (the `book` extra),
Playwright and Chromium (FALIB_CHROMIUM, default: `chromium` on the PATH). The chapters run at
the profile the environment sets (make.py: quick, from an empty results cache), on copies, so
the repository's notebooks are never written. Screenshots go to FALIB_SCREENSHOTS when it is set.
"""
import json
import os
import re
import shutil
from pathlib import Path

import pytest

if os.environ.get("FALIB_LAB") != "1":
    pytest.skip("JupyterLab test: run `python3 make.py lab`", allow_module_level=True)

from ..browser.pages import CHROMIUM_ARGS  # noqa: E402
from .lab import Lab, run_notebook  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted(p.name for p in (ROOT / "chapters").glob("*.ipynb"))
SHOTS = os.environ.get("FALIB_SCREENSHOTS")
ROLE = re.compile(r"\{([a-z][\w:-]*)\}`([^`]*)`")
MATH = re.compile(r"\$\$[\s\S]*?\$\$|\$[^$\n]+\$")
RENDERED = {"eval", "math", "sub", "sup", "abbr", "kbd", "u", "strike", "smallcaps"}   # roles jupyterlab-myst renders
# What a reader must never see in rendered prose: a MyST role or directive, a code fence, an
# inline expression left unevaluated (jupyterlab-myst then shows its source, `numbers.name`) or
# failed (it shows the error), a directive jupyterlab-myst does not know.
RAW = re.compile(r"\{(?:glue|eval|numref|ref|cite|exercise|solution|bibliography|figure|doc|eq)[\w:-]*\}"
                 r"|```|:::|numbers\.\w+|\b[A-Z]\w*Error: |Unknown Directive")


def problems(sources: list[str], shown: list[dict], values: dict[str, str]) -> list[str]:
    """What is wrong with the rendered markdown cells `shown` (READ's) given their `sources` and
    the values of their inline expressions: raw markup, a role that shows its bare argument (one
    jupyterlab-myst does not render), an unresolved reference, a value not shown where the source
    puts it (before the plain words that follow the expression on its line)."""
    if len(sources) != len(shown):
        return [f"{len(sources)} markdown cells in the notebook, {len(shown)} rendered"]
    found = []
    for i, (source, cell) in enumerate(zip(sources, shown)):
        text, source = cell["text"], MATH.sub("\0", source)
        found += [f"cell {i}: raw {m.group()!r} in {text[max(0, m.start() - 60):m.end() + 20]!r}"
                  for m in RAW.finditer(text)]
        flat = " ".join(text.split())
        for m in ROLE.finditer(source):
            role, arg = m.groups()
            if role not in RENDERED and arg in flat:
                found.append(f"cell {i}: {{{role}}}`{arg}` shows as {arg!r}")
            elif role == "eval" and values.get(arg) is None:
                found.append(f"cell {i}: {arg} has no value in the kernel")
            elif role == "eval":
                after = re.match(r"[^\0\n#{}$`*_\[\]|<\\'\"~-]*", source[m.end():m.end() + 30]).group()
                expected = " ".join((values[arg] + after).split()[:4])
                if expected not in flat:
                    found.append(f"cell {i}: {arg} = {values[arg]!r} is not shown (expected {expected!r})")
        found += [f"cell {i}: {u}" for u in cell["unresolved"]]
    return found


def markdown_sources(path: Path) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("FALIB_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        pytest.fail("no Chromium: install it (Debian: apt-get install chromium) or set FALIB_CHROMIUM")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """One JupyterLab for every chapter, serving copies of them, with one math thread per kernel."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "chapters", root / "chapters", ignore=shutil.ignore_patterns("*.md"))
    server = Lab(root, env={"FALIB_PROGRESS": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    yield server
    server.close()


def check(browser, lab, name: str) -> list[str]:
    """Run chapters/`name` in the lab and list what its rendered prose gets wrong."""
    path = f"chapters/{name}"
    try:
        shot = Path(SHOTS) / f"lab-{Path(name).stem}.png" if SHOTS else None
        if shot:
            shot.parent.mkdir(parents=True, exist_ok=True)
        state = run_notebook(browser, lab, path, screenshot=shot)
        assert not state["errors"] and not state["unrun"], (
            f"{name}: a cell failed in JupyterLab, or {state['unrun']} did not run:\n" + "\n".join(state["errors"])
            + f"\ndialogs it showed: {state['dialogs']}")
        sources = markdown_sources(lab.root / path)
        values = lab.values(path, sorted({arg for s in sources for role, arg in ROLE.findall(s) if role == "eval"}))
    finally:
        lab.shut_down(path)
    return problems(sources, state["markdown"], values)


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_renders_like_the_book(browser, lab, name):
    found = check(browser, lab, name)
    assert not found, f"{name} in JupyterLab:\n" + "\n".join(found)


def code(source: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": source}


def markdown(source: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": source}


def write(lab, name: str, cells: list[dict]) -> str:
    """A notebook of `cells` (with the chapters' metadata) as chapters/`name` in the lab; its path."""
    notebook = json.loads((ROOT / "chapters" / CHAPTERS[0]).read_text())
    notebook["cells"] = [{**c, "id": f"cell-{i}"} for i, c in enumerate(cells)]
    (lab.root / "chapters" / name).write_text(json.dumps(notebook))
    return f"chapters/{name}"


def test_a_slow_session_asks_nothing(browser, lab):
    """The page learns which sessions run only 30 s after it opens (as on a slow fresh machine,
    where the last two CI runs failed on it): the notebook waits for its kernel, runs in it and
    asks nothing (cells run while it shows "No Kernel" open a dialog each)."""
    path = write(lab, "slow.ipynb", [code(f"x{i} = {i}") for i in range(5)])
    try:
        state = run_notebook(browser, lab, path, timeout=120, late=("sessions",), seconds=30)
        sessions = [s for s in lab.api("sessions") if s["path"] == path]
        values = lab.values(path, ["x4"])
    finally:
        lab.shut_down(path)
    assert state["started"] and not state["running"] and not state["errors"], state
    assert not state["dialogs"], state["dialogs"]
    assert len(sessions) == 1 and values == {"x4": "4"}, (sessions, values)


def test_a_failing_cell_is_caught(browser, lab):
    """A notebook whose first cell raises: the error is reported, and so is the cell after it, which
    never runs (JupyterLab shows the error as text on stderr, so the page alone would not tell)."""
    write(lab, "failing.ipynb", [code("raise ValueError('no MNIST here')"), code("x = 1")])
    with pytest.raises(AssertionError, match=r"(?s)1 did not run.*ValueError: no MNIST here"):
        check(browser, lab, "failing.ipynb")


def test_raw_markup_and_missing_numbers_are_caught(browser, lab):
    """A doctored notebook: a myst-nb glue role, an expression that fails and one that works."""
    write(lab, "doctored.ipynb", [code("from falib.book import Numbers\nnumbers = Numbers(error='1.78%')"),
                                  markdown("The error is {glue:text}`error`."),
                                  markdown("It is {eval}`numbers.missing`."), markdown("It is {eval}`numbers.error`.")])
    found = check(browser, lab, "doctored.ipynb")
    assert {f.split(":")[0] for f in found} == {"cell 0", "cell 1"}, found
    assert "{glue:text}" in found[0] and all("AttributeError" in f or "missing" in f for f in found[1:]), found
