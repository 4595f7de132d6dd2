"""The workflow on a cluster: every rule as a separately submitted job, and the SLURM
profile's plan.

There is no SLURM here, so the jobs go through Snakemake's cluster-generic executor
with a local stand-in for sbatch (tests/e2e/cluster/submit.py: each job script a background
process in its own session, sharing only the filesystem with Snakemake) and for sacct
(tests/e2e/cluster/status.py). What a job needs but does not declare (a file another job
left outside its outputs, something held in Snakemake's memory) breaks here as it
would on a cluster; the outputs must equal a local run's byte for byte.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml
from support.paths import ROOT, TINY_CONFIG

pytestmark = pytest.mark.e2e


def job_stats(log: str) -> dict[str, int]:
    """Jobs per rule from the first `Job stats:` table Snakemake prints (a dry run's plan;
    the targets `all` and `kommuner` and the total left out)."""
    lines = log.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == "Job stats:"), None)
    jobs: dict[str, int] = {}
    for line in lines[start + 3 :] if start is not None else []:
        match = re.fullmatch(r"\s*(\w+)\s+(\d+)\s*", line)
        if not match:
            break
        if match.group(1) not in ("total", "all", "kommuner"):
            jobs[match.group(1)] = int(match.group(2))
    return jobs


PROFILE = ROOT / "workflow" / "profiles" / "slurm"
CLUSTER = ROOT / "tests" / "e2e" / "cluster"
UNIT, LAN = "arboga", "vastmanlands-lan"  # as tests/e2e/test_unit_report.py: a small unit, a län of three units


def _env(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KVINNOFRID_PSEUDONYM_KEY"}
    env["KVINNOFRID_CLUSTER_STATE"] = str(state)
    return env


def run_on_cluster(
    workdir: Path, state: Path, *targets: str, configfile: Path = TINY_CONFIG, extra: tuple[str, ...] = ()
) -> str:
    """Snakemake with the cluster-generic executor and the local submit/status scripts;
    its log (stdout and stderr). Fails the test when Snakemake fails."""
    workdir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(configfile),
        *extra,
        "--executor",
        "cluster-generic",
        "--cluster-generic-submit-cmd",
        f"{sys.executable} {CLUSTER / 'submit.py'}",
        "--cluster-generic-status-cmd",
        f"{sys.executable} {CLUSTER / 'status.py'}",
        "--jobs",
        "2",
        "--latency-wait",
        "30",
        "--seconds-between-status-checks",
        "1",
        "--",
        *targets,
    ]
    log = workdir.parent / f"{workdir.name}.log"
    with log.open("w") as out:  # a file, not a pipe
        code = subprocess.call(command, cwd=workdir, env=_env(state), stdout=out, stderr=subprocess.STDOUT)
    text = log.read_text(encoding="utf-8", errors="replace")
    assert code == 0, f"snakemake under cluster-generic failed ({code}):\n{text[-4000:]}"
    return text


def submitted_jobs(log: str) -> Counter:
    """Jobs per rule that Snakemake handed to the submit command (`Submitted job N`),
    the rule read from the job's block (`rule X:` … `jobid: N`)."""
    rule_of: dict[str, str] = {}
    rule = None
    for line in log.splitlines():
        header = re.match(r"^(?:local)?(?:rule|checkpoint) (\w+):$", line)
        if header:
            rule = header.group(1)
        jobid = re.match(r"^\s+jobid: (\d+)$", line)
        if jobid and rule:
            rule_of[jobid.group(1)] = rule
    return Counter(rule_of[n] for n in re.findall(r"^Submitted job (\d+) with external jobid", log, re.M))


def assert_every_job_ran_and_succeeded_as_its_own_process(state: Path, submitted: Counter) -> None:
    codes = [p.read_text().strip() for p in state.glob("*.rc")]
    assert len(codes) == sum(submitted.values()), "every submitted job ran through submit.py once"
    assert set(codes) == {"0"}


def tree_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_every_rule_of_the_default_target_runs_as_a_submitted_job_with_the_local_outputs(tiny_run, tmp_path):
    state = tmp_path / "jobs"
    log = run_on_cluster(tmp_path / "work", state, "all")
    planned = job_stats(log)
    submitted = submitted_jobs(log)
    assert {
        "clean",
        "compile",
        "quality",
        "tables",
        "figures",
        "report_text",
        "render_report",
        "kolada",
        "trend",
    } <= set(planned)
    assert submitted == Counter(planned), "every planned job was submitted, none ran inside Snakemake"
    assert_every_job_ran_and_succeeded_as_its_own_process(state, submitted)
    local, cluster = tree_of(tiny_run.results), tree_of(tmp_path / "work" / "results")
    assert sorted(cluster) == sorted(local)
    differing = [name for name in local if cluster[name] != local[name]]
    assert not differing, f"outputs differ from the local run: {differing[:10]}"


def test_the_unit_reports_checkpoint_and_its_jobs_run_as_submitted_jobs(pipeline_run, tmp_path):
    """unit_tables is a checkpoint: Snakemake reads its areas.json after the submitted job
    wrote it and only then submits the unit_report jobs. The demo run's national outputs
    are reused (copied) without the protected tables (the national bundle of the default
    target made them), so only the unit-table and unit-report rules run."""
    from support.workflow import run_snakemake

    targets = [f"results/kommuner/{slug}.{ext}" for slug in (UNIT, LAN) for ext in ("html", "pdf")]
    cluster = pipeline_run.copy_to(tmp_path / "cluster")
    shutil.rmtree(cluster.interim / "kommuner")
    state = tmp_path / "jobs"
    log = run_on_cluster(
        cluster.workdir,
        state,
        *targets,
        configfile=ROOT / "config.yaml",
        extra=("--config", f"data_raw={ROOT / 'data-raw'}"),
    )
    submitted = submitted_jobs(log)
    assert submitted == Counter({"unit_tables": 1, "unit_report": 2})
    assert_every_job_ran_and_succeeded_as_its_own_process(state, submitted)
    local = pipeline_run.copy_to(tmp_path / "local")
    run_snakemake(local.workdir, "--", *targets)
    for target in targets:
        assert (cluster.workdir / target).read_bytes() == (local.workdir / target).read_bytes(), target
    assert (cluster.interim / "kommuner" / "tables.parquet").read_bytes() == (
        local.interim / "kommuner" / "tables.parquet"
    ).read_bytes()


def _dry_run(workdir: Path, *options: str) -> str:
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(ROOT / "config.yaml"),
        "--config",
        f"data_raw={ROOT / 'data-raw'}",
        "-n",
        *options,
        "--",
        "all",
        "kommuner",
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=_env(workdir / "jobs"))
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout + done.stderr


def planned_resources(log: str) -> dict[str, dict[str, str]]:
    """Per rule, the resources the dry run shows for its first job."""
    found: dict[str, dict[str, str]] = {}
    rule = None
    for line in log.splitlines():
        header = re.match(r"^(?:local)?(?:rule|checkpoint) (\w+):$", line)
        if header:
            rule = header.group(1)
        resources = re.match(r"^\s+resources: (.*)$", line)
        if resources and rule and rule not in found:
            found[rule] = dict(item.split("=", 1) for item in resources.group(1).split(", "))
    return found


def test_the_slurm_profile_plans_every_rule_with_its_measured_resources(tmp_path):
    """`snakemake --profile workflow/profiles/slurm -n` needs the SLURM executor plugin
    installed, but no SLURM: the dry run plans without sbatch, sinfo or sacct."""
    profile = yaml.safe_load((PROFILE / "config.yaml").read_text(encoding="utf-8"))
    assert profile["executor"] == "slurm"
    slurm = _dry_run(tmp_path / "slurm", "--profile", str(PROFILE))
    local = _dry_run(tmp_path / "local", "--cores", "1")
    planned = job_stats(slurm)
    assert planned == job_stats(local), "the profile plans the same jobs as a local run"
    assert {"clean", "compile", "render_report", "kolada", "unit_tables"} <= set(planned)
    rules = set(planned) | {"unit_reports", "unit_workbooks"}  # planned once the checkpoint has run
    assert rules <= set(profile["set-resources"]), "every rule has resources measured for it"
    shown = planned_resources(slurm)
    for rule in planned:
        wanted = profile["set-resources"][rule]
        for key in ("mem_mb", "runtime", "cpus_per_task"):
            assert shown[rule][key] == str(wanted[key]), (rule, key, shown[rule])
