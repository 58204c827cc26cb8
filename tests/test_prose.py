"""No chapter states a hand-typed number about our results.

Every number in a chapter's prose must be shown by an inline expression that reads the chapter's
prose numbers (``{eval}`numbers.name```, computed from the results), sit inside math, or be
declared in the notebook's ``metadata["falib"]["typed_numbers"]`` as a number that is not about
our results (the paper's values, network sizes, settings). An expression is nothing else.
"""
import json
import re
from pathlib import Path

import pytest

CHAPTERS = sorted((Path(__file__).resolve().parent.parent / "chapters").glob("*.ipynb"))

IGNORED = [
    r"```(?!\{)[\s\S]*?```",              # code blocks (directive fences like ```{admonition} stay)
    r"\$\$[\s\S]*?\$\$", r"\$[^$\n]+\$",    # math
    r"\{[\w:-]+\}`[^`]*`",                # roles: eval (checked below), eq, doc ...
    r"`[^`]*`",                           # inline code
    r"\]\([^)]*\)", r"<[^>]*>",           # link targets, HTML tags
    r"^\(.*\)=\s*$", r"^:\w+:.*$",        # labels, directive options
    r"\b(?:Figs?|Supplementary|Suppl|ref|refs|eq|Eqs?|Table|Exercise|Section)\.? ?(?:Figs?\.? ?)?\d+",
    r"\b(?:19|20)\d\d\b",                 # years (citations)
]
EXPRESSION = re.compile(r"\{eval\}`([^`]*)`")
NUMBER = re.compile(r"(?<![\w.])(?:\d+(?:-\d+){2,}|[-−]?\d+(?:[.,]\d+)*(?:e[-−]?\d+)?)(?![\w])")


def numbers(text: str) -> list[str]:
    """The numbers a reader would see in markdown `text`, outside math, code, roles and references."""
    for pattern in IGNORED:
        text = re.sub(pattern, " ", text, flags=re.MULTILINE)
    return [m.group().lstrip("-−") for m in NUMBER.finditer(text)]


def expressions(text: str) -> list[str]:
    """The inline expressions in markdown `text` that are not a prose number (``numbers.name``)."""
    return [e for e in EXPRESSION.findall(text) if not re.fullmatch(r"numbers\.\w+", e)]


def test_numbers_are_recognised():
    assert numbers("FA ends at 1.78% after 20,000 images (Fig. 3a, 2016), not $2.1$") == ["1.78", "20,000"]
    assert numbers("{eval}`numbers.fa_error` and `runs=20` and W0, h₁, 3a") == []
    assert expressions("{eval}`numbers.fa_error` {eval}`1.78` {eval}`f'{x:.2f}'`") == ["1.78", "f'{x:.2f}'"]
    assert numbers("a 784-1000-10 network") == ["784-1000-10"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_hand_typed_result_numbers(path):
    nb = json.loads(path.read_text())
    allowed = set(nb["metadata"].get("falib", {}).get("typed_numbers", []))
    prose = [(i, "".join(cell["source"])) for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "markdown"]
    typed = [(i, n) for i, text in prose for n in numbers(text) if n not in allowed]
    typed += [(i, e) for i, text in prose for e in expressions(text)]
    assert not typed, (f"{path.name}: numbers typed in the prose (cell, number): {typed}. Show numbers "
                       "about our results as {eval}`numbers.name` (computed from the results); list the "
                       "paper's numbers and settings in metadata['falib']['typed_numbers']")


@pytest.mark.parametrize("path", [p for p in CHAPTERS if p.stem != "scorecard"], ids=lambda p: p.stem)
def test_chapter_shows_its_profile_notice(path):
    cells = json.loads(path.read_text())["cells"]
    assert any(c["cell_type"] == "code" and "notice(" in "".join(c["source"]) for c in cells), \
        f"{path.name} must display falib.book.notice(res) after loading its results"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_numbers_are_computed_above_the_text_that_shows_them(path):
    """Run top to bottom (JupyterLab renders each markdown cell as Run All reaches it), every
    expression reads a number that a code cell above has set: ``numbers = Numbers(...)``, or
    ``numbers.name = ...`` for a number added later."""
    cells = json.loads(path.read_text())["cells"]
    code = ["".join(c["source"]) if c["cell_type"] == "code" else "" for c in cells]
    added = {name for text in code for name in re.findall(r"numbers\.(\w+)", text)}
    early = []
    for i, cell in enumerate(cells):
        above = "".join(code[:i])
        for name in re.findall(r"\{eval\}`numbers\.(\w+)`", "".join(cell["source"])):
            if not (f"numbers.{name}" in above if name in added else "numbers = Numbers(" in above):
                early.append((i, name))
    assert not early, f"{path.name}: numbers shown before a code cell sets them (cell, name): {early}"
