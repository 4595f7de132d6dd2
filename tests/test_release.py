"""One version, one locked environment: what a release says about itself agrees
(pyproject.toml, the installed metadata, CHANGELOG.md, CITATION.cff, requirements.lock,
environment.yml, the README's quick start)."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

import yaml
from conftest import ROOT

import kvinnofrid

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
VERSION = PYPROJECT["project"]["version"]


def _name(requirement: str) -> str:
    return re.split(r"[=<>!~;\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _lock() -> dict[str, str]:
    lines = (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()
    pins = [line for line in lines if line.strip() and not line.startswith("#")]
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[A-Za-z0-9_.+!\-]+", pin) for pin in pins), "only exact pins"
    return {_name(pin): pin.split("==")[1] for pin in pins}


def test_the_version_has_one_source():
    assert re.fullmatch(r"\d+\.\d+\.\d+", VERSION)
    # reinstall (pip install -e .) after changing the version in pyproject.toml
    assert metadata.version("kvinnofrid") == VERSION == kvinnofrid.__version__
    assert not re.search(r"(?m)^__version__ = \"", (ROOT / "src" / "kvinnofrid" / "__init__.py").read_text())


def test_changelog_and_citation_name_the_version():
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    first = re.search(r"(?m)^## \[(\d+\.\d+\.\d+)\]", changelog)
    assert first and first.group(1) == VERSION, "CHANGELOG.md: the newest release must be the version"
    assert "### Output contract" in changelog[first.start() :].split("\n## [")[0]
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert str(citation["version"]) == VERSION and citation["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    assert PYPROJECT["project"]["license"]["text"] == "MIT"


def test_the_lock_holds_every_pin_of_pyproject_at_the_same_version():
    lock = _lock()
    pins = list(PYPROJECT["project"]["dependencies"])
    pins += [pin for extra in PYPROJECT["project"]["optional-dependencies"].values() for pin in extra]
    for pin in pins:
        name, version = _name(pin), pin.split("==")[1]
        assert lock.get(name) == version, f"{name}: pyproject {version}, requirements.lock {lock.get(name)}"
    assert "kvinnofrid" not in lock


def test_environment_yml_pins_the_locked_versions_and_quarto():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "quarto=1.10.18" in conda
    assert {_name(pin): pin.split("==")[1] for pin in pip} == _lock()
    header = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    python = next(d for d in conda if d.startswith("python="))
    assert f"with Python {python.removeprefix('python=')} " in header


def test_the_quick_start_installs_from_the_lock():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("<!-- quickstart:begin -->")[1].split("<!-- quickstart:end -->")[0]
    assert "-c requirements.lock" in quick
