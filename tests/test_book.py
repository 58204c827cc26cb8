"""The book's sources agree with each other: one repository address, figures that are labelled,
captioned, cross-referenced and state the paper profile's n, settings and counts stated as the
configurations have them, citations that the bibliography has."""
import json
import re
from pathlib import Path

import pytest
import yaml

import falib

ROOT = Path(__file__).resolve().parent.parent
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPO = CONFIG["repository"]["url"].rstrip("/")
OWNER, NAME = REPO.removeprefix("https://github.com/").split("/")
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
FILES = ["README.md", "chapters/intro.md", "CITATION.cff", "pyproject.toml", "postBuild", "environment.yml",
         *(f"chapters/{p.name}" for p in CHAPTERS)]   # the chapters' set-up cells install from the repository
LINK = re.compile(r"https?://(?:github\.com|mybinder\.org/v2/gh|[\w-]+\.github\.io)/[^\s)>\]\"'`\\]+")


def figures(path):
    cells = json.loads(path.read_text())["cells"]
    return [c["metadata"]["mystnb"] for c in cells if "figure" in c["metadata"].get("mystnb", {})]


def markdown(path):
    if path.suffix == ".md":
        return path.read_text()
    return "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"]
                     if c["cell_type"] == "markdown")


def expected(link: str) -> bool:
    if ".github.io/" in link:
        return link.startswith(f"https://{OWNER}.github.io/{NAME}")
    return f"/{OWNER}/{NAME}" in link and link.split(f"/{OWNER}/{NAME}")[1][:1] in ("", "/")


@pytest.mark.parametrize("name", FILES)
def test_repository_links_match_config(name):
    path = ROOT / name
    if not path.exists():
        pytest.skip(f"no {name}")
    text = path.read_text()
    if path.suffix == ".ipynb":
        text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"])
    wrong = [link for link in LINK.findall(text) if not expected(link)
             and "actions/checkout" not in link]
    assert not wrong, f"{name} links elsewhere than the repository in _config.yml ({REPO}): {wrong}"


def test_readme_links_the_repository_and_the_published_book():
    text = (ROOT / "README.md").read_text()
    assert REPO in text and f"https://{OWNER}.github.io/{NAME}/" in text


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_figures_are_captioned_labelled_and_cited(path):
    text = markdown(path)
    for meta in figures(path):
        name, caption = meta["figure"]["name"], meta["figure"].get("caption", "")
        assert name.startswith("fig-") and caption, f"{path.name}: figure {name} needs a label and a caption"
        assert len(meta.get("image", {}).get("alt", "")) > 20, f"{path.name}: figure {name} needs real alt text"
        assert f"](#{name})" in text, f"{path.name}: the text never links figure {name} ([the figure below](#{name}))"


@pytest.mark.parametrize("path", [p for p in CHAPTERS if p.stem in falib.names()], ids=lambda p: p.stem)
def test_captions_state_the_paper_profile_runs(path):
    runs = falib.get(path.stem).config("paper")["runs"]
    for meta in figures(path):
        for n in re.findall(r"\$n = (\d+)\$", meta["figure"]["caption"]):
            assert int(n) == runs, (f"{path.name}: figure {meta['figure']['name']} says n = {n}; the "
                                    f"paper profile has {runs} runs")


WORDS = "zero one two three four five six seven eight nine ten eleven twelve".split()


def sizes(layers) -> str:
    return "-".join(map(str, layers))


def stated(chapter: str) -> list[str]:
    """What `chapter`'s prose, captions and alt texts say of its experiments' configurations (the
    paper profile's, and the quick one's where the text names it), as the configurations say it
    today: a rule added or a setting changed makes the text that states them fail this test."""
    from falib.experiments import beyond, mnist
    from falib.plots import traits

    c, q = falib.get(chapter).config("paper"), falib.get(chapter).config("quick")
    examples = c.get("steps", 0) * c.get("batch", 0)
    if chapter == "beyond":
        t, m = c["teacher"], c["mnist"]
        return [f"{WORDS[len(beyond.shown(c))]} rules", f"{WORDS[len(beyond.trained(c))]} tasks",
                f"{WORDS[m['epochs']]} epochs", f"{t['steps'] * t['batch']:,} examples", f"width {t['width']}",
                f"{c['scales']['train_size']:,} training images", f"minibatch of {t['batch']} examples",
                f"minibatches of {m['batch']}", f"{sizes(t['target_sizes'])} tanh network",
                f"{sizes(c['linear']['sizes'])} linear network", f"{sizes(m['sizes'])} logistic network",
                json.dumps(t["rules"]["kolen_pollack"])]
    if chapter == "mnist":
        deep = mnist.learners(c)
        return [f"{WORDS[len(c['rules'])]} variants", f"{WORDS[len(c['rules'])]} learners",
                f"{WORDS[len(deep)]} deep learners", f"{WORDS[len(deep)]} networks", f"{WORDS[len(deep)]} grids",
                f"{WORDS[sum(traits(s).feedback for s in c['rules'].values())]} angle curves",
                f"{c['fields']} hidden units", f"grids of {c['fields']}", f"over {c['epochs']} epochs",
                f"{c['epochs']} epochs (`paper`), {q['epochs']} epochs of {q['train_size']:,} images (`quick`)",
                f"step {c['eta']:g} on the batch-mean loss, batch {c['batch']}",
                f"step × {c['eta_factor']:g} after epochs {' and '.join(map(str, c['eta_drops']))}",
                f"after epoch {' and '.join(map(str, q['eta_drops']))} in `quick`",
                f"$\\beta = {c['rules']['feedback_alignment']['scale']:g}$", f"first {c['angle_size']:,} test images",
                f"{sizes(c['sizes'])} logistic network"]
    if chapter == "linear":
        return [f"{WORDS[len(c['rules'])]} curves", f"{WORDS[len(c['rules'])]} learners",
                f"over {examples} training examples", f"{examples:,} examples, online",
                f"{len(c['search']['grid'])} rates", f"initial weights in ±{c['init_scale']:g}",
                f"{sizes(c['sizes'])} linear network"]
    if chapter == "deep":
        return [f"{WORDS[len(c['rules'])]} rules", f"{c['runs']} (`paper`), {q['runs']} (`quick`)",
                f"at most {examples:,} examples (`quick`: {q['steps'] * q['batch']:,})",
                f"The budget is {examples:,} examples", f"{c['test_size']:,} test points",
                f"{c['patience'] * c['record_every'] * c['batch']:,} examples ({c['patience']} records)",
                f"minibatch of {c['batch']}"]
    if chapter == "mechanics":
        return [f"{sizes(c['sizes'])} units",
                f"$\\eta = {c['eta']:g}$ per minibatch of {c['batch']}; {examples:,} examples",
                f"{c['phase_steps'] * c['batch']:,} examples each", f"{c['units']} evenly spaced units",
                f"{c['runs']} (`paper`), {q['runs']} (`quick`, with {q['steps'] * q['batch']:,} examples and phases "
                f"of {q['phase_steps'] * q['batch']:,})", f"{c['linear']['steps']:,} examples"]
    if chapter == "spiking":
        s = falib.get("spiking-streams").config("paper")
        return [f"{sizes(c['sizes'])} spiking network", f"M = {s['streams'][1]} summed streams",
                f"one pass of the {s['images']:,} training images", f"every {s['test_every']:,} images",
                f"{s['eval_streams']} streams from rest", f"{s['streams'][1]} streams",
                f"the first {c['train_images']:,}"]
    return []


@pytest.mark.parametrize("path", [p for p in CHAPTERS if p.stem in falib.names()], ids=lambda p: p.stem)
def test_the_text_states_settings_and_counts_as_the_configuration_has_them(path):
    said = [markdown(path)] + [m["figure"]["caption"] + " " + m.get("image", {}).get("alt", "") for m in figures(path)]
    text = re.sub(r"\s+", " ", " ".join(said)).lower()
    missing = [phrase for phrase in stated(path.stem) if phrase.lower() not in text]
    assert not missing, (f"{path.name} does not say {missing}, as the configuration of its experiment "
                                   "has it today: update the text (prose, caption or alt text)")


def test_every_citation_is_in_the_bibliography():
    keys = set(re.findall(r"@\w+\{([^,]+),", (ROOT / "references.bib").read_text()))
    pages = CHAPTERS + sorted((ROOT / "chapters").glob("*.md"))
    cited = {k.strip() for p in pages for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", markdown(p))
             for k in group.split(",")}
    assert cited <= keys, f"cited but not in references.bib: {sorted(cited - keys)}"
    bib = (ROOT / "references.bib").read_text()   # the chapters link a work's DOI or arXiv page
    works = {f"https://doi.org/{d}" for d in re.findall(r"doi\s*=\s*\{([^}]+)\}", bib)} | \
        {f"https://arxiv.org/abs/{e}" for e in re.findall(r"eprint\s*=\s*\{([^}]+)\}", bib)}
    linked = {u for p in CHAPTERS for u in re.findall(r"\]\((https://(?:doi\.org|arxiv\.org/abs)/[^)\s]+)\)", markdown(p))}
    assert linked <= works, f"linked but not in references.bib: {sorted(linked - works)}"
    first = (ROOT / "references.bib").read_text().split("@")[1]
    assert first.startswith("article{lillicrap2016,") and "10.1038/ncomms13276" in first, "the paper comes first"


def test_intro_links_every_chapter_and_the_toc_lists_it():
    intro = (ROOT / "chapters" / "intro.md").read_text()
    toc = (ROOT / "_toc.yml").read_text()
    pages = [p for p in sorted((ROOT / "chapters").glob("*")) if p.suffix in (".ipynb", ".md") and p.stem != "intro"]
    assert not [p.name for p in pages if f"]({p.name})" not in intro], "chapters the introduction does not link"
    assert not [p.name for p in pages if f"chapters/{p.stem}\n" not in toc + "\n"], "chapters missing from _toc.yml"
