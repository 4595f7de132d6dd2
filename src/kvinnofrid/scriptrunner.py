"""The one way Snakemake scripts run: log to the rule's log file, speak on errors.

Every script under ``scripts/`` ends with ``run(main)``. Its log lines go to the rule's
``log:`` file (and the console); a ``UserFacingError`` ends the job with its message
and no traceback; an unexpected exception is logged as a traceback *without* the
exception message (it might quote a data value, and logs must never hold personal
data) and the console says which log to read. A job that succeeds ends its log with its CPU
time (:func:`job_cpu` reads it back): Snakemake's ``benchmark:`` files sample a job's
processes, every 0.5 s and after 30 s every 30 s, so they miss much of a long job's.
"""

from __future__ import annotations

import logging
import re
import resource
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kvinnofrid.errors import UserFacingError

log = logging.getLogger("kvinnofrid")

_DONE = "regeln %s klar: CPU-tid %.1f s"
_DONE_LINE = re.compile(r"regeln (\S+) klar: CPU-tid ([0-9]+\.[0-9]) s$", re.M)


def _setup(log_path: str | None) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", handlers=handlers, force=True)
    # Library warnings (polars, plotnine, …) go through logging, so they reach the
    # job's log file and not only the console of the whole run.
    logging.captureWarnings(True)


def _redacted_traceback(error: BaseException) -> str:
    frames = traceback.format_tb(error.__traceback__)
    return "".join(frames) + f"{type(error).__module__}.{type(error).__name__} (meddelandet utelämnat)\n"


def cpu_seconds() -> float:
    """CPU time of this process so far and of the children it waited for (Quarto, …)."""
    usages = (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    return sum(u.ru_utime + u.ru_stime for u in usages)


def job_cpu(log_text: str) -> tuple[str, float] | None:
    """(rule, CPU seconds) from a job's log that :func:`run` ended; None otherwise."""
    found = _DONE_LINE.findall(log_text)
    return (found[-1][0], float(found[-1][1])) if found else None


def run(main: Callable[[Any], None], snakemake: Any) -> None:
    log_path = snakemake.log[0] if len(snakemake.log) else None
    _setup(log_path)
    try:
        main(snakemake)
    except UserFacingError as error:
        log.error("%s", error)
        sys.exit(1)
    except Exception as error:  # a bug: keep the user's data out of the message
        if log_path:
            with open(log_path, "a", encoding="utf-8") as handle:
                handle.write(_redacted_traceback(error))
        log.error(
            "Oväntat fel (%s) i regeln %s. Detaljer finns i %s. Rapportera gärna felet.",
            type(error).__name__,
            getattr(snakemake, "rule", "?"),
            log_path,
        )
        sys.exit(1)
    log.info(_DONE, getattr(snakemake, "rule", "?"), cpu_seconds())
