"""Provenance of a report: which inputs, code and configuration produced it.

The colophon (``report/kolofon.qmd.j2``) says it in a few lines: the source, the
period, the cut-off date, the program's version and commit, the backend that set the
document; the full record — SHA-256 of every raw export and of the configuration —
goes into ``provenance.json`` beside the report (``write_record``), where the colophon
points. The record's ``generated`` is the day of the run (``SOURCE_DATE_EPOCH`` when
set); the report itself is dated by its cut-off, so that the colophon never names a
day the title page contradicts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import kvinnofrid
from kvinnofrid.spec.names import DEMO_MARKER

RECORD_NAME = "provenance.json"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def config_digest(config: Mapping[str, Any]) -> str:
    """SHA-256 of the configuration as canonical JSON (key order does not matter)."""
    canonical = json.dumps(config, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _git(args: list[str], root: Path) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def code_identity(root: Path | None = None) -> dict[str, Any]:
    """``version`` of the package, and when it runs from a git checkout the ``commit``
    (12 hex digits) and whether tracked files differ from it (``modified``): a report
    made from changed code must not claim a commit's name alone."""
    root = root or Path(__file__).parent
    commit = _git(["rev-parse", "--short=12", "HEAD"], root)
    changes = _git(["status", "--porcelain", "--untracked-files=no"], root) if commit else None
    return {"version": kvinnofrid.__version__, "commit": commit or None, "modified": bool(changes)}


def code_version(root: Path | None = None) -> str:
    """Package version plus the git commit when the code runs from a checkout."""
    code = code_identity(root)
    if not code["commit"]:
        return code["version"]
    return f"{code['version']} ({code['commit']}{', ändrad' if code['modified'] else ''})"


def generation_date() -> dt.date:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).date()
    return dt.date.today()


def provenance(
    raw_files: Iterable[tuple[str, Path]],
    data_raw: Path,
    config: Mapping[str, Any],
    period: tuple[dt.date, dt.date],
    cutoff: dt.date,
    population_source: str | None = None,
) -> dict[str, Any]:
    """The provenance dict the text stage prints (keys documented in text.build_book).

    ``raw_files``: (name as shown, path) of every export used; ``population_source``:
    ``scb``, ``demo`` or None (Settings.population_source)."""
    raw_files = list(raw_files)
    inputs = [{"file": name, "sha256": sha256_of(path)} for name, path in sorted(raw_files)]
    code = code_identity()
    return {
        "generated": generation_date().isoformat(),
        "code_version": code_version(),
        "code": code,
        "config_sha256": config_digest(config),
        "inputs": inputs,
        "rounds": sorted({name.split("/")[0] for name, _ in raw_files}),
        "period": [period[0].isoformat(), period[1].isoformat()],
        "cutoff": cutoff.isoformat(),
        "demo": (Path(data_raw) / DEMO_MARKER).is_file(),
        "population_source": population_source,
    }


def write_record(provenance: Mapping[str, Any], path: Path) -> Path:
    """The full provenance as JSON (UTF-8, keys sorted, one input per line): the file
    the colophon links to, written into the report project and copied beside the PDF."""
    path = Path(path)
    path.write_text(json.dumps(provenance, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def completed_record(record: Mapping[str, Any], renderer: str, documents: Mapping[str, Path]) -> dict[str, Any]:
    """The record as published beside the report: plus the backend that set it and the
    SHA-256 of each document written (``documents``: file name → path), so a reader can
    check that a copy of the PDF is the one this run made."""
    return {
        **record,
        "renderer": renderer,
        "documents": [{"file": name, "sha256": sha256_of(path)} for name, path in sorted(documents.items())],
    }
