"""What a script depends on is derived from its imports (kvinnofrid.sources): on a tiny
hand-made package, on the real scripts, and in the rule files that declare it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from support.paths import ROOT

from kvinnofrid import sources
from kvinnofrid.stages import batches

PACKAGE_FILES = {
    "__init__.py": "",
    "a.py": "from . import c\n\n\ndef f():\n    from pkg import b\n\n    return b\n",
    "b.py": 'import polars\n\nNAME = "data.yaml"\n',
    "c.py": "X = 1\n",
    "data.yaml": "x: 1\n",
    "unused.py": "import pkg.b\n",
    "sub/__init__.py": "",
    "sub/d.py": 'from ..a import f\nfrom pkg.c import X\n\nFOLDER = "templates"\n',
    "sub/templates/page.html.j2": "<p>{{ x }}</p>\n",
    "sub/templates/part.html.j2": "<i></i>\n",
    "stuff/__init__.py": "",  # a subpackage named in a string is no data folder
    "e.py": 'KIND = "stuff"\n',
}


@pytest.fixture()
def package(tmp_path) -> Path:
    root = tmp_path / "pkg"
    for name, text in PACKAGE_FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _names(files, root: Path) -> list[str]:
    return [f.relative_to(root).as_posix() for f in files]


def test_a_scripts_closure_is_every_module_it_imports_at_any_depth_and_the_data_they_name(package, tmp_path):
    script = tmp_path / "script.py"
    script.write_text("import json\n\n\ndef main():\n    from pkg.sub import d\n")
    assert _names(sources.of_script(script, package), package) == [
        "__init__.py",
        "a.py",  # relative import from sub/d.py
        "b.py",  # imported inside a function of a.py
        "c.py",  # `from . import c`: a module, not an attribute
        "data.yaml",  # named in b.py
        "sub/__init__.py",
        "sub/d.py",
        "sub/templates/page.html.j2",  # the folder sub/d.py names
        "sub/templates/part.html.j2",
    ]
    (tmp_path / "other.py").write_text("from pkg import e\n")
    assert _names(sources.of_script(tmp_path / "other.py", package), package) == ["__init__.py", "e.py"]


def test_the_digest_follows_the_content_not_where_the_package_is_installed(package, tmp_path):
    copy = tmp_path / "site-packages" / "pkg"
    shutil.copytree(package, copy)
    digest = sources.digest(sources.closure(["pkg.a"], package), package)
    assert sources.digest(sources.closure(["pkg.a"], copy), copy) == digest
    (copy / "c.py").write_text("X = 2\n")
    assert sources.digest(sources.closure(["pkg.a"], copy), copy) != digest
    (copy / "unused.py").write_text("changed = True\n")  # not in the closure: no effect
    (copy / "c.py").write_text("X = 1\n")
    assert sources.digest(sources.closure(["pkg.a"], copy), copy) == digest


def _closure_of(script: str) -> set[str]:
    return set(_names(sources.of_script(ROOT / "scripts" / f"{script}.py"), sources.ROOT))


def test_the_real_scripts_depend_on_what_they_use_and_nothing_else():
    tables, clean = _closure_of("tables"), _closure_of("clean")
    assert {"statistics/tables.py", "spec/codebook.yaml", "spec/diagrams.yaml", "scriptrunner.py"} <= tables
    assert not {p for p in tables if p.startswith(("stages/ingest", "stages/clean", "reporting/", "disclosure/"))}
    assert {"stages/ingest.py", "stages/clean.py", "stages/batches.py", "spec/codebook.yaml", "spec/rules.py"} <= clean
    assert not {p for p in clean if p.startswith(("statistics/", "reporting/", "disclosure/", "demo/"))}
    assert "stages/templates/quality_unit.html.j2" in _closure_of("quality")
    # a module no script imports reruns nothing
    used = set().union(*(_closure_of(p.stem) for p in (ROOT / "scripts").glob("*.py")))
    assert {"cli.py", "benchmark.py", "settings.py"}.isdisjoint(used)


def test_the_clean_cache_keys_on_the_same_derived_closure():
    # batches.code_version digests kvinnofrid.stages.batches' closure, which clean's script imports
    cache_code = set(_names(sources.closure(["kvinnofrid.stages.batches"]), sources.ROOT))
    assert cache_code <= _closure_of("clean")
    # spec/municipalities (via stages/unit_parts) changes cleaned files: the hand-kept list missed it
    assert {"stages/ingest.py", "stages/unit_parts.py", "spec/municipalities.py", "spec/codebook.yaml"} <= cache_code
    assert re.fullmatch(r"[0-9a-f]{64}", batches.code_version())


def _rule_blocks() -> dict[str, str]:
    blocks = {}
    for smk in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        for match in re.finditer(r"^(?:rule|checkpoint) (\w+):\n((?:[ \n].*\n?)*)", smk.read_text(), re.M):
            blocks[match.group(1)] = match.group(2)
    return blocks


def test_every_rule_with_a_script_declares_its_code_its_benchmark_and_its_software():
    blocks = _rule_blocks()
    with_script = {rule: block for rule, block in blocks.items() if "    script:" in block}
    assert len(with_script) >= 20
    for rule, block in with_script.items():
        script = re.search(r'scripts/(\w+)\.py"', block).group(1)
        assert f'code=code_of("{script}")' in block, f"rule {rule}: input code=code_of({script!r}) is missing"
        assert re.search(rf'benchmark:\n\s+"logs/benchmarks/{rule}[/.]', block), f"rule {rule}: benchmark missing"
        assert "conda:\n        SOFTWARE_ENV" in block, f"rule {rule}: conda: SOFTWARE_ENV missing"


def test_imports_written_over_several_lines_or_after_a_confusing_comment_are_found(tmp_path):
    """The import statements are found by their text (fast); what the text cannot settle
    falls back to the file's syntax tree, and a name in a docstring is no data file."""
    root = tmp_path / "pkg"
    files = {
        "__init__.py": '"""Reads ``"data.yaml"``, says the docstring, but this module does not."""\n',
        "a.py": "from pkg.b import (\n    X,\n    Y,\n)\nimport pkg.c \\\n    as c\n",
        "b.py": "X = Y = 1\n",
        # the comment's "(" takes the statement on to the next ")", which does not parse
        "c.py": 'from pkg import d  # see (\nX = [len(""),\n     2]\n',
        "d.py": "import json\n",
        "e.py": "'''\nfrom pkg import d\n'''\n",  # reads like an import: only adds a file
        "data.yaml": "x: 1\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    assert _names(sources.closure(["pkg.a"], root), root) == ["__init__.py", "a.py", "b.py", "c.py", "d.py"]
    assert _names(sources.closure(["pkg.e"], root), root) == ["__init__.py", "d.py", "e.py"]
