#!/usr/bin/env python3
"""A local stand-in for `sbatch`, for testing the workflow under Snakemake's
cluster-generic executor (tests/e2e/test_cluster_e2e.py):

    snakemake --executor cluster-generic \
        --cluster-generic-submit-cmd "python tests/e2e/cluster/submit.py" \
        --cluster-generic-status-cmd "python tests/e2e/cluster/status.py" --jobs 2

Snakemake calls it with the path of a job script; it starts the script as a separate
background process in its own session (as a scheduler would: the job shares only the
filesystem with Snakemake, no memory, no pipes) and prints a job id at once. When the
script ends, its exit code is written to <state>/<id>.rc, which status.py reads. The
state folder is $KVINNOFRID_CLUSTER_STATE, or .snakemake/local-cluster in the folder
Snakemake runs in.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

# Run the job, then publish its exit code atomically (status.py never sees half a file).
RUN_AND_RECORD = 'sh "$1"; code=$?; echo "$code" > "$2.tmp" && mv "$2.tmp" "$2"'


def state_folder() -> Path:
    return Path(os.environ.get("KVINNOFRID_CLUSTER_STATE", ".snakemake/local-cluster"))


def main(argv: list[str]) -> int:
    if len(argv) < 1:
        print("användning: submit.py JOBBSKRIPT", file=sys.stderr)
        return 2
    jobscript = argv[-1]
    state = state_folder()
    state.mkdir(parents=True, exist_ok=True)
    job_id = f"local-{uuid.uuid4().hex[:12]}"
    with open(state / f"{job_id}.log", "wb") as log:
        subprocess.Popen(
            ["/bin/sh", "-c", RUN_AND_RECORD, "job", jobscript, str(state / f"{job_id}.rc")],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    print(job_id)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
