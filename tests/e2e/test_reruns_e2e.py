"""A change reruns what it affects and nothing else (docs/reruns.md), with the package
installed non-editable, as `pip install .` installs it.

The package's wheel is built once from a copy of the source and installed into a folder
of its own (`pip install --target`; installed again later to check that the same
version reruns nothing), which comes first on PYTHONPATH for Snakemake and its jobs:
the rules' `code` inputs are then that folder's files, the layout of site-packages, and
the test can change them without touching the repository (other tests run beside it).
The jobs that ran are the benchmark files written during a run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.paths import ROOT, TINY_CONFIG

pytestmark = pytest.mark.e2e

UPSTREAM = {"clean", "compile", "compile_round", "derive", "quality"}


def _wheel(work: Path) -> Path:
    """The package's wheel, built from a copy of the source as a user's `pip install .`
    builds it: with the build backend of pyproject.toml."""
    source = work / "source"
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(work / "dist")]
    done = subprocess.run([*command, str(source)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return next((work / "dist").glob("kvinnofrid-*.whl"))


def _install(target: Path, wheel: Path) -> None:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--upgrade", "--target", str(target)]
    done = subprocess.run([*command, str(wheel)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]


class Installed:
    def __init__(self, folder: Path):
        self.site = folder / "site-packages"
        self.workdir = folder / "work"
        self.workdir.mkdir()
        self.wheel = _wheel(folder)
        _install(self.site, self.wheel)
        self.env = {k: v for k, v in os.environ.items() if k != "KVINNOFRID_PSEUDONYM_KEY"}
        self.env["PYTHONPATH"] = str(self.site)

    def run(self, *extra: str) -> set[str] | None:
        """Run Snakemake; the rules of the jobs that ran (their benchmark files are new)."""
        since = time.time() - 1
        time.sleep(1.1)  # a job of this run ends later than every file of the last one
        command = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile")]
        command += ["--configfile", str(TINY_CONFIG), "--cores", "2", *extra]
        done = subprocess.run(command, cwd=self.workdir, env=self.env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-4000:]
        benchmarks = self.workdir / "logs" / "benchmarks"
        return {
            p.relative_to(benchmarks).parts[0].removesuffix(".tsv")
            for p in benchmarks.rglob("*.tsv")
            if p.stat().st_mtime >= since + 1
        }

    def change(self, module: str) -> None:
        path = self.site / "kvinnofrid" / module
        path.write_text(path.read_text(encoding="utf-8") + "\n# changed by the test\n", encoding="utf-8")

    def state(self) -> dict[str, int]:
        return {
            p.relative_to(self.workdir).as_posix(): p.stat().st_mtime_ns
            for folder in ("results", "interim", "build", "logs")
            for p in (self.workdir / folder).rglob("*")
            if p.is_file()
        }


def test_a_change_reruns_exactly_what_it_affects_with_the_package_installed(tmp_path):
    installed = Installed(tmp_path)
    where = subprocess.run(
        [sys.executable, "-c", "import kvinnofrid.sources as s; print(s.ROOT)"],
        env=installed.env,
        capture_output=True,
        text=True,
    )
    assert Path(where.stdout.strip()) == installed.site / "kvinnofrid"  # not the repository's src/

    assert {"clean", "tables", "render_report"} <= installed.run()

    # nothing changed: nothing runs, and neither a dry run nor --lint touches a file
    finished = installed.state()
    assert installed.run() == set()
    installed.run("-n")
    installed.run("--lint")
    assert installed.state() == finished

    # the same version installed again: every file is new, none is different
    _install(installed.site, installed.wheel)
    assert installed.run() == set()

    # a module one rule uses reruns that rule and nothing else
    installed.change("reporting/workbook.py")
    assert installed.run() == {"workbook"}

    # a statistics module: the tables and what follows, never ingest and clean
    installed.change("statistics/tables.py")
    ran = installed.run()
    assert {"tables", "statistics", "facts", "figures", "trend", "report_text", "render_report"} <= ran
    assert not ran & UPSTREAM, f"{sorted(ran & UPSTREAM)} reran after a change in statistics/tables.py"

    # an ingest module: every clean batch, none of its files taken from the clean cache
    installed.change("stages/ingest.py")
    ran = installed.run("compile")
    assert {"clean", "compile"} <= ran
    logs = sorted((installed.workdir / "logs" / "clean").rglob("*.log"))
    assert logs and all("0 från cachen" in log.read_text(encoding="utf-8") for log in logs)
