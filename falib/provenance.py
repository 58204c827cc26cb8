"""Where results come from: the code that computed them, the machine and the library versions.

The code fingerprint is a SHA-256 of the source of an experiment's module and of every falib
module it imports, directly or not (presentation-only modules excepted): editing any of them
changes the fingerprint, editing a plot or a claim does not.
"""
from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
import os
import platform
import subprocess
import threading
import time
from importlib import metadata
from pathlib import Path

import numpy as np

PACKAGE = Path(__file__).resolve().parent
PARSING = threading.Lock()   # ast.parse is not thread-safe in some Python releases (a Dask worker runs threads)
PRESENTATION = {"falib.plots", "falib.book", "falib.claims", "falib.results", "falib.provenance"}


def _imports(path: Path, module: str) -> set[str]:
    """The falib modules that the source at `path` (module `module`) imports."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    with PARSING:
        tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) \
                if node.level else node.module or ""
            found |= {base} | {f"{base}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m.split(".")[0] == "falib"}


def _source(module: str) -> Path | None:
    """The file of falib module `module`, or None if `module` names no module (a function, say)."""
    parts = module.split(".")[1:]
    for path in (PACKAGE.joinpath(*parts, "__init__.py"), PACKAGE.joinpath(*parts).with_suffix(".py")):
        if path.is_file():
            return path
    return None


def fingerprint(module: str, path: str | os.PathLike | None = None) -> str:
    """A short SHA-256 of the source of `module` (at `path`, or found in falib) and of the falib
    modules it imports, transitively; read afresh on every call, so an edit shows at once."""
    start = Path(path) if path is not None else _source(module)
    todo, seen, h = [(module, start)], {}, hashlib.sha256()
    while todo:
        name, file = todo.pop()
        if file is None or name in seen or name in PRESENTATION:
            continue
        seen[name] = file
        todo += [(m, _source(m)) for m in _imports(file, name)]
    for name in sorted(seen):
        h.update(name.encode() + b"\0" + seen[name].read_bytes() + b"\0")
    return h.hexdigest()[:16]


def code(module: str) -> str:
    """The fingerprint of the code that computes with `module`, as this process finds it."""
    return fingerprint(module, getattr(importlib.import_module(module), "__file__", None))


def identity(module: str) -> dict:
    """What this process computes `module` with: the code's fingerprint and the library versions.
    A Dask worker runs it to say what it computes with (see :mod:`falib.engines`)."""
    return {"code": code(module), **versions()}


def git_commit() -> str | None:
    """The commit of the git checkout that falib is part of, with ``+dirty`` if falib's files differ
    from it; None if falib is not tracked by a checkout."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=PACKAGE, capture_output=True, text=True, timeout=10)

    try:
        head = git("rev-parse", "HEAD")
        if head.returncode or git("ls-files", "--error-unmatch", str(PACKAGE / "__init__.py")).returncode:
            return None   # not in a checkout, or in one that does not track falib (an installed copy)
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", str(PACKAGE)).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty else "")


def versions() -> dict:
    """NumPy's and (if installed) PyTorch's version, read without importing PyTorch."""
    try:
        torch_version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch_version = None
    return {"numpy": np.__version__, "torch": torch_version}


def machine(device: str) -> dict:
    """This machine and, for CUDA, the GPU's name."""
    found = {"machine": f"{platform.machine()}, {os.cpu_count()} CPU threads",
             "created": time.strftime("%Y-%m-%d")}
    if device == "cuda":
        import torch
        found["gpu"] = torch.cuda.get_device_name()
    return found
