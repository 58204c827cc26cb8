"""Load built book pages in headless Chromium and report what a reader would see broken.

A page passes when every image loaded, every expected figure is there, MathJax typeset every
formula (no raw TeX, no MathJax error), the console stayed free of errors, and no cell printed a
traceback or error output. MathJax is served from a local copy in place of its CDN, so the check
needs no internet; the published pages keep their CDN link.
"""
from __future__ import annotations

import functools
import http.server
import json
import threading
from pathlib import Path

MIN_SCALE = 0.9   # figures are drawn at the column's width (falib.plots.WIDTH): shown at >= 90%
MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# What the page shows, measured in the page after MathJax has finished.
MEASURE = """() => {
  const main = document.querySelector('main') || document.body;
  const imgs = [...main.querySelectorAll('img')];
  const prose = main.cloneNode(true);   // the text outside code, where raw TeX or Markdown is a bug
  prose.querySelectorAll('pre, code, .highlight, .sig, script, style').forEach(e => e.remove());
  const text = prose.textContent;
  return {
    images: imgs.map(i => ({src: i.getAttribute('src'), width: i.naturalWidth, complete: i.complete})),
    figures: [...main.querySelectorAll('figure')].map(f => ({
        id: f.id, loaded: [...f.querySelectorAll('img')].some(i => i.naturalWidth > 0),
        scale: Math.min(...[...f.querySelectorAll('img')].map(i => i.width / (i.naturalWidth || 1)))})),
    unnumbered: [...main.querySelectorAll('.cell_output img')]   // exercise solutions are not the book's figures
        .filter(i => !i.closest('figure') && !i.closest('.solution'))
        .map(i => i.getAttribute('src')),
    rawMarkdown: ['|---', '|:--', '**'].filter(s => text.includes(s)),
    rawMath: ['\\\\(', '\\\\[', '$$', '\\\\begin{', '\\\\frac'].filter(s => text.includes(s)),
    mathErrors: main.querySelectorAll('mjx-merror, .MathJax_Error').length,
    typeset: main.querySelectorAll('mjx-container').length,
    errorOutputs: [...main.querySelectorAll('.output.traceback, .output.error, .output.stderr')]
        .map(e => e.innerText.slice(0, 300)),
  };
}"""


def expected_figures(source: Path) -> list[str]:
    """The labels of the figures a chapter's notebook declares (myst-nb cell metadata)."""
    if source.suffix != ".ipynb":
        return []
    cells = json.loads(source.read_text())["cells"]
    return [c["metadata"]["mystnb"]["figure"]["name"] for c in cells
            if "figure" in c.get("metadata", {}).get("mystnb", {})]


class Server:
    """The built book over HTTP on localhost, as a reader's browser gets it."""

    def __init__(self, root: Path):
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def route(page, mathjax: Path, local: str, blocked: list[str]):
    """Serve MathJax's CDN files from `mathjax` (its es5/ folder); refuse anything else off the host."""
    def handle(r):
        url = r.request.url
        if url.startswith(MATHJAX_CDN):
            file = mathjax / url[len(MATHJAX_CDN):].split("?")[0]
            return r.fulfill(path=str(file)) if file.is_file() else r.fulfill(status=404)
        if url.startswith(local) or url.startswith("data:"):
            return r.continue_()
        blocked.append(url)
        return r.abort()
    page.route("**/*", handle)


def check(browser, url: str, mathjax: Path, figures: list[str], screenshot: Path | None = None) -> list[str]:
    """Everything wrong with the page at `url` (an empty list when it is as it should be)."""
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    errors, blocked = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    route(page, mathjax, url.split("/chapters/")[0], blocked)
    try:
        page.goto(url, wait_until="load")
        page.wait_for_selector("main")
        if page.query_selector("script[src*='mathjax']"):
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                                   timeout=30_000)
            page.evaluate("() => MathJax.startup.promise")
        seen = page.evaluate(MEASURE)
        if screenshot:
            page.screenshot(path=str(screenshot))
    finally:
        page.close()
    problems = [f"console error: {e}" for e in errors]
    problems += [f"request off the local server: {u}" for u in blocked]
    problems += [f"image did not load: {i['src']}" for i in seen["images"] if not i["width"]]
    problems += [f"raw TeX left in the text: {s!r}" for s in seen["rawMath"]]
    problems += [f"raw Markdown left in the text: {s!r}" for s in seen["rawMarkdown"]]
    problems += [f"{seen['mathErrors']} formula(s) MathJax could not typeset"] if seen["mathErrors"] else []
    problems += [f"error output in a cell: {t!r}" for t in seen["errorOutputs"]]
    problems += [f"an output image that is not a numbered figure (give its cell myst-nb figure metadata): {s}"
                 for s in seen["unnumbered"]]
    found = {f["id"]: f["loaded"] for f in seen["figures"]}
    problems += [f"figure {name} is missing" for name in figures if name not in found]
    problems += [f"figure {name} has no loaded image" for name in figures if found.get(name) is False]
    problems += [f"figure {f['id']} is shrunk to {f['scale']:.0%} of its drawn size: its text is too small to read"
                 for f in seen["figures"] if f["loaded"] and f["scale"] < MIN_SCALE]
    if len(found) != len(figures):
        problems.append(f"{len(found)} figures on the page, {len(figures)} expected ({sorted(found)})")
    return problems
