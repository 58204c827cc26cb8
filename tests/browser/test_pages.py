"""Every page of the built book in headless Chromium (`python3 make.py browser` builds and runs it).

Needs FALIB_BOOK (the built HTML), FALIB_MATHJAX (MathJax 3's es5/ folder) and Chromium
(FALIB_CHROMIUM, default: `chromium` on the PATH); skipped when FALIB_BOOK is not set.
Screenshots go to FALIB_SCREENSHOTS when it is set.
"""
import os
import re
import shutil
from pathlib import Path

import pytest

if not os.environ.get("FALIB_BOOK"):
    pytest.skip("browser test: run `python3 make.py browser` (it builds the book first)",
                allow_module_level=True)

from .pages import Server, check, expected_figures  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BOOK = Path(os.environ["FALIB_BOOK"]).resolve()
MATHJAX = Path(os.environ.get("FALIB_MATHJAX", "")).resolve()
SHOTS = os.environ.get("FALIB_SCREENSHOTS")
PAGES = sorted(p.relative_to(BOOK).as_posix() for p in (BOOK / "chapters").glob("*.html"))


def source(page: str) -> Path:
    stem = ROOT / page.removesuffix(".html")
    return next((p for p in (stem.with_suffix(".ipynb"), stem.with_suffix(".md")) if p.exists()), stem)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    from .pages import CHROMIUM_ARGS
    executable = os.environ.get("FALIB_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        pytest.fail("no Chromium: install it (Debian: apt-get install chromium) or set FALIB_CHROMIUM")
    assert (MATHJAX / "tex-mml-chtml.js").is_file(), f"no MathJax 3 es5/ folder at {MATHJAX} (FALIB_MATHJAX)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server():
    s = Server(BOOK)
    yield s
    s.close()


def test_every_chapter_is_built():
    sources = {p.stem for p in (ROOT / "chapters").glob("*") if p.suffix in (".ipynb", ".md")}
    assert sources <= {Path(p).stem for p in PAGES}, "chapters missing from the built book"


@pytest.mark.parametrize("page", PAGES)
def test_page(browser, server, page):
    shot = None
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        shot = Path(SHOTS) / f"{Path(page).stem}.png"
    problems = check(browser, server.url + page, MATHJAX, expected_figures(source(page)), shot)
    assert not problems, f"{page}:\n  " + "\n  ".join(problems)


@pytest.fixture
def doctored(tmp_path):
    """A copy of the built book whose linear chapter we may break."""
    copy = tmp_path / "html"
    shutil.copytree(BOOK, copy)
    s = Server(copy)
    yield copy / "chapters" / "linear.html", s
    s.close()


FIGURES = expected_figures(source("chapters/linear.html"))


def test_a_removed_figure_fails(browser, doctored):
    page, s = doctored
    name = FIGURES[0]
    page.write_text(re.sub(rf'<figure[^>]*id="{name}".*?</figure>', "", page.read_text(), count=1, flags=re.S))
    problems = check(browser, s.url + "chapters/linear.html", MATHJAX, FIGURES)
    assert any(f"figure {name} is missing" in p for p in problems), problems


def test_a_missing_image_fails(browser, doctored):
    page, s = doctored
    image = re.search(rf'<figure[^>]*id="{FIGURES[0]}".*?<img[^>]*src="([^"]+)"', page.read_text(), flags=re.S)[1]
    (page.parent / image).write_bytes(b"")
    problems = check(browser, s.url + "chapters/linear.html", MATHJAX, FIGURES)
    assert any("image did not load" in p for p in problems), problems


def test_a_broken_formula_fails(browser, doctored):
    page, s = doctored
    html = page.read_text()
    assert r"\(" in html
    page.write_text(html.replace(r"\(", r"\(\frac{1}{", 1))
    problems = check(browser, s.url + "chapters/linear.html", MATHJAX, FIGURES)
    assert any("MathJax" in p or "raw TeX" in p for p in problems), problems


@pytest.mark.parametrize("page", [p for p in PAGES if source(p).suffix == ".ipynb"])
def test_chapter_links_its_student_notebook_and_colab_edition(page):
    """The page's download menu links the student notebook, which the build wrote; Colab opens the edition."""
    import json

    from falib import course, editions

    stem, html = Path(page).stem, (BOOK / page).read_text()
    assert f'href="../student/{stem}.ipynb"' in html, f"{page} does not link its student notebook"
    notebook = json.loads((BOOK / "student" / f"{stem}.ipynb").read_text())
    solutions = ["".join(c["source"]) for c in json.loads(source(page).read_text())["cells"]
                 if course.role(c) == "solution"]
    assert not any(s in "".join(map("".join, (c["source"] for c in notebook["cells"]))) for s in solutions)
    assert f'href="{editions.colab_url(stem)}"' in html, f"{page}: the Colab button does not open the edition"
