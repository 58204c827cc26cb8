"""A real JupyterLab on localhost, driven by headless Chromium: open a notebook, run every cell,
and read back what its markdown cells show (as the jupyterlab-myst extension renders them) and
what the notebook's inline expressions are worth in its kernel.

JupyterLab 4 renders only the cells in view unless the notebook's ``windowingMode`` is "none",
so the server gets a settings folder of its own that says so (and turns autosave off). The page
exposes JupyterLab's application (``window.jupyterapp``): what a notebook's kernel and cells are
is read from it, not guessed from how the page draws them.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

SETTINGS = {"@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
            "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
            "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False}}

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"   # the notebook in view
# What the open notebook shows: each markdown cell's text and the references jupyterlab-myst could
# not resolve in it, how many cells are queued or running, whether any has run, how many code cells
# have not run, and their errors.
READ = r"""() => {
  const panel = document.querySelector('%s');
  const prompts = [...panel.querySelectorAll('.jp-InputPrompt')].map(p => p.textContent);
  return {
    markdown: [...panel.querySelectorAll('.jp-MarkdownCell')].map(c => ({
        text: (c.querySelector('.jp-MarkdownOutput') || c).innerText,
        unresolved: [...c.querySelectorAll('[title$="Not Found"]')].map(e => `${e.title}: ${e.innerText}`)})),
    running: prompts.filter(p => p.includes('[*]')).length,
    started: prompts.some(p => /\[(\*|\d+)\]/.test(p)),
    // from the notebook's model: JupyterLab draws an error like text on stderr
    ...(() => {
      const cells = [...window.jupyterapp.shell.currentWidget.content.model.cells].filter(c => c.type === 'code');
      return {unrun: cells.filter(c => c.executionCount === null).length,
              errors: cells.flatMap(c => c.outputs.toJSON()).filter(o => o.output_type === 'error')
                  .map(o => `${o.ename}: ${o.evalue}`.slice(0, 800))};
    })(),
  };
}""" % PANEL


# Whether the notebook in view has joined its kernel (JupyterLab's own state: the toolbar's status
# reads "idle" before it has).
JOINED = """() => {
  const context = window.jupyterapp?.shell.currentWidget?.sessionContext;
  const kernel = context?.session?.kernel;
  return Boolean(kernel && kernel.connectionStatus === 'connected' && !context.hasNoKernel);
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """`jupyter lab` serving folder `root` on 127.0.0.1, without a token, with settings of its own.

    The kernels inherit `env` (on top of this process's environment).
    """

    def __init__(self, root: Path, env: dict | None = None):
        self.root = root
        self.dir = Path(tempfile.mkdtemp(prefix="falib-lab-"))
        for name, value in SETTINGS.items():
            file = self.dir / "settings" / f"{name}.jupyterlab-settings"
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(json.dumps(value))
        self.runtime = self.dir / "runtime"
        self.url = f"http://127.0.0.1:{_free_port()}/"
        self.log = open(self.dir / "lab.log", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
             f"--port={self.url.rstrip('/').rsplit(':', 1)[1]}", "--ServerApp.token=",
             "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True", "--allow-root",
             "--LabApp.expose_app_in_browser=True",
             f"--ServerApp.root_dir={root}"],
            env={**os.environ, **(env or {}), "JUPYTERLAB_SETTINGS_DIR": str(self.dir / "settings"),
                 "JUPYTER_RUNTIME_DIR": str(self.runtime), "JUPYTER_CONFIG_DIR": str(self.dir / "config")},
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while time.time() < deadline and self.process.poll() is None:
            try:
                urllib.request.urlopen(self.url + "api/status", timeout=2)
                return
            except OSError:
                time.sleep(0.5)
        self.close()
        raise RuntimeError(f"JupyterLab did not start on {self.url}: see its log above")

    def api(self, path: str, method: str = "GET", body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + "api/" + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as r:
            reply = r.read()
        return json.loads(reply) if reply else None

    def start_kernel(self, path: str):
        """Start the session of notebook `path` with its own kernel ("python3"). JupyterLab then joins
        that session when it opens the notebook; left to itself it asks which kernel to start when
        the list of kernels arrives after the notebook (as it can on a fresh machine)."""
        self.api("sessions", "POST", {"path": path, "name": Path(path).name, "type": "notebook",
                                      "kernel": {"name": "python3"}})

    def values(self, path: str, expressions: list[str]) -> dict[str, str | None]:
        """What each expression shows in the kernel of notebook `path` (text, as jupyterlab-myst
        evaluates it: a kernel user expression, a string without its quotes; None if it fails)."""
        from jupyter_client import BlockingKernelClient

        session = next(s for s in self.api("sessions") if s["path"] == path)
        client = BlockingKernelClient(connection_file=str(self.runtime / f"kernel-{session['kernel']['id']}.json"))
        client.load_connection_file()
        client.start_channels()
        try:
            msg = client.execute("", store_history=False, user_expressions={str(i): e for i, e in enumerate(expressions)})
            while (reply := client.get_shell_msg(timeout=60))["parent_header"].get("msg_id") != msg:
                pass
        finally:
            client.stop_channels()
        shown = {}
        for i, result in reply["content"]["user_expressions"].items():
            text = result.get("data", {}).get("text/plain") if result["status"] == "ok" else None
            shown[expressions[int(i)]] = text[1:-1] if text and text[0] in "'\"" and text[-1] == text[0] else text
        return shown

    def shut_down(self, path: str):
        """End the sessions of notebook `path` (one that ended already is no error)."""
        for s in self.api("sessions"):
            if s["path"] == path:
                try:
                    self.api(f"sessions/{s['id']}", "DELETE")
                except urllib.error.HTTPError as e:
                    if e.code != 404:
                        raise

    def close(self):
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
        sys.stdout.write((self.dir / "lab.log").read_text()[-3000:] if self.process.returncode not in (0, -15) else "")


def _dismiss_dialogs(page, seen: list[str]):
    """Accept any dialog JupyterLab shows, remembering its text: a dialog can open at any moment
    and would otherwise swallow the clicks that follow. A "Select Kernel" dialog gets the
    notebook's own kernel ("python3"; its default can be "No Kernel", which ends the session)."""
    for _ in range(10):
        dialog = page.locator(".jp-Dialog")
        if not dialog.count():
            return
        seen.append(" ".join(dialog.first.inner_text().split())[:300])
        kernels = dialog.first.locator("select")
        if kernels.count():
            kernels.first.select_option(value=json.dumps({"name": "python3"}, separators=(",", ":")))
        accept = dialog.first.locator(".jp-mod-accept")
        if accept.count():
            accept.first.click(timeout=5_000)
        else:
            page.keyboard.press("Escape")
        time.sleep(1)
    raise RuntimeError(f"a JupyterLab dialog does not close: {seen[-1]}")


def _join(page, seen: list[str], timeout: float = 180):
    """Wait until the notebook in view has joined its kernel, answering dialogs meanwhile: a cell
    run while it still has "No Kernel" asks which kernel to start, a dialog per code cell (on a
    slow fresh machine, where the last two CI runs failed on it)."""
    deadline = time.time() + timeout
    while not page.evaluate(JOINED):
        if time.time() > deadline:
            raise TimeoutError(f"the notebook has no kernel after {timeout} s; dialogs shown: {seen}")
        _dismiss_dialogs(page, seen)
        page.wait_for_timeout(500)


def _serve(lab: Lab, late: tuple[str, ...], seconds: float):
    """A route handler that lets the page reach only the lab (and data: URLs), and answers its
    requests to each API path in `late`, from the second on, only `seconds` from now: the app
    starts with the first, and a slow server keeps an opened notebook waiting for its session. Held
    requests go on with the first request after that (JupyterLab polls the server)."""
    held, seen, start = [], set(), time.time()

    def handle(route):
        if time.time() - start > seconds:
            while held:
                held.pop().continue_()
        url = route.request.url
        path = next((p for p in late if url.startswith(f"{lab.url}api/{p}")), None)
        if not url.startswith((lab.url, "data:")):
            route.abort()
        elif path and path in seen and time.time() - start <= seconds:
            held.append(route)
        else:
            seen.add(path)
            route.continue_()
    return handle


def run_notebook(browser, lab: Lab, path: str, timeout: float = 900, screenshot: Path | None = None,
                 late: tuple[str, ...] = (), seconds: float = 0) -> dict:
    """Open `path` (relative to the lab's root) in a fresh page, run all cells, wait until none is
    running, and return what the notebook shows (READ), with the text of any dialog it dismissed.
    The page gets the server's later answers to the API paths `late` after `seconds` (see `_serve`)."""
    from playwright.sync_api import Error as PlaywrightError

    lab.start_kernel(path)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.route("**/*", _serve(lab, late, seconds))
    dialogs: list[str] = []
    try:
        page.goto(f"{lab.url}lab/tree/{path}?reset", wait_until="load", timeout=120_000)
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
        _join(page, dialogs)
        deadline = time.time() + timeout
        while not (state := page.evaluate(READ))["started"]:   # a kernel still starting ignores "Run All"
            if time.time() > deadline:
                raise TimeoutError(f"{path}: no cell ran; dialogs shown: {dialogs}")
            try:
                _dismiss_dialogs(page, dialogs)
                page.click(".lm-MenuBar-itemLabel:text-is('Run')", timeout=10_000)
                page.click(".lm-Menu-itemLabel:text-is('Run All Cells')", timeout=10_000)
            except PlaywrightError:   # a dialog opened between the look and the click: look again
                if not page.locator(".jp-Dialog").count():
                    page.keyboard.press("Escape")   # close the menu if it is open
                continue
            time.sleep(5)
        while state["running"]:
            if time.time() > deadline:
                raise TimeoutError(f"{path}: cells still running after {timeout} s; dialogs shown: {dialogs}")
            _dismiss_dialogs(page, dialogs)
            time.sleep(2)
            state = page.evaluate(READ)
        page.wait_for_selector(f"{PANEL} .jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
        time.sleep(2)   # markdown cells evaluate their inline expressions once the kernel is idle
        return {**page.evaluate(READ), "dialogs": dialogs}
    finally:
        if screenshot:
            page.screenshot(path=str(screenshot), full_page=True)
        page.close()
