"""Finding the raw exports: which files exist, in which submission round.

The folder name under the raw-data folder is the round (its submission date); every
file in it is one unit's export. Each file gets a stable, ASCII id (``file_id``) for
the interim file names, because real export names contain spaces, å/ä/ö and dates.
The file name is otherwise not trusted: the unit is read from the file's content.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from kvinnofrid.spec.names import slug

ROUND_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# What operating systems and Excel leave beside the exports: never an export, never an error.
SYSTEM_FILE_NAMES = {"thumbs.db", "ehthumbs.db", "desktop.ini", ".ds_store", "icon\r"}
SYSTEM_FOLDER_NAMES = {"__macosx", ".git", ".svn"}


@dataclass(frozen=True)
class RawFile:
    round: str  # YYYY-MM-DD
    file_id: str
    path: Path

    @property
    def round_date(self) -> dt.date:
        return dt.date.fromisoformat(self.round)

    @property
    def shown(self) -> str:
        """``<round>/<path inside the round folder>``, as reports and quality pages name it."""
        folder = round_folder_of(self.path)
        inside = self.path.relative_to(folder).as_posix() if folder is not None else self.path.name
        return f"{self.round}/{inside}"


def round_folder_of(path: Path) -> Path | None:
    """The round folder (named by its date) that holds ``path``, sub-folders allowed."""
    return next((p for p in Path(path).parents if ROUND_PATTERN.match(p.name)), None)


@dataclass(frozen=True)
class SkippedFile:
    """A file in a round folder that is not an export (listed in the quality summary)."""

    round: str
    file: str  # path relative to the round folder
    reason: str  # Swedish, why it is not read


def not_an_export(path: Path) -> str | None:
    """Why ``path`` is no export (system file, lock file, hidden file), or None."""
    name = path.name
    if name.lower() in SYSTEM_FILE_NAMES:
        return "systemfil (skapas av Windows eller macOS), inte en export"
    if name.startswith("~$"):
        return "Excels låsfil (skapas när filen är öppen i Excel), inte en export"
    if name.startswith("._"):
        return "macOS-metadatafil, inte en export"
    if name.startswith("."):
        return "dold fil, inte en export"
    return None


def _round_files(folder: Path) -> tuple[list[Path], list[SkippedFile]]:
    """Every file under a round folder, sub-folders included (an unzipped download puts
    the exports one level down), split into candidate exports and skipped files."""
    exports: list[Path] = []
    skipped: list[SkippedFile] = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.lower() in SYSTEM_FOLDER_NAMES or part.startswith(".") for part in relative.parts[:-1]):
            if path.is_file():
                skipped.append(SkippedFile(folder.name, relative.as_posix(), "fil i en systemmapp, inte en export"))
            continue
        if not path.is_file():
            continue
        reason = not_an_export(path)
        if reason:
            skipped.append(SkippedFile(folder.name, relative.as_posix(), reason))
        else:
            exports.append(path)
    return exports, skipped


def _round_folders(data_raw: Path, cutoff: dt.date | None) -> list[Path]:
    """The round folders up to ``cutoff``. A sub-folder that is not a date is a located
    error, not silently skipped: a misnamed round would otherwise lose a whole submission."""
    if not data_raw.is_dir():
        raise FileNotFoundError(f"Mappen med rådata finns inte: {data_raw}")
    folders = []
    for folder in sorted(p for p in data_raw.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if folder.name.lower() in SYSTEM_FOLDER_NAMES:
            continue
        if not ROUND_PATTERN.match(folder.name):
            raise ValueError(f"{folder}: mappnamnet ska vara inskickningsdatumet ÅÅÅÅ-MM-DD (t.ex. 2023-10-10)")
        if cutoff is None or dt.date.fromisoformat(folder.name) <= cutoff:
            folders.append(folder)
    return folders


def survey(data_raw: Path, cutoff: dt.date | None = None) -> tuple[list[RawFile], list[SkippedFile]]:
    """Every export under ``data_raw/<YYYY-MM-DD>/`` (sub-folders included; rounds after
    ``cutoff`` left out), sorted by round and path, and the files that are not exports."""
    found: list[RawFile] = []
    skipped: list[SkippedFile] = []
    for folder in _round_folders(Path(data_raw), cutoff):
        exports, not_exports = _round_files(folder)
        skipped.extend(not_exports)
        used: set[str] = set()
        for path in exports:
            base = slug(path.relative_to(folder).as_posix()) or "fil"
            file_id, n = base, 2
            while file_id in used:  # two names with one slug
                file_id, n = f"{base}-{n}", n + 1
            used.add(file_id)
            found.append(RawFile(folder.name, file_id, path))
    return found, skipped


def discover(data_raw: Path, cutoff: dt.date | None = None) -> list[RawFile]:
    """The exports of ``survey`` (the files that are not exports left out)."""
    return survey(data_raw, cutoff)[0]
