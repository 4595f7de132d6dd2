"""Which of the package's own files a script or module depends on, derived from its imports.

A Snakemake rule runs a script under ``scripts/``; Snakemake knows the script but not
the package modules it imports, so a changed definition in ``statistics/tables.py``
would leave old tables in place ("Nothing to be done"). Every rule therefore declares
as inputs the files this module finds for its script (``workflow/rules/common.smk``:
``code_of``), and the clean cache keys on the files found for ``stages.batches``
(``stages/batches.py``: ``code_version``). Nothing is listed by hand: a new module is
picked up the moment a script imports it, and a module no script imports reruns nothing.

What counts, for a script or a module, is its closure:

* every module of this package it imports (``import kvinnofrid.x``, ``from
  kvinnofrid.x import y`` where ``y`` may be a module, relative imports), at any depth
  and wherever the import statement stands (the scripts import inside ``main``);
* the ``__init__.py`` of every package on the way, since importing a module runs them;
* every data file of the package that one of those modules names in a string literal
  (``"codebook.yaml"``, ``"diagrams.yaml"``, the ``"templates"`` folder): the files a
  module reads are named in it, so they are found the same way.

The source is read with :mod:`ast`, nothing is imported, and the files are found below
this package's own folder, so the paths are right for an editable install (``src/``)
and an installed one (``site-packages/``) alike. Imports of other packages (polars,
scipy) are not followed: their versions are pinned (pyproject.toml, requirements.lock).
This module imports nothing from the package, so any module may import it.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def module_file(name: str, root: Path = ROOT) -> Path | None:
    """The source file of module ``name`` of the package at ``root`` (its ``__init__.py``
    for a subpackage), or None when no such module exists (an attribute, not a module)."""
    parts = name.split(".")
    if parts[0] != root.name:
        return None
    base = root.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _absolute(node: ast.ImportFrom, module: str | None, path: Path) -> str | None:
    """The absolute module name an ``from … import`` statement reads from."""
    if node.level == 0:
        return node.module
    if module is None:  # a relative import outside the package: not ours
        return None
    package = _package_of(module, path).split(".")
    if node.level > len(package):
        return None
    base = ".".join(package[: len(package) - node.level + 1])
    return f"{base}.{node.module}" if node.module else base


# An import statement at the start of a line, wherever it stands (the scripts import
# inside ``main``), to its end: a parenthesised list and backslash continuations
# included. Finding the statements by their text and parsing only them is about 20
# times faster than walking every file's syntax tree, and Snakemake asks for the
# closures at every start (``workflow/rules/common.smk``: ``code_of``).
_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+[\w.]+[ \t]+import\b|import[ \t]+\w)(?:\([^)]*\)|\\\n|[^\n])*", re.M)


def _imports_of(tree: ast.AST, module: str | None, path: Path) -> set[str]:
    imports: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (base := _absolute(node, module, path)) is not None:
            imports.add(base)
            imports.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return imports


def _statements(text: str) -> ast.Module | None:
    """The file's import statements parsed on their own; None when one of them does not
    parse alone (say, a comment opening a parenthesis), so that the caller reads the
    whole file instead. A docstring line that reads like an import only adds a file."""
    try:
        return ast.parse("\n".join(m.group(0).strip() for m in _IMPORT.finditer(text)))
    except SyntaxError:
        return None


@functools.cache
def _read(path: Path, module: str | None, root: Path) -> tuple[frozenset[str], frozenset[str]]:
    """The package modules one source file imports and the names of the package's data
    files it holds as string literals: read once per file and process (the Snakefile
    asks for every rule's closure; a file whose imports change within a process is not
    read again)."""
    text = path.read_bytes().decode("utf-8")
    imports = _imports_of(_statements(text) or ast.parse(text, filename=str(path)), module, path)
    # the text finds the few files that may name a data file; their syntax tree decides
    # (a name inside a docstring is no literal of its own)
    quoted = [name for name in _data_files(root) if f'"{name}"' in text or f"'{name}'" in text]
    named: set[str] = set()
    if quoted:
        literals = {
            node.value
            for node in ast.walk(ast.parse(text, filename=str(path)))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        }
        named = literals.intersection(quoted)
    return frozenset(name for name in imports if module_file(name, root) is not None), frozenset(named)


def imported_modules(path: Path, module: str | None = None, root: Path = ROOT) -> set[str]:
    """The modules of the package at ``root`` that the source file ``path`` imports
    (directly). ``module`` is the file's own module name, for its relative imports."""
    return set(_read(Path(path), module, Path(root))[0])


@functools.cache
def _data_files(root: Path) -> dict[str, list[Path]]:
    """Every data file and data folder of the package (a folder that is no subpackage),
    by its name."""
    by_name: dict[str, list[Path]] = {}
    for path in sorted(root.rglob("*")):
        if "__pycache__" in path.parts or path.suffix in (".py", ".pyc") or (path / "__init__.py").is_file():
            continue
        by_name.setdefault(path.name, []).append(path)
    return by_name


def _named_data(path: Path, module: str, root: Path) -> set[Path]:
    """The package's data files that module ``module`` (at ``path``) names in a string
    literal (a named folder stands for every file in it)."""
    data = _data_files(root)
    found: set[Path] = set()
    for name in _read(path, module, root)[1]:
        for named in data[name]:
            if named.is_dir():
                found.update(p for p in named.rglob("*") if p.is_file())
            else:
                found.add(named)
    return found


def _with_parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


@functools.cache
def _closure(modules: frozenset[str], root: Path) -> tuple[Path, ...]:
    seen: set[str] = set()
    todo = sorted(modules)
    while todo:
        module = todo.pop()
        for name in _with_parents(module):
            if name in seen or module_file(name, root) is None:
                continue
            seen.add(name)
            todo.extend(imported_modules(module_file(name, root), name, root))
    code = {name: module_file(name, root) for name in seen}
    named = set().union(*(_named_data(path, name, root) for name, path in code.items()))
    return tuple(sorted(set(code.values()) | named))


def closure(modules: Iterable[str], root: Path = ROOT) -> list[Path]:
    """The files of the package at ``root`` that importing ``modules`` runs or reads
    (module docstring), sorted."""
    return list(_closure(frozenset(modules), Path(root)))


def of_script(script: str | Path, root: Path = ROOT) -> list[Path]:
    """The package files a script (outside the package) depends on, through its imports."""
    return closure(imported_modules(Path(script), None, Path(root)), root)


def digest(files: Iterable[Path], root: Path = ROOT) -> str:
    """SHA-256 over the files' paths relative to ``root`` and their content: the same for
    the same code wherever the package is installed."""
    hashed = hashlib.sha256()
    for path in sorted(files):
        hashed.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return hashed.hexdigest()
