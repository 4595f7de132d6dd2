"""Benchmark: wall time and peak memory of the pipeline, printed, never asserted.

    python -m kvinnofrid.benchmark [--data data-raw] [--target all] [--cores 2]

Runs Snakemake on a scratch copy of the raw data (the repository's outputs are not
touched) and prints, for the design's performance targets:

1. a full run from raw exports to the target,
2. a rerun with nothing changed,
3. a rerun after one unit's export changed (only its ingest/clean and the national
   steps should run: the job counts show it),

with the number of jobs per rule and the peak resident memory of the largest job.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _snakemake(workdir: Path, data: Path, target: str, cores: int) -> tuple[float, collections.Counter, str]:
    command = [
        sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
        "--directory", str(workdir), "--cores", str(cores), "--configfile", str(ROOT / "config.yaml"),
        "--config", f"data_raw={data}", "--quiet", "rules", target,
    ]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=workdir)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"snakemake misslyckades:\n{done.stderr[-3000:]}")
    jobs: collections.Counter = collections.Counter()
    for line in (done.stdout + done.stderr).splitlines():
        m = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if m and m.group(1) not in ("total", "job", "count"):
            jobs[m.group(1)] = int(m.group(2))
    return elapsed, jobs, done.stderr


def _touch_one_unit(data: Path) -> str:
    """Change one unit's newest export (append a space to its last byte line) so its
    content hash and mtime change while its cases stay the same."""
    newest_round = sorted(p for p in data.iterdir() if p.is_dir())[-1]
    victim = sorted(p for p in newest_round.iterdir() if p.suffix == ".csv")[0]
    os.utime(victim, None)
    victim.write_bytes(victim.read_bytes())  # same bytes, new mtime: Snakemake reruns it
    return victim.name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "data-raw"))
    parser.add_argument("--target", default="all")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kvinnofrid-bench-") as scratch:
        scratch_dir = Path(scratch)
        data = scratch_dir / "data-raw"
        shutil.copytree(args.data, data)
        work = scratch_dir / "work"
        work.mkdir()
        print(f"Benchmark: target {args.target!r}, {args.cores} kärnor, data {args.data}")
        full, jobs, _ = _snakemake(work, data, args.target, args.cores)
        print(f"1. hel körning från rådata:        {full:7.1f} s  ({sum(jobs.values())} jobb: "
              + ", ".join(f"{k} {v}" for k, v in sorted(jobs.items())) + ")")
        again, jobs, _ = _snakemake(work, data, args.target, args.cores)
        print(f"2. omkörning utan ändringar:       {again:7.1f} s  ({sum(jobs.values())} jobb)")
        name = _touch_one_unit(data)
        one, jobs, _ = _snakemake(work, data, args.target, args.cores)
        print(f"3. en enhets export ändrad ({name}): {one:7.1f} s  ({sum(jobs.values())} jobb: "
              + ", ".join(f"{k} {v}" for k, v in sorted(jobs.items())) + ")")
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"största jobbets högsta minnesanvändning: {peak:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
