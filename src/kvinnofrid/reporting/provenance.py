"""Provenance of a report: which inputs, code and configuration produced it.

Printed in the report's colophon so that a reader can tell exactly what a published
number rests on: SHA-256 of every raw export, the code version, a digest of the
configuration and the date of generation (``SOURCE_DATE_EPOCH`` when set, so that a
rebuild can reproduce the text byte for byte).
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


def code_version(root: Path | None = None) -> str:
    """Package version plus the git commit when the code runs from a checkout."""
    version = kvinnofrid.__version__
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=root or Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return version
    return f"{version} ({commit.stdout.strip()})" if commit.returncode == 0 and commit.stdout.strip() else version


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
    inputs = [{"file": name, "sha256": sha256_of(path)} for name, path in sorted(raw_files)]
    return {
        "generated": generation_date().isoformat(),
        "code_version": code_version(),
        "config_sha256": config_digest(config),
        "inputs": inputs,
        "rounds": sorted({name.split("/")[0] for name, _ in raw_files}),
        "period": [period[0].isoformat(), period[1].isoformat()],
        "cutoff": cutoff.isoformat(),
        "demo": (Path(data_raw) / DEMO_MARKER).is_file(),
        "population_source": population_source,
    }
