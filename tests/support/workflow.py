"""Real Snakemake runs of the project's workflow in scratch folders (``--directory``, so
the repository's own results/ interim/ logs/ are never touched)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from support.paths import ROOT


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
