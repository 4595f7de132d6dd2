"""Shared fixtures: one real Snakemake run of the whole pipeline on the shipped demo data.

The run happens once per test session in a scratch directory (`--directory`), so the
repository's own results/ interim/ logs/ are never touched and the tests see exactly
what a user's `snakemake --cores all` produces.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class PipelineRun:
    workdir: Path
    data_raw: Path
    stdout: str
    stderr: str

    @property
    def results(self) -> Path:
        return self.workdir / "results"

    @property
    def interim(self) -> Path:
        return self.workdir / "interim"


def run_snakemake(workdir: Path, *extra: str, data_raw: Path | None = None, check: bool = True):
    """Run the project's Snakefile in ``workdir`` on ``data_raw`` (default: the demo set)."""
    command = [
        sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
        "--directory", str(workdir), "--configfile", str(ROOT / "config.yaml"), "--cores", "2",
        "--config", f"data_raw={data_raw or ROOT / 'data-raw'}", *extra,
    ]
    env = {k: v for k, v in os.environ.items() if k != "KVINNOFRID_PSEUDONYM_KEY"}
    done = subprocess.run(command, capture_output=True, text=True, cwd=workdir, env=env)
    if check and done.returncode != 0:
        raise AssertionError(f"snakemake failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return done


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory) -> PipelineRun:
    workdir = tmp_path_factory.mktemp("pipeline")
    done = run_snakemake(workdir)
    return PipelineRun(workdir, ROOT / "data-raw", done.stdout, done.stderr)
