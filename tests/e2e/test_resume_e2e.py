"""A run stopped by a signal is finished by the plain rerun (profiles/default: rerun-incomplete).

The tiny .test run is started as a user starts it and stopped at several moments, by
the signals users and machines send: Ctrl-C (SIGINT to the whole process group, as a
terminal sends it), SIGTERM to the process group (systemd, a batch scheduler, `kill --
-PGID`) and SIGKILL (`kill -9`, the out-of-memory killer) while the slow `figures` job
has written part of its diagrams, and SIGTERM to Snakemake alone (`kill PID`,
`timeout`) just after a job has finished: one run stopped in these four ways in turn,
each time started again by the same command. That command must each time get past
what the last stop left and go on, redo what was cut off and, the last time, build
every output; a third run must then find nothing to do. Nothing here reads Snakemake's private `.snakemake/` folder: the
moments are seen in the outputs and in the benchmark files (written when a job ends).

Snakemake 9.27.1 can deadlock on SIGTERM (docs/upstream/snakemake-sigterm-deadlock.md).
When it does not exit, the test does what the user guide says (docs/anvandarguide.md, interrupted
runs): kill it, `--unlock`, and the plain rerun, which must then finish the run.
Everything is bounded in time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from support.paths import ROOT, TINY_CONFIG

from kvinnofrid.spec.diagrams import load_registry

pytestmark = pytest.mark.e2e

BUDGET_S = 600  # one scenario: the interruptions, the rerun and the check
EXIT_AFTER_SIGNAL_S = 90  # SIGTERM lets the running job finish (figures: ~30 s)
# Snakemake alive with no job process for this long after SIGTERM is the deadlock: it
# starts no job after SIGTERM, and one that waits for nothing exits within a second.
IDLE_HANG_S = 10
FIGURES = 2 * len(load_registry().diagrams)  # png and svg of every diagram


def _command(*extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--configfile",
        str(TINY_CONFIG),
        "--cores",
        "2",
        *extra,
    ]


def _start(workdir: Path, log: Path, *extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "KVINNOFRID_PSEUDONYM_KEY"}
    with log.open("w") as out:  # a file, not a pipe: a full pipe would stall Snakemake
        return subprocess.Popen(
            _command(*extra), cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _run(workdir: Path, log: Path, deadline: float, *extra: str) -> int:
    run = _start(workdir, log, *extra)
    try:
        return run.wait(timeout=max(deadline - time.monotonic(), 1))
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
        pytest.fail(f"snakemake {' '.join(extra)} did not finish within the time budget:\n{log.read_text()[-3000:]}")


def _has_children(pid: int) -> bool:
    """Whether the process has a live child (a job) now, from /proc (Linux)."""
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += (task / "children").read_text().split()
        except OSError:  # the thread ended meanwhile
            continue
    for child in children:
        try:
            state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            return True
    return False


def _wait_for_exit(run: subprocess.Popen, sig: signal.Signals) -> int | None:
    """The exit code, or None when Snakemake hangs: it has not exited within
    EXIT_AFTER_SIGNAL_S, or (SIGTERM) it has run no job for IDLE_HANG_S."""
    deadline = time.monotonic() + EXIT_AFTER_SIGNAL_S
    idle_since = None
    while time.monotonic() < deadline:
        if run.poll() is not None:
            return run.returncode
        if sig == signal.SIGTERM and not _has_children(run.pid):
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > IDLE_HANG_S:
                return None
        else:
            idle_since = None
        time.sleep(0.2)
    return None


def _figures(workdir: Path) -> int:
    return len(list((workdir / "results" / "figures").glob("diagram_*")))


def _benchmarks(workdir: Path) -> int:
    return len(list((workdir / "logs" / "benchmarks").rglob("*.tsv")))


def _figures_since(workdir: Path, started_ns: int) -> int:
    """Diagram files written by this run (a stopped run before it may have left some)."""
    written = 0
    for path in (workdir / "results" / "figures").glob("diagram_*"):
        try:
            written += path.stat().st_mtime_ns >= started_ns
        except FileNotFoundError:  # removed by Snakemake before it redoes the job
            continue
    return written


MOMENTS = {
    # the figures job of this run has written some of its diagrams, not all
    "figures half written": lambda workdir, before, started: 0 < _figures_since(workdir, started) < FIGURES,
    # a job has just finished (its benchmark file is written as it ends)
    "a job just finished": lambda workdir, before, started: _benchmarks(workdir) > before,
}


def _stop(workdir: Path, log: Path, moment: str, sig: signal.Signals, group: bool, deadline: float) -> bool:
    """Start the run, send ``sig`` (to its process group or to Snakemake alone) at
    ``moment`` and wait for the exit. False when Snakemake hung and was killed, after
    which the user guide's recovery (--unlock) has been done."""
    before = _benchmarks(workdir)
    started = time.time_ns()
    run = _start(workdir, log)
    while run.poll() is None and time.monotonic() < deadline and not MOMENTS[moment](workdir, before, started):
        time.sleep(0.05)
    if run.poll() is not None:
        pytest.fail(f"the run ended ({run.returncode}) before {moment}:\n{log.read_text()[-3000:]}")
    if time.monotonic() >= deadline:
        os.killpg(run.pid, signal.SIGKILL)
        pytest.fail(f"the run never reached the moment '{moment}'")
    if group:
        os.killpg(run.pid, sig)
    else:
        run.send_signal(sig)
    code = _wait_for_exit(run, sig)
    if code is None:
        assert sig == signal.SIGTERM, f"snakemake hung after {sig.name}:\n{log.read_text()[-3000:]}"
        warnings.warn(
            f"Snakemake hung after SIGTERM at '{moment}' (upstream deadlock); recovering as documented", stacklevel=2
        )
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
        assert _run(workdir, log.with_suffix(".unlock.log"), deadline, "--unlock") == 0
        return False
    assert code != 0, f"the run finished although it was stopped:\n{log.read_text()[-3000:]}"
    if sig == signal.SIGKILL:  # no cleanup: what the cut-off job wrote stays
        assert 0 < _figures_since(workdir, started) < FIGURES, "the run was not killed while it wrote the figures"
    return True


def _state(workdir: Path) -> dict[str, int]:
    """Every file the workflow writes (outside Snakemake's own .snakemake/), with its time."""
    return {
        p.relative_to(workdir).as_posix(): p.stat().st_mtime_ns
        for folder in ("results", "interim", "build", "logs")
        for p in (workdir / folder).rglob("*")
        if p.is_file()
    }


def _finish_and_check(workdir: Path, tmp_path: Path, deadline: float) -> None:
    log = tmp_path / "rerun.log"
    code = _run(workdir, log, deadline)
    output = log.read_text()
    assert code == 0, f"the plain rerun failed ({code}):\n{output[-4000:]}"
    assert "IncompleteFiles" not in output
    results = workdir / "results"
    assert (results / "report" / "rapport.pdf").stat().st_size > 0
    assert len(list((results / "tables").glob("diagram_[0-9][0-9].csv"))) == len(load_registry().diagrams)
    assert _figures(workdir) == FIGURES and all(f.stat().st_size > 0 for f in (results / "figures").glob("diagram_*"))
    assert (results / "facts.json").is_file() and (results / "nationellt" / "manifest.json").is_file()
    finished = _state(workdir)
    assert _run(workdir, tmp_path / "again.log", deadline) == 0
    assert _state(workdir) == finished, "a third run redid work: the rerun left something stale"


def test_a_run_stopped_again_and_again_is_finished_by_the_plain_rerun(tmp_path):
    """One run stopped four times, each time by the plain command typed again, and the
    last plain rerun finishes it: every stop leaves its own state behind (a job cut off,
    outputs half written, a lock), and each restart must get past it to the next stop.
    One chain instead of four runs from scratch: the same stops for a quarter of the time."""
    deadline = time.monotonic() + BUDGET_S
    workdir = tmp_path / "work"
    workdir.mkdir()
    # 1. SIGTERM to Snakemake alone (`kill PID`, `timeout`) the moment the first job ends
    _stop(workdir, tmp_path / "1-sigterm.log", "a job just finished", signal.SIGTERM, False, deadline)
    # 2. Ctrl-C (SIGINT to the process group, as a terminal sends it) during the figures;
    #    then a dry run and --lint change no file of the stopped run
    assert _stop(workdir, tmp_path / "2-ctrl-c.log", "figures half written", signal.SIGINT, True, deadline)
    state = _state(workdir)
    assert _run(workdir, tmp_path / "dry.log", deadline, "-n") == 0
    assert _run(workdir, tmp_path / "lint.log", deadline, "--lint") == 0
    assert _state(workdir) == state, "parsing the workflow changed files"
    # 3. SIGTERM to the process group (systemd, a batch scheduler, `kill -- -PGID`)
    _stop(workdir, tmp_path / "3-sigterm-group.log", "figures half written", signal.SIGTERM, True, deadline)
    # 4. kill -9 (a power cut, the out-of-memory killer): no cleanup, the lock stays, and
    #    the figures stay half written and marked incomplete
    assert _stop(workdir, tmp_path / "4-killed.log", "figures half written", signal.SIGKILL, True, deadline)
    assert _run(workdir, tmp_path / "locked.log", deadline) != 0
    assert "cannot be locked" in (tmp_path / "locked.log").read_text()  # Snakemake's own message
    assert _run(workdir, tmp_path / "unlock.log", deadline, "--unlock") == 0
    # without the workflow profile (rerun-incomplete) Snakemake refuses the plain rerun
    refused = _run(workdir, tmp_path / "refused.log", deadline, "-n", "--workflow-profile", "none")
    assert refused != 0 and "IncompleteFiles" in (tmp_path / "refused.log").read_text()
    _finish_and_check(workdir, tmp_path, deadline)


def test_an_interrupted_rerun_of_one_rule_in_a_finished_folder_is_finished_too(tiny_copy, tmp_path):
    """The later outputs (the report) are still there: the figures cut off by Ctrl-C must
    be redone all the same, and what depends on them after."""
    deadline = time.monotonic() + BUDGET_S
    workdir = tiny_copy.workdir
    log = tmp_path / "forced.log"
    started = time.time_ns()
    run = _start(workdir, log, "--forcerun", "figures")
    while run.poll() is None and time.monotonic() < deadline:
        # Snakemake removes the old diagrams before the job writes them again
        if 0 < _figures_since(workdir, started) < FIGURES:
            os.killpg(run.pid, signal.SIGINT)
            break
        time.sleep(0.05)
    assert run.wait(timeout=EXIT_AFTER_SIGNAL_S) != 0, f"the forced run was not interrupted:\n{log.read_text()[-3000:]}"
    _finish_and_check(workdir, tmp_path, deadline)
