"""Where results come from: the code that computed them, the machine and the library versions.

The code fingerprint of a computation (``"module:function"``) is a SHA-256 of the definitions
that function reaches in its own module and in the experiment modules it uses (functions,
classes, constants: name by name, with every other top-level statement of their module), and of every other falib module they import, directly or
not, whole (presentation-only modules excepted); each as its syntax tree, without docstrings,
comments or layout, and without a class's `LOOKS` (a rule's label and colour). Editing what any
of them computes changes the fingerprint; editing a claim, the prose or a figure beside them, how
figures show a rule, a docstring or a comment does not. A bare module name fingerprints the
module whole.
"""
from __future__ import annotations

import ast
import copy
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
LOOKS = {"label", "color"}   # class attributes that say how figures show a class (a rule), never what it computes


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
    """The file of falib module `module`, or None if `module` names no falib module (a function, say)."""
    if module.split(".")[0] != "falib":
        return None
    parts = module.split(".")[1:]
    for path in (PACKAGE.joinpath(*parts, "__init__.py"), PACKAGE.joinpath(*parts).with_suffix(".py")):
        if path.is_file():
            return path
    return None


def _index(path: Path, module: str) -> tuple[dict[str, list[ast.AST]], dict[str, str], list[ast.AST]]:
    """A module's top-level definitions by name, what its imported names stand for
    (``"falib.x"`` for a module, ``"falib.x:name"`` for a name in one), and its other top-level
    statements (a call, an ``if`` or ``try`` block, an augmented assignment: any may change what
    a definition computes, so each is part of every fingerprint of the module)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    with PARSING:
        tree = ast.parse(path.read_text())
    defs, imported, other = {}, {}, []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defs.setdefault(node.name, []).append(node)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        defs.setdefault(name.id, []).append(node)
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) \
                if node.level else node.module or ""
            for a in node.names:
                full = f"{base}.{a.name}"
                imported[a.asname or a.name] = full if _source(full) else f"{base}:{a.name}"
        elif isinstance(node, ast.Import):
            imported |= {a.asname or a.name.split(".")[0]: a.name if a.asname else a.name.split(".")[0]
                         for a in node.names}
        elif not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                  and isinstance(node.value.value, str)):   # a docstring computes nothing
            other.append(node)
    return defs, imported, other


def _uses(nodes: list[ast.AST], imported: dict[str, str]) -> set[str]:
    """The names `nodes` use, with ``module.attr`` of an imported module as ``"module:attr"``."""
    found, bases = set(), set()
    for node in nodes:
        for n in ast.walk(node):
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in imported \
                    and ":" not in imported[n.value.id]:
                found.add(f"{imported[n.value.id]}:{n.attr}")
                bases.add(id(n.value))
            elif isinstance(n, ast.Name) and id(n) not in bases:
                found.add(n.id)
    return found


def _code(node: ast.AST) -> str:
    """What `node` computes: its syntax tree without docstrings, comments, layout or a class's `LOOKS`."""
    node = copy.deepcopy(node)
    for n in ast.walk(node):
        body = getattr(n, "body", None)
        if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body \
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            n.body = body = body[1:] or [ast.Pass()]
        if isinstance(n, ast.ClassDef):
            n.body = [s for s in body if not _look(s)] or [ast.Pass()]
    return ast.dump(node)


def _look(statement: ast.AST) -> bool:
    """Whether `statement`, in a class's body, only sets or declares one of `LOOKS`."""
    targets = statement.targets if isinstance(statement, ast.Assign) else \
        [statement.target] if isinstance(statement, ast.AnnAssign) else []
    return bool(targets) and all(isinstance(t, ast.Name) and t.id in LOOKS for t in targets)


def _by_name(module: str) -> bool:
    """Whether `module` is fingerprinted definition by definition: an experiment module (where the
    claims, prose and figures sit beside the computation) or a module outside falib."""
    return module.startswith("falib.experiments.") or module.split(".")[0] != "falib"


def fingerprint(target: str, path: str | os.PathLike | None = None) -> str:
    """A short SHA-256 of the code of `target` (``"module:function"``, or a module) and of all it
    reaches (see above); `path` is the file of its module if not found in falib. Read afresh on
    every call, so an edit shows at once."""
    files = {target.partition(":")[0]: Path(path) if path is not None else _source(target.partition(":")[0])}
    todo, parts = [target], {}
    while todo:
        item = todo.pop()
        module, _, name = item.partition(":")
        file = files.setdefault(module, _source(module))
        if item in parts or module in PRESENTATION or file is None:
            continue
        if name and _by_name(module):
            defs, imported, other = _index(file, module)
            nodes = other + defs.get(name, [])
            parts[item] = "\0".join(_code(n) for n in nodes).encode()
            for used in _uses(nodes, imported):
                if used in defs:
                    todo.append(f"{module}:{used}")
                elif used in imported or ":" in used:
                    todo.append(imported.get(used, used))
        elif name:
            parts[item], todo = b"", todo + [module]
        else:
            with PARSING:
                parts[item] = _code(ast.parse(file.read_text())).encode()
            todo += sorted(_imports(file, module))
    h = hashlib.sha256()
    for item in sorted(parts):
        h.update(item.encode() + b"\0" + parts[item] + b"\0")
    return h.hexdigest()[:16]


def code(target: str) -> str:
    """The fingerprint of the code of `target` (``"module:function"``, or a module), as this process finds it."""
    module = target.partition(":")[0]
    inside = _source(module) is not None
    return fingerprint(target, None if inside else getattr(importlib.import_module(module), "__file__", None))


def target(function) -> str:
    """``"module:function"`` for a module-level function."""
    return f"{function.__module__}:{function.__qualname__}"


def identity(target: str) -> dict:
    """What this process computes `target` with: the code's fingerprint and the library versions.
    A Dask worker runs it to say what it computes with (see :mod:`falib.engines`)."""
    return {"code": code(target), **versions()}


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
