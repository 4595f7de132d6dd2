"""Shared fixtures: real Snakemake runs of the whole pipeline in scratch directories.

Two runs, each once per test session (`--directory`, so the repository's own results/
interim/ logs/ are never touched and the tests see exactly what a user's
`snakemake --cores all` produces):

* ``pipeline_run``: the shipped demo exports and config.yaml, for the tests of the
  published numbers. Every test module gets its own copy of the run's work folder, so
  a module that runs more targets or reruns steps does not change what another sees.
* ``tiny_run``: the tiny .test/config.yaml (2 units, 37 cases; only the required keys),
  the default target (every national output: tables, figures, report, quality pages,
  trend, Kolada) in about 30 s of CPU, for the tests of the plumbing. ``tiny_copy`` is
  a copy per test, for tests that modify it. (Not the unit reports: with two units in
  the country their tables cannot be protected, see .test/make_data.py.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY_CONFIG = ROOT / ".test" / "config.yaml"


@dataclass(frozen=True)
class PipelineRun:
    workdir: Path
    data_raw: Path
    stdout: str
    stderr: str
    seconds: float = 0.0

    @property
    def results(self) -> Path:
        return self.workdir / "results"

    @property
    def interim(self) -> Path:
        return self.workdir / "interim"

    def copy_to(self, folder: Path) -> PipelineRun:
        """The same run in a copy of its work folder (times kept, so nothing reruns)."""
        shutil.copytree(self.workdir, folder, symlinks=True, dirs_exist_ok=True)
        return PipelineRun(folder, self.data_raw, self.stdout, self.stderr, self.seconds)


def run_snakemake(
    workdir: Path,
    *extra: str,
    data_raw: Path | None = None,
    check: bool = True,
    configfile: Path | None = None,
    pseudonym_key: str | None = None,
):
    """Run the project's Snakefile in ``workdir`` with ``configfile`` (default config.yaml
    on ``data_raw``, default the demo set; another configfile keeps its own data_raw
    unless ``data_raw`` is given). The pseudonymisation key is unset unless given."""
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(configfile or ROOT / "config.yaml"),
        "--cores",
        "2",
    ]
    if configfile is None or data_raw is not None:
        command += ["--config", f"data_raw={data_raw or ROOT / 'data-raw'}"]
    command += list(extra)
    env = {k: v for k, v in os.environ.items() if k != "KVINNOFRID_PSEUDONYM_KEY"}
    if pseudonym_key is not None:
        env["KVINNOFRID_PSEUDONYM_KEY"] = pseudonym_key
    done = subprocess.run(command, capture_output=True, text=True, cwd=workdir, env=env)
    if check and done.returncode != 0:
        raise AssertionError(f"snakemake failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return done


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> PipelineRun:
    """The default run on the demo data; use ``pipeline_run`` (a copy) in tests."""
    workdir = tmp_path_factory.mktemp("pipeline")
    done = run_snakemake(workdir)
    return PipelineRun(workdir, ROOT / "data-raw", done.stdout, done.stderr)


@pytest.fixture(scope="module")
def pipeline_run(demo_run, tmp_path_factory) -> PipelineRun:
    return demo_run.copy_to(tmp_path_factory.mktemp("pipeline-copy"))


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> PipelineRun:
    """The whole DAG on the tiny .test set; read only (``tiny_copy`` to modify)."""
    workdir = tmp_path_factory.mktemp("tiny")
    start = time.monotonic()
    done = run_snakemake(workdir, "--", "all", configfile=TINY_CONFIG)
    return PipelineRun(workdir, ROOT / ".test" / "data-raw", done.stdout, done.stderr, time.monotonic() - start)


@pytest.fixture
def tiny_copy(tiny_run, tmp_path) -> PipelineRun:
    return tiny_run.copy_to(tmp_path / "tiny")
