"""Resuming an interrupted run: the plain rerun a user types must finish it.

A run stopped with Ctrl-C leaves the outputs of the jobs that were running marked
*incomplete* (Snakemake's markers under ``.snakemake/incomplete/``, one file per
output, named by the output path in URL-safe base64, split into ``@``-prefixed
segments when long). Snakemake then refuses a plain rerun (``IncompleteFilesException``)
unless ``--rerun-incomplete`` is given. The Snakefile calls ``clear_interrupted`` while
it is parsed: it empties those half-written outputs, dates them to 1970 and removes their
markers, so the jobs that made them run again — what ``--rerun-incomplete`` does,
without a flag. Emptied and aged rather than deleted: a deleted intermediate output
whose downstream outputs are still there (an interrupted rerun of one rule in a
finished folder) would not be made again, while an output older than its inputs is.

Nothing is touched while a lock is held (``.snakemake/locks/`` not empty): another run
may be writing those outputs right now, or a killed run left its lock, and then
Snakemake's own message (``--unlock``) is the right one.
"""

from __future__ import annotations

import base64
import binascii
import os
import shutil
from pathlib import Path

MIGRATION_MARKER = "migration_underway"


def _decode(marker: Path, incomplete: Path) -> Path | None:
    parts = marker.relative_to(incomplete).parts
    encoded = "".join(p.removeprefix("@") for p in parts)
    try:
        return Path(base64.urlsafe_b64decode(encoded.encode()).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def _markers(workdir: Path) -> list[tuple[Path, Path]]:
    """(marker, output) for every output an interrupted run left half-written; none
    while a lock is held."""
    state = Path(workdir) / ".snakemake"
    incomplete = state / "incomplete"
    locks = state / "locks"
    if not incomplete.is_dir() or (locks.is_dir() and any(locks.iterdir())):
        return []
    found = []
    for marker in sorted(p for p in incomplete.rglob("*") if p.is_file() and p.name != MIGRATION_MARKER):
        output = _decode(marker, incomplete)
        if output is not None:
            found.append((marker, output))
    return found


def interrupted_outputs(workdir: Path) -> list[Path]:
    """The outputs an interrupted run left half-written (empty while a lock is held)."""
    return [output for _, output in _markers(workdir)]


def clear_interrupted(workdir: Path) -> list[Path]:
    """Empty and age the half-written outputs of an interrupted run and remove their
    markers, so that the jobs that write them run again. Returns the outputs cleared
    (paths as marked)."""
    workdir = Path(workdir)
    cleared = []
    for marker, output in _markers(workdir):
        target = output if output.is_absolute() else workdir / output
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
            target.mkdir()
            os.utime(target, (0, 0))
        elif target.is_symlink():
            target.unlink()
        elif target.exists():
            target.write_bytes(b"")
            os.utime(target, (0, 0))
        marker.unlink()
        cleared.append(output)
    return cleared
