"""A real run stopped with Ctrl-C is finished by the plain rerun (kvinnofrid/resume.py).

The tiny .test run is started as a user starts it and interrupted once the slow
`figures` job has written some of its diagrams: SIGINT to the whole process group, as
Ctrl-C in a terminal sends it to Snakemake and the job it runs. That leaves outputs on
disk marked incomplete, which Snakemake on its own refuses to rerun without
--rerun-incomplete (IncompleteFilesException; a marked output not yet written is only
missing, so the interruption must land after the first file).
The same command typed again must say that the previous run was interrupted, redo
those jobs and build every output. Everything is bounded in time: a Snakemake that
hangs after the signal is killed and the test fails saying so.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, TINY_CONFIG

from kvinnofrid.resume import interrupted_outputs
from kvinnofrid.spec.diagrams import load_registry

pytestmark = pytest.mark.e2e

BUDGET_S = 170  # the whole test, interruption and rerun
EXIT_AFTER_SIGINT_S = 60
ATTEMPTS = 3  # interruptions tried before giving up (a signal between two jobs leaves nothing)
SLOW_RULE = "figures"  # about half a minute: the signal lands inside it


def _command(workdir: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(TINY_CONFIG),
        "--cores",
        "2",
        *extra,
        "all",
    ]


def _start(workdir: Path, log: Path, *extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "KVINNOFRID_PSEUDONYM_KEY"}
    with log.open("w") as out:  # a file, not a pipe: a full pipe would stall Snakemake
        return subprocess.Popen(
            _command(workdir, *extra),
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait(run: subprocess.Popen, seconds: float, what: str) -> int:
    try:
        return run.wait(timeout=max(seconds, 1))
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
        pytest.fail(f"snakemake hung {what} (no exit within {seconds:.0f} s); killed its process group")


def _marked(workdir: Path) -> list[Path]:
    """The outputs Snakemake marks incomplete (.snakemake/incomplete/: the path in URL-safe
    base64, split in @-prefixed segments when long) — also while the run holds its lock."""
    incomplete = workdir / ".snakemake" / "incomplete"
    if not incomplete.is_dir():
        return []
    markers = [m for m in incomplete.rglob("*") if m.is_file() and m.name != "migration_underway"]
    names = ("".join(p.removeprefix("@") for p in m.relative_to(incomplete).parts) for m in markers)
    return [Path(base64.urlsafe_b64decode(name).decode()) for name in names]


def _half_written(workdir: Path, log: Path, rule: str | None) -> bool:
    """Whether a running job (of ``rule``, if given) has written part of its outputs: the
    case Snakemake refuses to rerun on its own (a marked output that does not exist yet
    is simply missing)."""
    if rule is not None and f"rule {rule}:" not in log.read_text():
        return False
    return any((workdir / output).exists() for output in _marked(workdir))


def _interrupt(workdir: Path, log: Path, rule: str | None, deadline: float, *extra: str) -> int:
    """Start the run, send SIGINT to its process group once a job of ``rule`` (any job
    if None) has written part of its outputs, wait for the exit; the exit code."""
    run = _start(workdir, log, *extra)
    while run.poll() is None and time.monotonic() < deadline:
        if _half_written(workdir, log, rule):
            os.killpg(run.pid, signal.SIGINT)
            return _wait(run, min(EXIT_AFTER_SIGINT_S, deadline - time.monotonic()), "after Ctrl-C")
        time.sleep(0.1)
    if run.poll() is None:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
        pytest.fail(f"no job of {rule or 'any rule'} wrote part of its outputs within the time budget")
    return run.returncode


def test_a_run_stopped_with_ctrl_c_is_finished_by_the_plain_rerun(tmp_path):
    deadline = time.monotonic() + BUDGET_S
    workdir = tmp_path / "work"
    workdir.mkdir()
    left: list[Path] = []
    for attempt in range(ATTEMPTS):
        log = tmp_path / f"interrupted-{attempt}.log"
        code = _interrupt(workdir, log, SLOW_RULE if attempt == 0 else None, deadline)
        left = interrupted_outputs(workdir)
        if any((workdir / output).exists() for output in left):
            break
        assert code != 0, f"the run finished before it could be interrupted:\n{log.read_text()[-2000:]}"
    assert any((workdir / output).exists() for output in left), f"{ATTEMPTS} interruptions left no half-written output"
    assert code != 0
    locks = workdir / ".snakemake" / "locks"
    assert not (locks.is_dir() and any(locks.iterdir())), "the interrupted run left its lock behind"

    log = tmp_path / "rerun.log"
    rerun = _start(workdir, log)
    code = _wait(rerun, deadline - time.monotonic(), "in the rerun")
    output = log.read_text()
    assert code == 0, f"the plain rerun failed ({code}):\n{output[-4000:]}"
    assert "Förra körningen avbröts" in output
    assert "IncompleteFilesException" not in output
    assert interrupted_outputs(workdir) == []
    for path in left:
        assert (workdir / path).exists() and (workdir / path).stat().st_mtime > 0, f"{path} was not made again"
    results = workdir / "results"
    assert (results / "report" / "rapport.pdf").stat().st_size > 0
    assert len(list((results / "tables").glob("diagram_[0-9][0-9].csv"))) == len(load_registry().diagrams)
    assert (results / "facts.json").is_file()


def test_an_interrupted_rerun_of_one_rule_in_a_finished_folder_is_finished_too(tmp_path):
    """The later outputs (the report) are still there: the half-written figures must be
    redone all the same (a deleted intermediate output would not be)."""
    deadline = time.monotonic() + BUDGET_S + 90
    workdir = tmp_path / "work"
    workdir.mkdir()
    first = _start(workdir, tmp_path / "first.log")
    assert _wait(first, deadline - time.monotonic(), "in the first run") == 0
    code = _interrupt(workdir, tmp_path / "forced.log", SLOW_RULE, deadline, "--forcerun", SLOW_RULE)
    assert code != 0 and interrupted_outputs(workdir)
    rerun = _start(workdir, tmp_path / "rerun.log")
    assert _wait(rerun, deadline - time.monotonic(), "in the rerun") == 0
    figures = sorted((workdir / "results" / "figures").glob("diagram_*"))
    assert len(figures) == 54 and all(f.stat().st_size > 0 for f in figures)
