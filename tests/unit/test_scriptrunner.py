import logging
from pathlib import Path
from types import SimpleNamespace

import pytest

from kvinnofrid import scriptrunner
from kvinnofrid.errors import UserFacingError


@pytest.fixture(autouse=True)
def _restore_logging():
    # run() sets up the root logger for a job's process; leave the test session's as it was
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:], root.level = handlers, level


def _job(tmp_path, rule="clean"):
    return SimpleNamespace(rule=rule, log=[str(tmp_path / "logs" / f"{rule}.log")])


def test_a_job_that_succeeds_ends_its_log_with_its_rule_and_cpu_time(tmp_path):
    def busy(_):
        sum(i * i for i in range(300_000))  # some CPU time of its own

    job = _job(tmp_path)
    before = scriptrunner.cpu_seconds()
    scriptrunner.run(busy, job)
    after = scriptrunner.cpu_seconds()
    rule, seconds = scriptrunner.job_cpu(Path(job.log[0]).read_text(encoding="utf-8"))
    assert rule == "clean"
    # the process's time when the job ended, written with one decimal
    assert before - 0.05 <= seconds <= after + 0.05 and after > before


@pytest.mark.parametrize("error", [UserFacingError("Filen x.csv saknar kolumnen Klient."), ValueError("K-123")])
def test_a_job_that_fails_has_no_cpu_line_and_keeps_the_value_out(tmp_path, error):
    def fails(_):
        raise error

    job = _job(tmp_path, "compile")
    with pytest.raises(SystemExit) as stopped:
        scriptrunner.run(fails, job)
    assert stopped.value.code == 1
    text = Path(job.log[0]).read_text(encoding="utf-8")
    assert scriptrunner.job_cpu(text) is None  # the benchmark counts no time for a job that did not end
    assert ("K-123" not in text) if isinstance(error, ValueError) else ("saknar kolumnen Klient" in text)


def test_the_last_cpu_line_of_a_log_counts():
    text = "INFO regeln tables klar: CPU-tid 1.5 s\nINFO annat\nINFO regeln tables klar: CPU-tid 12.0 s\n"
    assert scriptrunner.job_cpu(text) == ("tables", 12.0)
    assert scriptrunner.job_cpu("INFO regeln tables klar: CPU-tid s\n") is None
