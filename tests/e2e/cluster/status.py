#!/usr/bin/env python3
"""The status command beside submit.py (a local stand-in for `sacct`): prints
`running`, `success` or `failed` for the job id Snakemake gives, as the
cluster-generic executor expects. A job id submit.py never gave is `failed`."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from submit import state_folder


def status(job_id: str, state: Path) -> str:
    code = state / f"{job_id}.rc"
    if code.is_file():
        return "success" if code.read_text().strip() == "0" else "failed"
    return "running" if (state / f"{job_id}.log").is_file() else "failed"


if __name__ == "__main__":
    print(status(sys.argv[-1], state_folder()))
