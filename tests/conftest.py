"""Shared fixtures: real Snakemake runs of the whole pipeline in scratch directories.

Two runs, each built once per test session and shared by every pytest-xdist worker
(the first worker to ask builds it under a lock, the others wait and read the same
folder), so ``pytest -n 2`` runs the demo workflow once, not once per worker. Tests see
exactly what a user's ``snakemake --cores all`` produces:

* ``pipeline_run``: the shipped demo exports and config.yaml, for the tests of the
  published numbers. Every test module gets its own copy of the run's work folder, so
  a module that runs more targets or reruns steps does not change what another sees.
  (``demo_run`` is the shared original: read it, never write to it.)
* ``tiny_run``: the tiny .test/config.yaml (2 units, 37 cases; only the required keys),
  the default target (every national output: tables, figures, report, quality pages,
  trend, Kolada) in about 30 s of CPU, for the tests of the plumbing. ``tiny_copy`` is
  a copy per test, for tests that modify it. (Not the unit reports: with two units in
  the country their tables cannot be protected, see .test/make_data.py.)

Where a test lives says what it is: tests/e2e/ and tests/backtest/ run the workflow,
a browser or a renderer and are marked ``e2e`` by their folder's conftest.py; nothing
else may be (see ``pytest_collection_modifyitems``).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable
from pathlib import Path


def _one_polars_thread() -> None:
    """One polars thread in a test process. pytest-xdist runs a worker per core, and
    the quick tier's ~170 000 polars queries are on frames of a few rows to a few
    thousand: a second thread only adds handing them over (about 15 % of the quick
    tier's time on 2 cores). The pool is built here, before any test; the variable is
    then removed again so the Snakemake runs of the e2e tests keep polars' default.
    A value the developer set is kept."""
    if "POLARS_MAX_THREADS" in os.environ:
        return
    os.environ["POLARS_MAX_THREADS"] = "1"
    import polars

    polars.thread_pool_size()  # builds the pool with the variable set
    del os.environ["POLARS_MAX_THREADS"]


_one_polars_thread()

import pytest  # noqa: E402
from support.paths import ROOT, TESTS, TINY_CONFIG  # noqa: E402
from support.workflow import PipelineRun, run_snakemake  # noqa: E402

SLOW_FOLDERS = ("e2e", "backtest")


def pytest_collection_modifyitems(config, items):
    """An e2e test outside tests/e2e/ or tests/backtest/ is in the wrong folder: the
    quick tier (-m "not e2e") stays quick because the layout says what is slow."""
    misplaced = [
        item.nodeid
        for item in items
        if item.get_closest_marker("e2e") and Path(item.path).relative_to(TESTS).parts[0] not in SLOW_FOLDERS
    ]
    if misplaced:
        raise pytest.UsageError(f"e2e tests belong in tests/e2e/ or tests/backtest/: {misplaced}")
    items[:] = _longest_first(items)


# The modules that take longest (a full run on 2026-12-07: each one to four minutes of
# CPU), started first, so that the two xdist workers end together: a long module given
# out last is a tail that one worker runs alone while the other waits. With
# --no-loadscope-reorder (pyproject.toml) xdist gives the modules out in this order.
LONGEST_FIRST = (
    "e2e/test_national_scale_e2e.py",
    "e2e/test_publishing_e2e.py",
    "e2e/test_quarto_e2e.py",
    "e2e/test_reruns_e2e.py",
    "e2e/test_resume_e2e.py",
    "e2e/test_cluster_e2e.py",
    "e2e/test_pipeline.py",
    "e2e/test_protection_e2e.py",
    "e2e/test_unit_report.py",
    "e2e/test_real_exports_e2e.py",
)


def _longest_first(items: list) -> list:
    """The items by xdist scope (``_scope``): LONGEST_FIRST, then the other slow folders'
    scopes, then the rest; within each, scopes with more tests first (xdist's own
    reordering), a scope's tests in their order."""
    modules = [Path(item.path).relative_to(TESTS).as_posix() for item in items]
    scopes = [_scope(f"tests/{module}") or module for module in modules]
    count = {scope: scopes.count(scope) for scope in set(scopes)}

    def rank(i: int) -> tuple[int, int, str]:
        if modules[i] in LONGEST_FIRST:
            return (0, LONGEST_FIRST.index(modules[i]), "")
        return (1 if modules[i].split("/")[0] in SLOW_FOLDERS else 2, -count[scopes[i]], scopes[i])

    order = sorted(range(len(items)), key=lambda i: (rank(i), i))
    return [items[i] for i in order]


def pytest_ignore_collect(collection_path: Path, config) -> bool | None:
    """The quick tier (exactly ``-m "not e2e"``) does not import tests/e2e/ and
    tests/backtest/: every test there is e2e by its folder, so all would be deselected,
    and importing them cost every xdist worker a second or more of its collection."""
    if " ".join(str(config.getoption("markexpr") or "").split()) != "not e2e":
        return None
    if collection_path.parent == TESTS and collection_path.name in SLOW_FOLDERS:
        return True
    return None


# The report tests that read the same in-process inputs (support.report_inputs: the demo
# and its variants, each protected once): one xdist scope, so that one worker builds them.
REPORT_INPUT_MODULES = {
    f"tests/unit/reporting/{name}.py"
    for name in ("test_by_size", "test_report_words", "test_text", "test_trend_report", "test_author_parts")
}


# The modules that read the demo's published documents (tests/e2e/conftest.py: mapped,
# quarto_out; session fixtures): one scope, so that one worker renders them once.
PUBLISHED_DOCUMENT_MODULES = {f"tests/e2e/{name}.py" for name in ("test_publishing_e2e", "test_quarto_e2e")}


# The modules that build a book from the demo's in-process inputs and drawn figures
# (tests/e2e/conftest.py: drawn_figures): one scope, so that one worker draws them once.
REPORT_BUILD_MODULES = {f"tests/e2e/{name}.py" for name in ("test_report_build", "test_author_parts")}


def _scope(module: str) -> str | None:
    """The xdist scope of a test module (its path from the root folder) where it is not
    the module itself."""
    if module in REPORT_INPUT_MODULES:
        return "report-inputs"
    if module in PUBLISHED_DOCUMENT_MODULES:
        return "published-documents"
    if module in REPORT_BUILD_MODULES:
        return "report-build"
    return None


def pytest_xdist_make_scheduler(config, log):
    """--dist loadscope with the report-input modules, the published-document modules
    and the report-build modules each as one scope (other modules as loadscope keeps
    them: a file per scope)."""
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class Scheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _scope(nodeid.split("::", 1)[0]) or super()._split_scope(nodeid)

    return Scheduling(config, log)


def _shared_run(tmp_path_factory, name: str, build: Callable[[Path], PipelineRun]) -> PipelineRun:
    """``build`` once for all xdist workers of this session (their base temp folders
    share a parent); without xdist, once for the session."""
    root = tmp_path_factory.getbasetemp().parent if _under_xdist(tmp_path_factory) else None
    if root is None:
        return build(tmp_path_factory.mktemp(name))
    record = root / f"{name}.json"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            run = build(root / name)
            record.write_text(json.dumps([run.stdout, run.stderr, run.seconds, str(run.data_raw)]), encoding="utf-8")
    stdout, stderr, seconds, data_raw = json.loads(record.read_text(encoding="utf-8"))
    return PipelineRun(root / name, Path(data_raw), stdout, stderr, seconds)


def _under_xdist(tmp_path_factory) -> bool:
    return "PYTEST_XDIST_WORKER" in os.environ


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> PipelineRun:
    """The default run on the demo data; use ``pipeline_run`` (a copy) in tests."""

    def build(workdir: Path) -> PipelineRun:
        workdir.mkdir(parents=True, exist_ok=True)
        done = run_snakemake(workdir)
        return PipelineRun(workdir, ROOT / "data-raw", done.stdout, done.stderr)

    return _shared_run(tmp_path_factory, "pipeline", build)


@pytest.fixture(scope="module")
def pipeline_run(demo_run, tmp_path_factory) -> PipelineRun:
    return demo_run.copy_to(tmp_path_factory.mktemp("pipeline-copy"))


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> PipelineRun:
    """The whole DAG on the tiny .test set; read only (``tiny_copy`` to modify)."""

    def build(workdir: Path) -> PipelineRun:
        workdir.mkdir(parents=True, exist_ok=True)
        start = time.monotonic()
        done = run_snakemake(workdir, "--", "all", configfile=TINY_CONFIG)
        return PipelineRun(workdir, ROOT / ".test" / "data-raw", done.stdout, done.stderr, time.monotonic() - start)

    return _shared_run(tmp_path_factory, "tiny", build)


@pytest.fixture
def tiny_copy(tiny_run, tmp_path) -> PipelineRun:
    return tiny_run.copy_to(tmp_path / "tiny")
